from __future__ import annotations

import zlib

import pytest

from poller.fingerprints import (
    _TOKEN,
    MAX_TOKENS,
    MINHASH_SEED,
    NUM_PERM,
    SHINGLE,
    case_stage,
    estimated_jaccard,
    fingerprint,
    name_skeletons,
    text_minhash,
)


@pytest.mark.parametrize(
    ("russian", "latin"),
    [
        ("Навального", "Navalny"),
        ("Ивановой", "Ivanova"),
        ("Екатеринбурге", "Yekaterinburg"),
        ("Цветков", "Tsvetkov"),
        ("Щербакова", "Shcherbakov"),
        ("Щербаков", "Scherbakov"),
        ("Жукову", "Zhukov"),
        ("Алексеем", "Alexei"),
        ("Михаила", "Mikhail"),
        ("Мединского", "Medinsky"),
        ("Крупенько", "Krupenko"),
        ("Ясинская", "Iasinskaia"),
        ("Москве", "Moscow"),
        ("Хабаровска", "Khabarovsk"),
        ("Ибрагима", "Ibragim"),
    ],
)
def test_russian_forms_and_latin_spellings_of_a_name_share_a_skeleton(
    russian: str, latin: str
) -> None:
    assert name_skeletons(russian) & name_skeletons(latin)


def test_different_names_stay_apart() -> None:
    assert not name_skeletons("Жуков") & name_skeletons("Зуев")
    assert not name_skeletons("Шевчук") & name_skeletons("Соколовский")


def test_a_russian_report_and_its_english_version_share_their_facts() -> None:
    russian = fingerprint(
        "Суд в Барнауле оштрафовал блогера Сергея Крупенько на 30 тысяч рублей",
        "Центральный районный суд Барнаула оштрафовал 34-летнего Сергея Крупенько на 30 000 "
        "рублей по ч. 1 ст. 20.3.3 КоАП РФ за репост, опубликованный 5 января.",
        "ru",
    )
    english = fingerprint(
        "Barnaul Court Fines Blogger Over Repost",
        "A court in Barnaul fined blogger Sergei Krupenko, 34, 30,000 rubles under Article "
        "20.3.3 of the Administrative Code over a repost he shared on Jan. 5.",
        "en",
    )
    expected = {
        "per:krpnk",
        "fio:srg.krpnk",
        "nm:brnl",
        "law:20.3.3",
        "money:30000",
        "age:34",
        "date:0105",
    }
    assert expected <= russian.keys & english.keys
    assert "stage:verdict" in russian.lead_keys & english.lead_keys


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("приговорил к шести годам колонии", "term:6y"),
        ("дали два с половиной года условно", "term:2.5y"),
        ("sentenced to five and a half years", "term:5.5y"),
        ("арестовали на 15 суток", "term:15d"),
        ("jailed for 15 days", "term:15d"),
        ("оштрафовали на 30 тысяч за репост", "money:30000"),
        ("fined 1.5 million rubles", "money:1500000"),
        ("штраф в размере 1 млн рублей", "money:1000000"),
        ("оштрафовали на тысячу рублей", "money:1000"),
        ("по статьям 280 и 282 УК", "law:282"),
        ("under Article 207.3 of the Criminal Code", "law:207.3"),
        ("по ст. 20.3.3 КоАП", "law:20.3.3"),
        ("a 28-year-old blogger", "age:28"),
        ("28-летнюю жительницу", "age:28"),
        ("опубликовал 12.03.2024", "date:0312"),
        ("on March 12", "date:0312"),
        ("12 марта", "date:0312"),
        ("a video by the Anti-Corruption Foundation", "org:fbk"),
        ("ролик ФБК", "org:fbk"),
        ("канал https://t.me/some_channel/123", "url:t.me/some_channel/123"),
        ("суд в Барнауле", "geo:brnl"),
        ("a court in Barnaul", "geo:brnl"),
    ],
)
def test_facts_become_the_same_key_in_either_language(text: str, key: str) -> None:
    assert key in fingerprint("", text, "ru").keys


