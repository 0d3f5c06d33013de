from __future__ import annotations

import pytest

from poller.summary import split_sentences, summarize


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        (
            "ru",
            "Суд назначил штраф по ч. 1 ст. 282 УК РФ. Решение вступит в силу через десять дней.",
            [
                "Суд назначил штраф по ч. 1 ст. 282 УК РФ.",
                "Решение вступит в силу через десять дней.",
            ],
        ),
        (
            "ru",
            "Активиста задержали в г. Барнаул. Его отпустили вечером.",
            ["Активиста задержали в г. Барнаул.", "Его отпустили вечером."],
        ),
        (
            "ru",
            "Речь шла о публикациях, т. е. о репостах. Суд изучил скриншоты, протоколы и т.д. Потом был перерыв.",
            [
                "Речь шла о публикациях, т. е. о репостах.",
                "Суд изучил скриншоты, протоколы и т.д.",
                "Потом был перерыв.",
            ],
        ),
        (
            "ru",
            "Обращение в поддержку подписал А. Навальный. Его зачитали в суде.",
            ["Обращение в поддержку подписал А. Навальный.", "Его зачитали в суде."],
        ),
        (
            "ru",
            "Дело ведет следователь А. А. Иванов. Он на связь не вышел.",
            ["Дело ведет следователь А. А. Иванов.", "Он на связь не вышел."],
        ),
        (
            "en",
            "He moved back from the U.S. in 2019. Mr. Petrov met Dr. Lee on Jan. 5 in room No. 3. "
            "The fine was 1.5 million rubles.",
            [
                "He moved back from the U.S. in 2019.",
                "Mr. Petrov met Dr. Lee on Jan. 5 in room No. 3.",
                "The fine was 1.5 million rubles.",
            ],
        ),
        (
            "ru",
            "Адвокат сказала: «Мы обжалуем решение. Оно незаконно». Суд с ней не согласился.",
            ["Адвокат сказала: «Мы обжалуем решение. Оно незаконно».", "Суд с ней не согласился."],
        ),
        (
            "ru",
            "«Это политическое дело!» — заявил он. Прокурор возразил.",
            ["«Это политическое дело!» — заявил он.", "Прокурор возразил."],
        ),
        (
            "en",
            '"We will appeal. The ruling is unlawful," the lawyer said. The court disagreed.',
            ['"We will appeal. The ruling is unlawful," the lawyer said.', "The court disagreed."],
        ),
        (
            "ru",
            "Штраф составил 30 тыс. рублей. Сумма 2,5 млн — рекорд? Нет! Первый абзац\nВторой абзац",
            [
                "Штраф составил 30 тыс. рублей.",
                "Сумма 2,5 млн — рекорд?",
                "Нет!",
                "Первый абзац",
                "Второй абзац",
            ],
        ),
    ],
)
def test_split_sentences_knows_abbreviations_initials_and_quotes(
    lang: str, text: str, expected: list[str]
) -> None:
    assert split_sentences(text, lang) == expected


def test_the_summary_skips_dateline_and_is_the_news_in_two_sentences() -> None:
    summary = summarize(
        "Суд в Барнауле оштрафовал блогера за репост",
        "БАРНАУЛ, 12 марта. /ТАСС/. Центральный районный суд Барнаула оштрафовал блогера "
        "Андрея Соколовского на 30 тыс. рублей по ч. 1 ст. 20.3.3 КоАП РФ. Поводом стал "
        "репост во «ВКонтакте». Соколовский вину не признал и собирается обжаловать решение "
        "в краевом суде, где его интересы будет представлять адвокат правозащитной организации.",
        "ru",
    )
    assert summary == (
        "Центральный районный суд Барнаула оштрафовал блогера Андрея Соколовского на 30 тыс. "
        "рублей по ч. 1 ст. 20.3.3 КоАП РФ. Поводом стал репост во «ВКонтакте»."
    )


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        (
            "Barnaul Blogger Fined Over Repost",
            "MOSCOW (Reuters) - A court in Barnaul fined a blogger 30,000 rubles. He denied it.",
            "A court in Barnaul fined a blogger 30,000 rubles. He denied it.",
        ),
        (
            "Blogger fined",
            "BARNAUL, Russia — A court fined a local blogger on Thursday. He will appeal.",
            "A court fined a local blogger on Thursday. He will appeal.",
        ),
        (
            "Учительницу оштрафовали",
            "Фото: Иван Петров / «Коммерсантъ»\nТекст: Анна Смирнова\nУчительницу из Тулы "
            "оштрафовали за репост двухлетней давности.\nЧитайте также: как штрафуют за лайки",
            "Учительницу из Тулы оштрафовали за репост двухлетней давности.",
        ),
        (
            "В Перми задержали тиктокера за видео",
            "В Перми задержали тиктокера за видео. Полицейские составили на него протокол о "
            "мелком хулиганстве. Об этом сообщает местное издание.",
            "Полицейские составили на него протокол о мелком хулиганстве.",
        ),
        (
            "Artist fined",
            "By Jane Roe\nPhoto: AP\nA St. Petersburg court fined an artist over drawings on "
            "Instagram. Read more: our coverage of the case",
            "A St. Petersburg court fined an artist over drawings on Instagram.",
        ),
    ],
)
def test_the_summary_drops_datelines_bylines_credits_leftovers_and_the_headline(
    title: str, text: str, expected: str
) -> None:
    assert summarize(title, text, "ru" if "а" in text else "en") == expected


def test_a_summary_never_exceeds_the_limit_and_ends_at_a_boundary() -> None:
    text = (
        "Суд приговорил жителя Казани к шести годам колонии по делу о фейках об армии. "
        "Поводом стали посты в его телеграм-канале, на который подписаны несколько тысяч "
        "человек. Защита обжалует приговор."
    )
    for limit in (60, 100, 140, 200, 300):
        summary = summarize("Заголовок", text, "ru", limit=limit)
        assert 0 < len(summary) <= limit
        assert summary.endswith((".", "…"))
        if summary.endswith("."):
            assert text.startswith(summary)  # whole sentences
        else:
            assert text.startswith(summary[:-1])  # a cut first sentence, at a word boundary
            assert text[len(summary) - 1] in " ,;:—"


def test_a_long_first_sentence_is_cut_at_a_clause() -> None:
    text = (
        "Суд признал виновным жителя города, который разместил в социальной сети публикацию, "
        "направленную на дискредитацию армии, и назначил ему штраф в размере 30 000 рублей."
    )
    summary = summarize("Заголовок", text, "ru", limit=120)
    assert (
        summary
        == "Суд признал виновным жителя города, который разместил в социальной сети публикацию…"
    )


def test_nothing_to_summarise_gives_an_empty_summary() -> None:
    assert summarize("Заголовок", "", "ru") == ""
    assert summarize("Суд оштрафовал блогера", "Суд оштрафовал блогера.", "ru") == ""
