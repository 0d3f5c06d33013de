"""The article inside a page: title, body text, date and author, without the page's clutter.

trafilatura finds the main text; a small post-filter then drops the paragraphs real ru/en news
pages wrap around it that trafilatura keeps (donation appeals, "read also" lists, cookie and
maintenance notes, share and subscribe prompts, the foreign-agent label). `extract_article` is
a plain top-level function of plain values so the poller can run it in a process pool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import trafilatura
from trafilatura.settings import Document

MIN_TEXT_CHARS = 200
"""Less body text than this is a teaser, a paywall or an error page: use the feed's text."""

MAX_BOILERPLATE_CHARS = 400
"""Clutter paragraphs are short; a longer paragraph that mentions a donation is journalism."""

MAX_HEADLINE_CHARS = 160
"""A line under a "read also" heading this short, without closing punctuation, is a link."""

MAX_LINK_LIST_LINES = 6
"""At most this many headline lines under a "read also" heading go with it."""


@dataclass(frozen=True)
class Extracted:
    title: str | None
    text: str
    published: datetime | None
    author: str | None


def extract_article(html: str, *, url: str | None = None) -> Extracted | None:
    """The article in `html`, or None when the page yields under MIN_TEXT_CHARS of text.

    trafilatura runs in its fast mode (its own extractor only); only when that finds too
    little does it run again with its fallback extractors (readability, jusText), which cost
    as much again but rescue pages with unusual markup.
    """
    for fast in (True, False):
        document = _trafilatura(html, url, fast=fast)
        if document is None or not document.text:
            continue
        title = _clean(document.title)
        text = _without_title_line(remove_boilerplate(document.text), title)
        if len(text) >= MIN_TEXT_CHARS:
            return _extracted(html, document, title, text)
    return None


def _trafilatura(html: str, url: str | None, *, fast: bool) -> Document | None:
    try:
        return trafilatura.bare_extraction(
            html,
            url=url,
            fast=fast,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            with_metadata=True,
        )
    except Exception:  # trafilatura raises assorted lxml/parser errors on hostile markup
        return None


def _extracted(html: str, document: Document, title: str | None, text: str) -> Extracted:
    return Extracted(
        title=title,
        text=text,
        published=published_date(html) or _parse_date(document.date),
        author=_author(document.author, document.sitename),
    )


# --- boilerplate ---------------------------------------------------------------------------

_I = re.IGNORECASE
_MONTHS = (
    r"(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
    r"|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)"
)
_TIME = r"\d{1,2}:\d{2}"