def test_a_year_is_not_a_term_and_an_age_is_not_a_term() -> None:
    keys = fingerprint("", "В 2024 году 34-year-old activist was jailed", "en").keys
    assert "yr:2024" in keys and "age:34" in keys
    assert not any(key.startswith("term:") for key in keys)


def test_sentence_openers_and_headline_capitals_are_not_names() -> None:
    keys = fingerprint(
        "Court Fines Blogger Over Repost",
        "Meanwhile the court fined him. Суд вынес решение. Адвокат Павел Чиков обжалует.",
        "en",
    ).keys
    assert {key for key in keys if key.startswith(("nm:", "per:"))} == {"per:Ckv", "nm:Ckv"}


@pytest.mark.parametrize(
    ("lead", "stage"),
    [
        ("Суд приговорил блогера к двум годам колонии", "verdict"),
        ("В Казани задержали студента; ему грозит до пяти лет", "case"),
        ("Police detained him; he faces up to ten years in prison", "case"),
        ("Областной суд оставил в силе приговор", "appeal"),
        ("The appeals court upheld the sentence", "appeal"),
        ("Блогера оштрафовали; защита намерена обжаловать решение", "verdict"),
        ("Задержан программист, его подозревают в оправдании терроризма", "case"),
        ("Суд оправдал блогера", "verdict"),
        ("Погода в Москве", None),
    ],
)
def test_the_stage_of_the_case_comes_from_the_lead(lead: str, stage: str | None) -> None:
    assert case_stage(lead) == stage


def test_a_reprint_is_a_near_duplicate_and_another_story_is_not() -> None:
    text = (
        "Промышленный районный суд Самары приговорил 44-летнего Николая Фомина к трем годам "
        "колонии общего режима за повторную дискредитацию армии, сообщили в пресс-службе суда."
    )
    original = fingerprint("Самарца приговорили к трем годам", text, "ru")
    reprint = fingerprint(
        "Самарца приговорили к трем годам колонии", text + " Подписывайтесь!", "ru"
    )
    other = fingerprint("Другое", "Суд в Туле оштрафовал учительницу музыки за репост.", "ru")
    assert estimated_jaccard(original.minhash, reprint.minhash) >= 0.7
    assert estimated_jaccard(original.minhash, other.minhash) <= 0.2


def test_occupation_and_platform_become_keys_in_either_language() -> None:
    russian = fingerprint("В Томске педагога оштрафовали", "Штраф за пост во «ВКонтакте».", "ru")
    english = fingerprint("Tomsk teacher fined", "The fine was over a VKontakte post.", "en")
    for keys in (russian.keys, english.keys):
        assert {"occ:teacher", "net:vk"} <= keys


SKETCHED = [
    "Суд в Барнауле оштрафовал блогера на 30 тыс. рублей за репост записи во «ВКонтакте».",
    "Kazan pensioner fined over an eight-year-old repost of a song on VKontakte.",
    "Один два",
    "",
    "Слово " * 500,
]


@pytest.mark.parametrize("text", SKETCHED)
def test_our_minhash_is_datasketchs(text: str) -> None:
    """Sketches stored by earlier releases (made with datasketch) stay comparable."""
    datasketch = pytest.importorskip("datasketch")
    template = datasketch.MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED)
    tokens = _TOKEN.findall(f"Заголовок {text}".lower().replace("ё", "е"))[:MAX_TOKENS]
    shingles = {" ".join(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}
    theirs = datasketch.MinHash(
        num_perm=NUM_PERM,
        hashfunc=zlib.crc32,
        permutations=template.permutations,
        scheme=template.scheme,
    )
    theirs.update_batch([shingle.encode() for shingle in shingles or set(tokens)])
    assert text_minhash("Заголовок", text) == theirs.hashvalues.astype("<u4").tobytes()
