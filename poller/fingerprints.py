"""What one article says that another report of the same event would say too.

Two kinds of evidence, both pure functions of (title, text, lang):

- a MinHash of word 3-shingles of the normalised text, for near-duplicates in one language
  (wire copy reprinted, an article republished or updated under a new address);
- typed keys that survive translation between Russian and English: names reduced to a
  consonant skeleton that Russian and Latin spellings share ("Крупенько", "Крупенко",
  "Krupenko" → `nm:krpnk`), surnames that follow a first name or an initial (`per:`), first
  names (`fn:`) and whole names (`fio:srg.krpnk`), organisations named differently in each
  language (`org:fbk`), articles of law (`law:20.3.3`), money, prison terms and ages
  (`money:30000`, `term:2y`, `age:34`), dates (`date:0105`), years, other numbers, links,
  what the person does (`occ:teacher`) and where the post was (`net:vk`); a name that is a city also gives a place key
  (`geo:brnl`).

The keys of the headline and lead are kept apart (`lead_keys`), together with the stage of the
case the lead reports (`stage:case`, `stage:verdict`, `stage:appeal`), so that an arrest and a
verdict stay two stories.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from poller.summary import lead_sentences

NUM_PERM = 32
MINHASH_SEED = 1
SHINGLE = 3
MAX_TOKENS = 400  # the lead and a little more: enough for near-duplicates, cost stays bounded
KEY_TEXT_CHARS = 2000

_TRANSLIT = dict(
    zip(
        "абвгдежзийклмнопрстуфхцчшщыэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "y",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    ),
    ъ="",
    ь="",
)
_CASE_ENDINGS = sorted(
    [
        "ыми",
        "ими",
        "ого",
        "его",
        "ому",
        "ему",
        "ой",
        "ей",
        "ий",
        "ый",
        "ая",
        "яя",
        "ую",
        "юю",
        "ом",
        "ем",
        "ым",
        "им",
        "ах",
        "ях",
        "ам",
        "ям",
        "а",
        "я",
        "у",
        "ю",
        "е",
        "ы",
        "и",
        "о",
    ],
    key=len,
    reverse=True,
)
_LATIN_RULES = (
    ("x", "ks"), ("ph", "f"), ("w", "v"), ("q", "k"), ("ck", "k"), ("dzh", "dZ"),
    ("shch", "S"), ("sch", "S"), ("sh", "S"), ("zh", "Z"), ("kh", "h"), ("gh", "g"),
    ("ch", "C"), ("tz", "Q"), ("ts", "Q"),
)  # fmt: skip
_VOWELS = frozenset("aeiouyj")

_FIRST_NAMES_RU = """
александр алексей анатолий андрей антон аркадий арсений артем артур богдан борис вадим валентин
валерий василий виктор виталий владимир владислав вячеслав геннадий георгий герман глеб григорий
даниил данил денис дмитрий евгений егор иван игорь илья кирилл константин лев леонид максим
марат матвей михаил никита николай олег павел петр роман руслан семен сергей станислав степан
тимофей тимур федор филипп эдуард юрий яков ярослав азат айдар ильдар ринат рустам шамиль
александра алена алина алла анастасия ангелина анна антонина валентина валерия вера вероника
виктория галина дарья диана ева евгения екатерина елена елизавета жанна зоя инна ирина карина
кира кристина ксения лариса лидия любовь людмила маргарита марина мария надежда наталья нина
оксана олеся ольга полина раиса светлана софия таисия тамара татьяна ульяна юлия яна
"""
_FIRST_NAMES_LATIN = """
alexander alexandr aleksandr alexei alexey aleksei aleksey anatoly andrei andrey anton arseny
artyom artem boris vadim valentin valery vasily viktor victor vitaly vladimir vladislav
vyacheslav gennady georgy german gleb grigory daniil denis dmitry dmitri yevgeny evgeny yegor
igor ivan ilya kirill konstantin lev leonid maxim maksim mikhail nikita nikolai nikolay oleg
pavel pyotr petr roman ruslan semyon sergei sergey stanislav stepan timofei timur fyodor fedor
philip yuri yury yakov yaroslav alexandra alena alyona alina alla anastasia anna antonina
valentina valeria vera veronika victoria viktoria galina darya daria diana yevgenia evgenia
yekaterina ekaterina elena yelena elizaveta irina karina kira kristina ksenia larisa lidia
lyubov lyudmila margarita marina maria nadezhda natalya natalia nina oksana olesya olga polina
svetlana sofia tamara tatyana tatiana yulia yana john james michael david
"""
# Capitalised words that are not names: sentence openers, institutions, the country itself.
_NOT_NAMES_RU = """
а в во и к с со у о об от до по на за из при для без но да не ни же ли бы это этот эта эти
его ее их он она они мы вы я ты кто что как так там тут где когда если хотя после перед
однако кроме также тем потом затем ранее позже сейчас теперь сегодня вчера завтра утром вечером
всего более менее около почти лишь только уже еще ещё все весь всех каждый один одна двое
суд судья суды прокурор прокуратура следователь следствие полиция полицейский силовик
адвокат защита обвинение дело уголовный административный статья житель жительница
жителя жителей активист блогер журналист пользователь мужчина женщина студент пенсионер
россия рф российский россиянин москва кремль президент правительство госдума минюст мвд фсб
ск умвд гувд ук коап рбк тасс риа интерфакс новости фото видео источник
январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь
понедельник вторник среда четверг пятница суббота воскресенье
"""
_NOT_NAMES_EN = """
a an the and or but if in on at to of for from by with as after before during since
he she it they we you i his her its their our this that these those there here who what when
where why how which while however also then later earlier now today yesterday on
court courts judge prosecutor prosecutors police investigator investigators lawyer lawyers
defense defence case criminal administrative article articles code district regional city
supreme appeals appeal federal security service ministry interior committee investigative
office general prosecutor's state duma kremlin president government russia russian russians
rf moscow's mr mrs ms dr according police's meanwhile monday tuesday wednesday thursday friday
saturday sunday january february march april may june july august september october november
december jan feb mar apr jun jul aug sep sept oct nov dec photo video reuters ap afp tass ria
interfax news the moscow times meduza ovd info mediazona novaya gazeta bbc rbc
"""
# Cities where courts sit (not Moscow: too common to tell events apart). A name that is also a
# common first name or surname (Владимир, Королев, Пушкин) is left out.
_CITIES = """
петербург новосибирск екатеринбург казань новгород челябинск самара омск ростов красноярск
воронеж пермь волгоград краснодар саратов тюмень тольятти ижевск барнаул ульяновск иркутск
хабаровск ярославль владивосток махачкала томск оренбург кемерово новокузнецк рязань астрахань
челны пенза киров липецк чебоксары калининград курск сочи ставрополь тверь магнитогорск иваново
брянск белгород сургут архангельск тагил калуга смоленск якутск саранск череповец курган
вологда владикавказ подольск грозный мурманск тамбов стерлитамак петрозаводск кострома
нижневартовск новороссийск таганрог сыктывкар нальчик дзержинск братск ангарск благовещенск
псков бийск рыбинск армавир северодвинск абакан норильск уссурийск новочеркасск златоуст
альметьевск миасс керчь копейск пятигорск находка хасавюрт рубцовск майкоп коломна березники
кисловодск серпухов симферополь севастополь ялта евпатория феодосия магадан элиста черкесск
назрань биробиджан салехард кызыл клинцы тобольск печора воркута обнинск
"""
_EXONYMS = {
    "moscow": "москва",
    "crimea": "крым",
    "urals": "урал",
    "caucasus": "кавказ",
    "petersburg": "петербург",
    "st": "",
    "saint": "",
    "sankt": "",
    "санкт": "",
}

_WORD = re.compile(r"[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё'’]*")
_TOKEN = re.compile(r"[0-9a-zа-я]+")
_LINK = re.compile(r"(?:https?://|www\.|\bt\.me/)[^\s<>\"«»)]+", re.IGNORECASE)

_NUMBER_WORDS = {
    **dict.fromkeys(["один", "одного", "одному", "одним", "one", "a", "an"], 1.0),
    **dict.fromkeys(["два", "две", "двух", "двум", "two"], 2.0),
    **dict.fromkeys(["три", "трех", "трем", "three"], 3.0),
    **dict.fromkeys(["четыре", "четырех", "четырем", "four"], 4.0),
    **dict.fromkeys(["пять", "пяти", "five"], 5.0),
    **dict.fromkeys(["шесть", "шести", "six"], 6.0),
    **dict.fromkeys(["семь", "семи", "seven"], 7.0),
    **dict.fromkeys(["восемь", "восьми", "eight"], 8.0),
    **dict.fromkeys(["девять", "девяти", "nine"], 9.0),
    **dict.fromkeys(["десять", "десяти", "ten"], 10.0),
    **dict.fromkeys(["одиннадцать", "одиннадцати", "eleven"], 11.0),
    **dict.fromkeys(["двенадцать", "двенадцати", "twelve"], 12.0),
    **dict.fromkeys(["пятнадцать", "пятнадцати", "fifteen"], 15.0),
    **dict.fromkeys(["двадцать", "двадцати", "twenty"], 20.0),
    **dict.fromkeys(["тридцать", "тридцати", "thirty"], 30.0),
    **dict.fromkeys(["полтора", "полутора"], 1.5),
    **dict.fromkeys(["тысяча", "тысячу", "тысячи"], 1000.0),
}
_NUM = r"\d{1,3}(?:[ \u00a0\u202f,]\d{3})+(?![.,]?\d)|\d+(?:[.,]\d+)?"
_NUMBER_WORD = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_DIGITS = re.compile(r"(?<![\w.,])\d")
# These match lower-cased text, from where `_number_starts` found a number.
_AMOUNT = re.compile(
    rf"({_NUM}|{_NUMBER_WORD})(?:\s*|-)"
    r"(тыс\w*\.?|thousand|млн\.?|миллион\w*|million|млрд\.?|миллиард\w*|billion)?"
    r"(?:\s*|-)(руб\w*\.?|₽|roubles?|rubles?|rub\b)"
)
_TERM = re.compile(
    rf"(\d{{1,2}}(?:[.,]\d)?|{_NUMBER_WORD})(\s+с\s+половиной|\s+and\s+a\s+half)?(?:\s+|-)"
    r"(лет|год(?:а|ам|ами|у)?|years?|месяц\w*|months?|сут\w*|дн(?:ей|я)|days?|недел\w*|weeks?)"
    r"\b(?!-old)"
)
_AGE = re.compile(
    r"(\d{1,2})-(?:летн\w+|year-old)|\baged\s(\d{1,2})\b|[A-ZА-ЯЁ][\w’']+,\s(\d{2}),",
)
# "оштрафовали на 30 тысяч": Russian leaves the rubles implied after a fine
_FINE_IMPLIED = re.compile(
    rf"штраф\w*(?:\s+\S+){{0,6}}?\s+(?:на|в размере)\s+({_NUM}|{_NUMBER_WORD})\s*"
    r"(тыс\w*\.?|млн\.?|миллион\w*)(?!\s*руб)"
)
# Organisations named differently in each language; most other names transliterate
_ORGANISATIONS = (
    ("fbk", r"\bФБК\b|Фонд\w* борьбы с коррупцией|\bFBK\b|Anti-Corruption Foundation|"
            r"Navalny(?:'s)? foundation"),
    ("jw", r"Свидетел\w* Иеговы|Jehovah's Witnesses"),
    ("lgbt", r"ЛГБТ|LGBT"),
    ("crimean-bridge", r"Крымск\w* мост|Crimean Bridge|Kerch Bridge"),
    ("navalny-hq", r"штаб\w* Навального|Navalny(?:'s)? (?:headquarters|campaign offices)"),
    ("fsb", r"\bФСБ\b|\bFSB\b|Federal Security Service"),
    ("center-e", r"центр\w* «?Э»?|Center E\b|anti-extremism (?:center|police)"),
)  # fmt: skip
_ORGANISATION_PATTERNS = tuple(
    (key, re.compile(pattern.lower())) for key, pattern in _ORGANISATIONS
)
# Who was prosecuted, when a court's or the police's press release names nobody
_OCCUPATIONS = (
    ("teacher", r"учител|педагог|преподавател|воспитател|\bteacher|\beducator|\blecturer"),
    ("pensioner", r"пенсионер|\bpensioner|\bretiree"),
    ("doctor", r"\bврач|\bмедик|\bdoctor|\bphysician|\bparamedic"),
    ("nurse", r"медсестр|\bnurse"),
    ("priest", r"священник|\bpriest|\bclergyman"),
    ("student", r"студент|\bstudent"),
    ("schoolchild", r"школьни|старшеклассни|\bschoolboy|\bschoolgirl|\bpupil"),
    ("journalist", r"журналист|корреспондент|\bjournalist|\breporter|\bcorrespondent"),
    ("blogger", r"блогер|блоггер|\bblogger|\byoutuber"),
    ("lawyer", r"адвокат|\bюрист|\blawyer|\battorney"),
    ("deputy", r"депутат|\blawmaker|\bcouncillor|\bcouncilor|\blegislator|\bmunicipal deputy"),
    ("activist", r"активист|\bactivist"),
    ("artist", r"художни|\bartist|\bpainter"),
    ("musician", r"музыкант|\bmusician|\bsinger|певиц|певец|рэпер|\brapper"),
    ("soldier", r"военнослужащ|контрактник|\bsoldier|\bserviceman"),
    ("entrepreneur", r"предпринимател|бизнесмен|\bentrepreneur|\bbusiness(?:man|woman)"),
    ("programmer", r"программист|айтишник|\bprogrammer|\bit specialist"),
)
_OCCUPATION_PATTERNS = tuple((key, re.compile(pattern)) for key, pattern in _OCCUPATIONS)
# Where the post was: two unnamed reports of posts on different platforms are two cases
_PLATFORMS = (
    ("vk", r"вконтакте|\bвк\b|vkontakte|\bvk\b"),
    ("telegram", r"телеграм|telegram"),
    ("youtube", r"ютуб|youtube"),
    ("ok", r"одноклассник|odnoklassniki"),
    ("whatsapp", r"ватсап|вотсап|whatsapp"),
    ("instagram", r"инстаграм|instagram"),
    ("facebook", r"фейсбук|facebook"),
    ("tiktok", r"тикток|tiktok"),
)
_PLATFORM_PATTERNS = tuple((key, re.compile(pattern)) for key, pattern in _PLATFORMS)

_LAW_CONTEXT = re.compile(
    r"(?:\bст\.|\bстат\w*|\barticles?|\bart\.|\bsection)\s*"
    r"((?:\d{1,3}(?:\.\d{1,2}){0,2})(?:\s*(?:,|и|and|or|или)\s*\d{1,3}(?:\.\d{1,2}){0,2})*)"
)
_LAW_NUMBER = re.compile(r"\d{1,3}(?:\.\d{1,2}){0,2}")
_LAW_BARE = re.compile(r"(?<![\d.,])(\d{1,3}\.\d{1,2}(?:\.\d)?)(?![\d.]*\d)")
_LAW_BARE_EN = re.compile(r"(?<![\d.])(\d{1,3}\.\d{1,2}\.\d)(?![\d.]*\d)")  # 20.3.3, not 1.5
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(?:\d{4}|\d{2})\b")
_MONTHS_RU = ("январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр",
              "октябр", "ноябр", "декабр")  # fmt: skip
_MONTHS_EN = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DATE_RU = re.compile(
    r"\b(\d{1,2})(?:-го)?\s+"
    r"(январ|феврал|марта|апрел|мая|июн|июл|август|сентябр|октябр|ноябр|декабр)\w*"
)
_DATE_EN = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})\b"
    r"|\b(\d{1,2})\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b"
)
_YEAR = re.compile(r"(?<![\d.,])((?:19|20)\d{2})(?![\d.,]\d)")
_PLAIN_NUMBER = re.compile(rf"(?<![\w.,])({_NUM})(?![\w])")

_STAGES = (
    (
        "appeal",
        re.compile(
            r"апелляционн|кассационн|в апелляции|апелляци\w+ жалоб|отменил\w* (?:приговор|решение)|"
            r"смягчил|оставил\w* (?:приговор |решение |штраф )?в силе|"
            r"appeals? court|appellate|on appeal|rejected (?:an |the |his |her )?appeal|"
            r"overturn|upheld|quash|reduced (?:his|her|the) sentence",
        ),
    ),
    (
        "verdict",
        re.compile(
            r"пригов|осуд|оштраф|штраф|оправда(?!ни[еяию])|колони|лишени\w* свобод|условн\w* срок|"
            r"признал\w* виновн|на \d+ сут|\bsentenc|convict|\bfined?\b|\bfines\b|acquit|"
            r"penal colony|guilty|suspended|verdict|\bjailed|\d+ days in jail",
        ),
    ),
    (
        "case",
        re.compile(
            r"задерж|обыск|арест|возбуд|обвинени|предъяв|подозрева|протокол|завел\w* дело|"
            r"уголовн\w* дел|розыск|detain|search|raid|arrest|charged|charges|custody|"
            r"opened a (?:criminal )?case|launched a (?:criminal )?case|wanted list|suspect",
        ),
    ),
)

# "faces up to five years", "ему грозит штраф": a penalty that may come is not a verdict
_THREAT = re.compile(
    r"(?:грозит|грозят|грозить|может получить|faces?|facing|could face|could get)[^.\n]*"
)


@dataclass(frozen=True)
class Fingerprint:
    keys: frozenset[str]
    lead_keys: frozenset[str]  # keys of the headline and lead, and the stage they report
    minhash: bytes  # NUM_PERM little-endian uint32


def fingerprint(title: str, text: str, lang: str) -> Fingerprint:
    title = _clean(title)
    text = _clean(text)
    body = f"{title}\n{text[:KEY_TEXT_CHARS]}"
    found = _keys(body, names_from=len(title) if _is_title_case(title) else 0)
    lead_end = _lead_end(body, title, lead_sentences(title, text[:KEY_TEXT_CHARS], lang)[:2])
    lead_keys = {key for key, position in found.items() if position < lead_end}
    stage = case_stage(body[:lead_end])
    if stage:
        lead_keys.add(f"stage:{stage}")
    return Fingerprint(
        keys=frozenset(found), lead_keys=frozenset(lead_keys), minhash=text_minhash(title, text)
    )


def _lead_end(body: str, title: str, lead: list[str]) -> int:
    """Where the headline and the first two sentences that carry the news end in `body`."""
    end = len(title)
    for sentence in lead:
        position = body.find(sentence, end)
        if position < 0:
            break
        end = position + len(sentence)
    return end


def text_minhash(title: str, text: str) -> bytes:
    """A MinHash of the text's word 3-shingles: NUM_PERM little-endian uint32 minima.

    The same numbers as datasketch's MinHash (scheme "affine32", seed MINHASH_SEED, crc32 as
    the hash), computed without importing it: sketches stored before stay comparable.
    """
    tokens = _TOKEN.findall(f"{title} {text}".lower().replace("ё", "е"))[:MAX_TOKENS]
    if len(tokens) >= SHINGLE:
        shingles = {" ".join(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}
    else:
        shingles = set(tokens)
    if not shingles:
        return EMPTY_MINHASH
    hashes = np.fromiter(
        (zlib.crc32(shingle.encode()) for shingle in shingles), dtype=np.uint32, count=len(shingles)
    )
    permuted = _murmur_finalizer(hashes)[:, np.newaxis] * _PERMUTATION_A + _PERMUTATION_B
    return permuted.min(axis=0).astype("<u4").tobytes()


def _permutations(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The affine maps h -> a·h + b (mod 2³², a odd) that datasketch draws for this seed."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, count, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, count, dtype=np.uint32)
    return a, b


def _murmur_finalizer(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, which spreads the input hashes before permuting."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


_PERMUTATION_A, _PERMUTATION_B = _permutations(MINHASH_SEED, NUM_PERM)


def minhash_values(minhash: bytes) -> np.ndarray:
    return np.frombuffer(minhash, dtype="<u4")


EMPTY_MINHASH = b"\xff" * (4 * NUM_PERM)  # the sketch of a text without words


def estimated_jaccard(a: bytes, b: bytes) -> float:
    if len(a) != len(b) or a == EMPTY_MINHASH or b == EMPTY_MINHASH:
        return 0.0
    if a == b:
        return 1.0
    return float(np.count_nonzero(minhash_values(a) == minhash_values(b))) / NUM_PERM


def case_stage(lead: str) -> str | None:
    """The furthest stage of a case the lead reports: "appeal", "verdict" or "case"."""
    facts = _THREAT.sub(" ", lead.lower())
    for stage, pattern in _STAGES:
        if pattern.search(facts):
            return stage
    return None


def _clean(text: str) -> str:
    return (
        text.replace("ё", "е")
        .replace("Ё", "Е")
        .replace("\u00ad", "")
        .replace("’", "'")
        .replace("\u00a0", " ")
    )


def _keys(text: str, *, names_from: int = 0) -> dict[str, int]:
    """Every key of `text`, with where it first occurs."""
    lower = _lower(text)
    found = _number_keys(text, lower)
    for key, position in _name_keys(text[names_from:]).items():
        found.setdefault(key, position + names_from)
    for match in _LINK.finditer(text):
        link = _link(match.group(0))
        if link:
            found.setdefault(f"url:{link}", match.start())
    for kind, patterns in _NAMED_THINGS:
        for key, pattern in patterns:
            match = pattern.search(lower)
            if match:
                found.setdefault(f"{kind}:{key}", match.start())
    return dict(sorted(found.items(), key=lambda item: item[1]))


_NAMED_THINGS = (
    ("org", _ORGANISATION_PATTERNS),
    ("occ", _OCCUPATION_PATTERNS),
    ("net", _PLATFORM_PATTERNS),
)


def _lower(text: str) -> str:
    """Lower case, position for position (a few characters lengthen when lowered)."""
    lower = text.lower()
    return lower if len(lower) == len(text) else "".join(char.lower()[0] for char in text)


# Names


def _note(keys: dict[str, int], found: Iterable[str], position: int) -> None:
    for key in found:
        keys.setdefault(key, position)


def _name_keys(text: str) -> dict[str, int]:
    """Skeletons of capitalised words; a word opening a sentence counts only when it is a first
    name or the text also capitalises it mid-sentence (so "Суд", "Meanwhile" stay out)."""
    words = [
        (match, match.group(0).strip("'"))
        for match in _WORD.finditer(text)
        if match.group(0).strip("'")
    ]
    starts = [_is_sentence_start(text, match.start()) for match, _ in words]
    proper = {
        skeleton
        for (_, word), start in zip(words, starts, strict=True)
        if not start and _is_capitalised(word) and not _is_common(word)
        for skeleton in name_skeletons(word)
    }
    keys: dict[str, int] = {}
    expect_surname = False
    first_name: frozenset[str] = frozenset()
    for index, (match, word) in enumerate(words):
        if not _is_capitalised(word):
            expect_surname = False
            continue
        skeletons = name_skeletons(word)
        at = match.start()
        if _is_first_name(word):
            _note(keys, (f"fn:{s}" for s in skeletons if len(s) >= 2), at)
            expect_surname, first_name = True, skeletons
            continue
        if len(word) == 1:  # an initial: "А. Навальный", "A. Navalny"
            expect_surname = text[match.end() : match.end() + 1] == "."
            first_name = frozenset()
            continue
        if expect_surname and _is_patronymic(word) and _surname_follows(text, words, index):
            continue
        if expect_surname and _follows_directly(text, words[index - 1][0], match):
            # a surname after a first name may be short ("Ким", "Ли"): the context vouches for it
            surnames = [s for s in skeletons if len(s) >= 2]
            _note(keys, (f"{kind}:{s}" for s in surnames for kind in ("per", "nm")), at)
            # the whole name is far rarer than either part: it finds the report, not namesakes
            _note(keys, (f"fio:{f}.{s}" for f in first_name for s in surnames), at)
        elif not _is_common(word) and (not starts[index] or skeletons & proper):
            _note(keys, (f"nm:{s}" for s in skeletons if len(s) >= 3), at)
            _note(keys, (f"geo:{s}" for s in skeletons & _CITY_SKELETONS), at)
        expect_surname, first_name = False, frozenset()
    return keys


def _surname_follows(text: str, words: list[tuple[re.Match, str]], index: int) -> bool:
    """A capitalised word right after the patronymic, as in "Сергей Викторович Иванов"."""
    if index + 1 >= len(words):
        return False
    following, word = words[index + 1]
    return _is_capitalised(word) and _follows_directly(text, words[index][0], following)


def _is_capitalised(word: str) -> bool:
    return word[0].isupper() and not (len(word) > 1 and word.isupper())


def _follows_directly(text: str, previous: re.Match, current: re.Match) -> bool:
    """Only a space between them, or the period of an initial ("А. Навальный")."""
    gap = text[previous.end() : current.start()]
    if previous.end() - previous.start() == 1:
        return gap.strip(" .\u00a0") == ""
    return gap.strip(" \u00a0") == ""


def _is_sentence_start(text: str, position: int) -> bool:
    """Nothing but spaces and closing quotes between the start or a sentence end and here."""
    index = position - 1
    while index >= 0 and text[index] in " \t\u00a0\"'»”)":
        index -= 1
    return index < 0 or text[index] in ".!?…\n"


@lru_cache(maxsize=65536)
def name_skeletons(word: str) -> frozenset[str]:
    """Consonant skeletons of a name, the same for its Russian forms and Latin spellings."""
    lower = word.lower().replace("ё", "е").replace("'", "")
    if lower.endswith("s") and word.endswith("'s"):
        lower = lower[:-1]
    lower = _EXONYMS.get(lower, lower)
    if not lower:
        return frozenset()
    if _is_cyrillic(lower):
        stems = {_strip_case_ending(lower), lower.rstrip("аеиоуыэюяй")}
        return frozenset(_skeleton(_transliterate(stem)) for stem in stems if stem)
    return frozenset({_skeleton(lower)})


def _is_cyrillic(text: str) -> bool:
    if len(text) < 40:  # a word: its letters are all of one script
        return any("А" <= char <= "я" or char in "ёЁ" for char in text[:2])
    return _CYRILLIC.search(text) is not None


_CYRILLIC = re.compile("[а-яё]")


def _strip_case_ending(word: str) -> str:
    for ending in _CASE_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def _transliterate(word: str) -> str:
    return "".join(_TRANSLIT.get(char, char) for char in word)


def _skeleton(latin: str) -> str:
    word = "".join(char for char in latin if "a" <= char <= "z")
    for old, new in _LATIN_RULES:
        word = word.replace(old, new)
    word = re.sub(r"c(?=[eiy])", "Q", word).replace("c", "k")
    consonants = [char for char in word if char not in _VOWELS]
    collapsed = [char for i, char in enumerate(consonants) if i == 0 or char != consonants[i - 1]]
    return "".join(collapsed)


def _first_name_skeletons() -> frozenset[str]:
    names = set()
    for word in _FIRST_NAMES_RU.split():
        names |= name_skeletons(word)
    for word in _FIRST_NAMES_LATIN.split():
        names |= name_skeletons(word)
    return frozenset(names)


def _common_stems() -> frozenset[str]:
    stems = {_strip_case_ending(word) for word in _NOT_NAMES_RU.split()}
    stems |= set(_NOT_NAMES_RU.split())
    stems |= {word.removesuffix("s") for word in _NOT_NAMES_EN.split()}
    stems |= set(_NOT_NAMES_EN.split())
    return frozenset(stems)


_IRREGULAR_STEMS = {"павл": "павел", "льв": "лев", "петр": "петр"}
_CITY_SKELETONS = frozenset(
    skeleton for city in _CITIES.split() for skeleton in name_skeletons(city) if len(skeleton) >= 3
)
# Platforms are capitalised, so they give name keys too; they say where, not who
PLATFORM_SKELETONS = frozenset(
    skeleton
    for name in [
        "ВКонтакте",
        "VKontakte",
        "Телеграм",
        "Telegram",
        "Ютуб",
        "YouTube",
        "Одноклассники",
        "Odnoklassniki",
        "WhatsApp",
        "Instagram",
        "Инстаграм",
        "Facebook",
        "Фейсбук",
        "TikTok",
        "Тикток",
    ]
    for skeleton in name_skeletons(name)
)
_FIRST_NAME_FORMS_RU = frozenset(_FIRST_NAMES_RU.split())
_FIRST_NAME_FORMS_LATIN = frozenset(_FIRST_NAMES_LATIN.split())
_COMMON = _common_stems()


def _is_first_name(word: str) -> bool:
    lower = word.lower().replace("ё", "е")
    if _is_cyrillic(lower):
        return lower in _FIRST_NAME_FORMS_RU or any(
            _IRREGULAR_STEMS.get(stem, stem) + tail in _FIRST_NAME_FORMS_RU
            for ending in ("а", "я", "у", "ю", "ом", "ем", "ой", "ей", "е", "и", "ы", "ю")
            if lower.endswith(ending)
            for stem in (lower[: -len(ending)],)
            for tail in ("", "а", "я", "й", "ий", "ей", "ь")
        )
    return lower in _FIRST_NAME_FORMS_LATIN


def _is_patronymic(word: str) -> bool:
    return bool(_PATRONYMIC.search(word.lower()))


_PATRONYMIC = re.compile(r"(?:ович|евич|ич|овн|евн|ичн)\w{0,3}$|(?:ovich|evich|ovna|evna)$")


def _is_common(word: str) -> bool:
    lower = word.lower().replace("ё", "е")
    if _is_cyrillic(lower):
        return lower in _COMMON or _strip_case_ending(lower) in _COMMON
    return lower in _COMMON or lower.removesuffix("s") in _COMMON or lower.rstrip("'s") in _COMMON


def _is_title_case(title: str) -> bool:
    """English headline style ("Court Fines Blogger Over Repost"): its capitals say nothing."""
    words = [word for word in _WORD.findall(title) if len(word) >= 4]
    if _is_cyrillic(title.lower()) or len(words) < 3:
        return False
    return sum(1 for word in words if word[0].isupper()) / len(words) >= 0.8


# Numbers, dates, laws, links


def _number_keys(text: str, lower: str) -> dict[str, int]:
    """Laws, dates, money, terms, ages, years and other numbers, by where they occur."""
    keys: dict[str, int] = {}
    used = _Spans(len(text))

    def note(key: str, span: tuple[int, int]) -> None:
        keys.setdefault(key, span[0])
        used.add(span)

    for match in _LAW_CONTEXT.finditer(lower):
        for number in _LAW_NUMBER.findall(match.group(1)):
            keys.setdefault(f"law:{number}", match.start())
        used.add(match.span(1))
    for match in _NUMERIC_DATE.finditer(text):
        day, month = int(match.group(1)), int(match.group(2))
        if 1 <= day <= 31 and 1 <= month <= 12:
            note(f"date:{month:02d}{day:02d}", match.span())
    bare_law = _LAW_BARE if _is_cyrillic(lower) else _LAW_BARE_EN
    for match in bare_law.finditer(text):
        if not used.overlaps(match.span()):
            note(f"law:{match.group(1)}", match.span())
    starts = _number_starts(text, lower)
    for start in starts:
        match = None if used.overlaps((start, start + 1)) else _AMOUNT.match(lower, start)
        if match:
            value = _number(match.group(1)) * _multiplier(match.group(2))
            note(f"money:{_fmt(value)}", match.span())
    for match in _FINE_IMPLIED.finditer(lower):
        if not used.overlaps(match.span(1)):
            value = _number(match.group(1)) * _multiplier(match.group(2))
            note(f"money:{_fmt(value)}", match.span(1))
    for start in starts:
        match = None if used.overlaps((start, start + 1)) else _TERM.match(lower, start)
        if match:
            value = _number(match.group(1)) + (0.5 if match.group(2) else 0)
            unit = _term_unit(match.group(3))
            if unit:
                note(f"term:{_fmt(value)}{unit}", match.span())
    for match in _AGE.finditer(text):
        age = next(group for group in match.groups() if group)
        note(f"age:{int(age)}", match.span())
    for match in _DATE_RU.finditer(lower):
        note(f"date:{_month_ru(match.group(2)):02d}{int(match.group(1)):02d}", match.span())
    for match in _DATE_EN.finditer(lower):
        name, day = (match.group(1), match.group(2)) if match.group(1) else match.group(4, 3)
        if 1 <= int(day) <= 31:
            note(f"date:{_MONTHS_EN.index(name[:3]) + 1:02d}{int(day):02d}", match.span())
    for match in _YEAR.finditer(text):
        if not used.overlaps(match.span()):
            note(f"yr:{match.group(1)}", match.span())
    for match in _PLAIN_NUMBER.finditer(text):
        if not used.overlaps(match.span()):
            value = _number(match.group(1))
            if value >= 10 and value == int(value):
                keys.setdefault(f"num:{_fmt(value)}", match.start())
    return keys


def _number_starts(text: str, lower: str) -> list[int]:
    """Where a number begins, in digits or in words ("пять лет", "two years")."""
    starts = [match.start() for match in _DIGITS.finditer(text)]
    starts += [match.start() for match in _WORD.finditer(lower) if match.group(0) in _NUMBER_WORDS]
    return sorted(starts)


class _Spans:
    """Characters already read as some kind of number, so no other kind reads them again."""

    def __init__(self, length: int) -> None:
        self.mask = bytearray(length)

    def add(self, span: tuple[int, int]) -> None:
        self.mask[span[0] : span[1]] = b"\x01" * (span[1] - span[0])

    def overlaps(self, span: tuple[int, int]) -> bool:
        return 1 in self.mask[span[0] : span[1]]


def _number(text: str) -> float:
    lower = text.lower()
    if lower in _NUMBER_WORDS:
        return _NUMBER_WORDS[lower]
    digits = re.sub(r"[ \u00a0\u202f]", "", text)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", digits):
        digits = digits.replace(",", "")
    return float(digits.replace(",", "."))


def _multiplier(word: str | None) -> float:
    if not word:
        return 1.0
    lower = word.lower()
    if lower.startswith(("тыс", "thousand")):
        return 1e3
    if lower.startswith(("млн", "миллион", "million")):
        return 1e6
    return 1e9


def _term_unit(word: str) -> str | None:
    lower = word.lower()
    if lower.startswith(("лет", "год", "year")):
        return "y"
    if lower.startswith(("месяц", "month")):
        return "m"
    if lower.startswith(("сут", "дн", "day")):
        return "d"
    if lower.startswith(("недел", "week")):
        return "w"
    return None


def _month_ru(stem: str) -> int:
    lower = stem.lower()
    for index, prefix in enumerate(_MONTHS_RU):
        if lower.startswith(prefix):
            return index + 1
    return 0


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _link(raw: str) -> str | None:
    link = re.sub(r"^(?:https?://)?(?:www\.)?", "", raw.lower()).split("?")[0].rstrip("/.,;")
    return link if "/" in link or link.startswith("t.me") else None