BOILERPLATE: dict[str, re.Pattern[str]] = {
    "donation appeal": re.compile(
        r"^(поддержите|поддержать|please support|help us|помогите нам|by supporting"
        r"|support (us|our|independent|free|meduza|the moscow times|ovd|mediazona)"
        r"|стань(те)? (донором|спонсором|патроном)|become a (member|patron|supporter|donor)"
        r"|make a (donation|contribution)|not ready to (support|donate))\b"
        r"|^support [^.!?]{0,40}!$|^a message from [^.!?]{0,40}:?$"
        r"|^(donate|донат|задонатить|пожертвовать|сделать пожертвование|contribute)"
        r"( now| today| сейчас)?\W*$"
        r"|\b(пожертвуйте|задонатьте|сделайте пожертвование|оформите (ежемесячн\w+ )?"
        r"(пожертвование|подписку))\b"
        r"|\b(we need|we rely on|depends? on) (your|readers'?)\s*(support|help|donations)"
        r"|\bнам (очень )?нужна ваша (помощь|поддержка)"
        r"|\b(ваша|your) (поддержка|support)\b.{0,30}\b(важна|нужна|matters|makes|is crucial"
        r"|keeps|helps)"
        r"|\b(работа\w+|существу\w+|живет|живем|живём) (только )?(без рекламы|благодаря "
        r"(вам|читателям|пожертвованиям|вашей поддержке))|пока вы нас поддерживаете"
        r"|\breaders?[- ]funded\b|\bfunded (entirely |only )?by (our )?readers",
        _I,
    ),
    "read also": re.compile(
        r"^(читайте|читать|смотрите) (также|еще|ещё|тоже)\b|^(read|see) (also|more)\b"
        r"|^(по теме|related( articles| stories| news)?|more on (this|the) (topic|story)"
        r"|другие материалы|материалы по теме|you (may|might) also (like|be interested))\W*$",
        _I,
    ),
    "cookie notice": re.compile(
        r"\bcookies?\b.*\b(use|uses|using|accept|agree|consent|continu\w*|policy)\b"
        r"|\b(use|uses|using|accept|agree|consent|continu\w*)\b.*\bcookies?\b"
        r"|(cookie|куки).*(использ|соглаш|согласи|продолжая|принять)"
        r"|(использ|соглаш|согласи|продолжая|принять).*(cookie|куки)",
        _I,
    ),
    "share buttons": re.compile(
        r"^(поделиться|поделитесь|share( this( article| story| page)?)?( on)?|скопировать ссылку"
        r"|copy link|ссылка скопирована|link copied|tweet|твитнуть)\b[^.!?]{0,60}$",
        _I,
    ),
    "subscription prompt": re.compile(
        r"^(подпишитесь|подписывайтесь|подписаться|subscribe|sign up|join us|следите за нами"
        r"|follow us|get (our|the) \w+ newsletter|читайте нас|наш (telegram|телеграм))\b"
        r"|\b(sign up|subscribe) (for|to) our \w*\s*(newsletter|telegram|channel|digest)"
        r"|\b(подпишитесь|подписывайтесь) на (наш\w* )?(telegram|телеграм|канал|рассылк|дайджест)"
        r"|\b(больше|все|главные) новост\w* (в|на) (нашем )?(telegram|телеграм|канале)"
        r"|\b(enter|введите) (your|ваш) (e-?mail|адрес)",
        _I,
    ),
    "maintenance banner": re.compile(
        r"\b(site|website) (is )?(currently )?(under|undergoing) (maintenance|construction)"
        r"|\b(ведутся|проводятся|идут) (плановые )?техническ\w+ работы"
        r"|\bсайт (временно )?(недоступен|работает в тестовом режиме|работает с перебоями)"
        r"|sorry for the inconvenience|приносим извинения за (временные )?неудобства",
        _I,
    ),
    "foreign agent label": re.compile(
        r"^(данное|настоящее|настоящий|этот) (сообщение|материал)\W*(\(материал\)\W*)?"
        r"(создан|распространен|произведен)\w*\b.{0,80}иностранн\w+ (агент|средств)",
        _I,
    ),
    "error report prompt": re.compile(
        r"(выделите|select) .{0,40}(ctrl|cmd)\s*\+\s*enter|нашли ошибку|found (a|an) (typo|error)",
        _I,
    ),
    "page furniture": re.compile(
        r"^(remind me later|scroll to top|back to top|наверх|load more|показать (еще|ещё)"
        r"|загрузить (еще|ещё)|print|версия для печати|all news|все новости"
        r"|(press \W*enter\W* to )?skip to (main )?content|перейти к (основному )?содержанию)\W*$"
        r"|^\d* ?(comments?|комментари[ийя])\W*\d*\W*$"
        r"|^(topics|tags|теги|темы|рубрик[аи])\s*:",
        _I,
    ),
    "date line": re.compile(
        rf"^({_TIME},?\s*)?\d{{1,2}}\.?\s*({_MONTHS}|\d{{2}})\.?\s*(\d{{4}})?"
        rf"(,?\s*(в\s*)?{_TIME})?\W*$"
        rf"|^{_MONTHS}\.? \d{{1,2}},? \d{{4}}(,?\s*{_TIME})?\W*$",
        _I,
    ),
}
"""Paragraph shapes that are never the story, by kind. Matched on lines of at most
MAX_BOILERPLATE_CHARS (the foreign-agent label is matched at any length)."""

APPEAL_OPENER = re.compile(
    r"^(dear readers|дорогие читатели|уважаемые читатели|a message from|обращение (редакции|к читателям)"
    r"|\W*we have a small favou?r to ask|before you go|прежде чем (вы )?уйти|у нас есть просьба)\b",
    _I,
)
"""The first line of a fund-raising letter; from there to the end of the text is the letter."""

APPEAL_TAIL_SHARE = 0.3
"""An opener counts as a letter's start only after this share of the text: a letter follows
the story (and may be longer than it); "Dear readers" at the top is more likely quoted."""

_ALWAYS_CLUTTER = frozenset({"foreign agent label"})

