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

import trafilatura

MIN_TEXT_CHARS = 200
"""Less body text than this is a teaser, a paywall or an error page: use the feed's text."""

MAX_BOILERPLATE_CHARS = 400
"""Clutter paragraphs are short; a longer paragraph that mentions a donation is journalism."""

MAX_HEADLINE_CHARS = 160
"""A line under a "read also" heading this short, without closing punctuation, is a link."""


@dataclass(frozen=True)
class Extracted:
    title: str | None
    text: str
    published: datetime | None
    author: str | None


def extract_article(html: str, *, url: str | None = None) -> Extracted | None:
    """The article in `html`, or None when the page yields under MIN_TEXT_CHARS of text."""
    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            fast=True,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            with_metadata=True,
        )
    except Exception:  # trafilatura raises assorted lxml/parser errors on hostile markup
        return None
    if document is None or not document.text:
        return None
    title = _clean(document.title)
    text = _without_title_line(remove_boilerplate(document.text), title)
    if len(text) < MIN_TEXT_CHARS:
        return None
    return Extracted(
        title=title,
        text=text,
        published=published_date(html) or _parse_date(document.date),
        author=_clean(document.author),
    )


# --- boilerplate ---------------------------------------------------------------------------

_I = re.IGNORECASE
BOILERPLATE: dict[str, re.Pattern[str]] = {
    "donation appeal": re.compile(
        r"^(поддержите|поддержать|support (us|our|independent|free|meduza|the moscow times|ovd)"
        r"|please support|help us|помогите нам|стань(те)? (донором|спонсором|патроном)"
        r"|become a (member|patron|supporter|donor)|make a (donation|contribution))\b"
        r"|^(donate|донат|задонатить|пожертвовать|сделать пожертвование)( now| сейчас)?\W*$"
        r"|\b(пожертвуйте|задонатьте|сделайте пожертвование|оформите (ежемесячн\w+ )?"
        r"(пожертвование|подписку))\b"
        r"|\b(we need|we rely on|depends? on) (your|readers'?) (support|help|donations)"
        r"|\bнам (очень )?нужна ваша (помощь|поддержка)"
        r"|\b(ваша|your) (поддержка|support) (важна|нужна|matters|is crucial|keeps)",
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
        r"|copy link|ссылка скопирована|link copied|tweet|твитнуть)\b.{0,60}$",
        _I,
    ),
    "subscription prompt": re.compile(
        r"^(подпишитесь|подписывайтесь|подписаться|subscribe|sign up|join us|следите за нами"
        r"|follow us|get (our|the) \w+ newsletter|читайте нас|наш (telegram|телеграм))\b"
        r"|\b(sign up|subscribe) (for|to) (our|the) \w*\s*(newsletter|telegram|channel|digest)"
        r"|\b(подпишитесь|подписывайтесь) на (наш\w* )?(telegram|телеграм|канал|рассылк|дайджест)"
        r"|\b(больше|все|главные) новост\w* (в|на) (нашем )?(telegram|телеграм|канале)"
        r"|\b(enter|введите) (your|ваш) (e-?mail|адрес)",
        _I,
    ),
    "maintenance banner": re.compile(
        r"\b(site|website) (is )?(currently )?(under|undergoing) (maintenance|construction)"
        r"|\b(ведутся|проводятся|идут) (плановые )?техническ\w+ работы"
        r"|\bсайт (временно )?(недоступен|работает в тестовом режиме|работает с перебоями)",
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
}
"""Paragraph shapes that are never the story, by kind. Matched on lines of at most
MAX_BOILERPLATE_CHARS (the foreign-agent label is matched at any length)."""

_ALWAYS_CLUTTER = frozenset({"foreign agent label"})
_CLOSING_PUNCTUATION = tuple(".!?…:;")


def boilerplate_kind(paragraph: str) -> str | None:
    """Which kind of clutter `paragraph` is, or None if it may be part of the story."""
    line = paragraph.strip()
    for kind, pattern in BOILERPLATE.items():
        if len(line) > MAX_BOILERPLATE_CHARS and kind not in _ALWAYS_CLUTTER:
            continue
        if pattern.search(line):
            return kind
    return None


def remove_boilerplate(text: str) -> str:
    """`text` without clutter paragraphs and the headline lists under "read also" headings."""
    kept: list[str] = []
    in_link_list = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if in_link_list and _looks_like_headline(line):
            continue
        in_link_list = False
        kind = boilerplate_kind(line)
        if kind == "read also":
            in_link_list = _is_heading(line)
            continue
        if kind is not None:
            continue
        kept.append(line)
    return "\n".join(kept)


def _is_heading(line: str) -> bool:
    return len(line) <= 40 and not line.endswith((".", "!", "?"))


def _looks_like_headline(line: str) -> bool:
    return len(line) <= MAX_HEADLINE_CHARS and not line.endswith(_CLOSING_PUNCTUATION)


# --- dates ---------------------------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"'),
    re.compile(
        r'<meta[^>]+(?:property|name|itemprop)\s*=\s*["\']'
        r'(?:article:published_time|datePublished|pubdate|publish[-_]date|date)["\'][^>]*?'
        r'content\s*=\s*["\']([^"\']{8,40})["\']',
        _I,
    ),
    re.compile(
        r'<meta[^>]+content\s*=\s*["\']([^"\']{8,40})["\'][^>]*?(?:property|name|itemprop)\s*=\s*'
        r'["\'](?:article:published_time|datePublished|pubdate|publish[-_]date)["\']',
        _I,
    ),
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
    """ISO 8601 date or date-time; a date alone is midnight UTC, a naive time is taken as UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _without_title_line(text: str, title: str | None) -> str:
    """The body without the headline trafilatura keeps as its first line (it is in `title`)."""
    first, _, rest = text.partition("\n")
    return rest if title and _clean(first) == title else text


def _clean(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else ""
    return value or None