CUES: dict[str, tuple[str, ...]] = {
    "donation appeal": (
        "поддерж",
        "support",
        "help",
        "помоги",
        "помощь",
        "донор",
        "спонсор",
        "патрон",
        "member",
        "patron",
        "donor",
        "donat",
        "contribut",
        "донат",
        "пожертв",
        "подписк",
        "рекламы",
        "благодаря",
        "funded",
        "message from",
    ),
    "cookie notice": ("cookie", "куки"),
    "subscription prompt": (
        "подпи",
        "subscri",
        "sign up",
        "join us",
        "следите",
        "follow us",
        "newsletter",
        "читайте нас",
        "telegram",
        "телеграм",
        "канал",
        "mail",
        "адрес",
    ),
    "maintenance banner": (
        "maintenance",
        "construction",
        "техническ",
        "сайт",
        "inconvenience",
        "неудобств",
    ),
    "error report prompt": ("ctrl", "cmd", "ошибк", "typo", "error"),
}
"""Lower-case words one of which every match of the kind's pattern contains. Python's regex
engine is slow on unanchored alternations (~20 µs a line each); a substring test first makes
the filter ~20x cheaper. Kinds without cues have anchored, cheap patterns."""


def boilerplate_kind(paragraph: str) -> str | None:
    """Which kind of clutter `paragraph` is, or None if it may be part of the story."""
    line = paragraph.strip()
    lowered = line.lower()
    for kind, pattern in BOILERPLATE.items():
        if len(line) > MAX_BOILERPLATE_CHARS and kind not in _ALWAYS_CLUTTER:
            continue
        cues = CUES.get(kind)
        if cues is not None and not any(cue in lowered for cue in cues):
            continue
        if pattern.search(line):
            return kind
    return None


def remove_boilerplate(text: str) -> str:
    """`text` without clutter paragraphs, "read also" headline lists and closing appeals."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = lines[: _appeal_start(lines)]
    kept: list[str] = []
    links_left = 0  # headline lines still to drop under a "read also" heading
    for line in lines:
        if links_left and _looks_like_headline(line):
            links_left -= 1
            continue
        links_left = 0
        kind = boilerplate_kind(line)
        if kind == "read also":
            links_left = MAX_LINK_LIST_LINES if _is_heading(line) else 0
            continue
        if kind is None:
            kept.append(line)
    return "\n".join(kept)


def _appeal_start(lines: list[str]) -> int:
    """Index of the line where a closing fund-raising letter begins, else len(lines)."""
    total = sum(map(len, lines)) or 1
    seen = 0
    for index, line in enumerate(lines):
        if seen >= APPEAL_TAIL_SHARE * total and APPEAL_OPENER.search(line):
            return index
        seen += len(line)
    return len(lines)


def _is_heading(line: str) -> bool:
    return len(line) <= 40 and not line.endswith((".", "!", "?"))


def _looks_like_headline(line: str) -> bool:
    return len(line) <= MAX_HEADLINE_CHARS and not line.endswith((".", "!", "?", "…", ":", ";"))


# --- dates ---------------------------------------------------------------------------------

_DATE_PATTERNS = (
    # The page's own meta first: JSON-LD and <time> may also describe related articles.
    re.compile(
        r'<meta[^>]+(?:property|name|itemprop)\s*=\s*["\']'
        r'(?:article:published_time|datePublished|pubdate|publish[-_]date)["\'][^>]*?'
        r'content\s*=\s*["\']([^"\']{8,40})["\']',
        _I,
    ),
    re.compile(
        r'<meta[^>]+content\s*=\s*["\']([^"\']{8,40})["\'][^>]*?(?:property|name|itemprop)\s*=\s*'
        r'["\'](?:article:published_time|datePublished|pubdate|publish[-_]date)["\']',
        _I,
    ),
    re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"'),
    re.compile(r'<time[^>]+datetime\s*=\s*["\']([^"\']{8,40})["\']', _I),
)


def published_date(html: str) -> datetime | None:
    """The publication time a page declares (JSON-LD, article meta, <time>), timezone-aware."""
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(html):
            parsed = _parse_date(match.group(1))
            if parsed is not None:
                return parsed
    return None


def _parse_date(value: str | None) -> datetime | None:
    """ISO 8601 or RFC 2822 date or date-time; a date alone is midnight UTC, a naive time UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _without_title_line(text: str, title: str | None) -> str:
    """The body without the headline trafilatura keeps as its first line (it is in `title`)."""
    first, _, rest = text.partition("\n")
    return rest if title and _clean(first) == title else text


def _author(author: str | None, sitename: str | None) -> str | None:
    """trafilatura's "Site; Person" without the site: the outlet is not the author."""
    site = (sitename or "").casefold()
    people = [part for part in (_clean(p) for p in (author or "").split(";")) if part]
    return "; ".join(p for p in people if p.casefold() != site) or None


def _clean(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else ""
    return value or None
