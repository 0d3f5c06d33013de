"""Feed bytes -> plain `FeedEntry` records. feedparser is handed bytes, never a URL.

The bytes are decoded here first, with the rules pages get (BOM, HTTP charset, XML
declaration, UTF-8, then windows-1251/KOI8-R), and handed on as UTF-8: feedparser reads
undeclared or mislabelled Cyrillic as windows-1252 and stores mojibake. A feed that is not
well-formed XML but still yields entries is used, its problem kept as a warning. Nothing
feedparser makes (FeedParserDict, struct_time) leaves this module.
"""

from __future__ import annotations

import calendar
import html
import re
import xml.sax
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import lxml.html
from lxml import etree

from poller.pages import decode_html

_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    ]
)
_DROP_TAGS = frozenset({"script", "style", "noscript", "template"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
# C0 controls other than tab/newline/CR, and DEL: invalid in XML, invisible, and they cut
# strings short in SQLite's text functions. Loose parsing lets them through from "&#0;".
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_NUMERIC_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));")
_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.I | re.S
)


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, in plain values; `summary` and `content` are plain text."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str  # the full body the feed carries (content:encoded, Atom content), or ""
    published: datetime | None
    author: str | None


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: tuple[FeedEntry, ...]
    warning: str | None = None  # a recoverable problem (bozo feed that still had entries)
    error: str | None = None  # set when nothing usable came out

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_feed(
    body: bytes, *, content_type: str | None = None, url: str | None = None
) -> ParsedFeed:
    """Parse RSS 0.9x/1.0/2.0 or Atom bytes; errors are returned in `ParsedFeed.error`."""
    if not body.strip():
        return ParsedFeed(title="", entries=(), error="not a feed: the response body is empty")
    utf8, utf8_type = as_utf8(body, content_type)
    headers = {"content-location": url or ""}
    if utf8_type:
        headers["content-type"] = utf8_type
    try:
        parsed = feedparser.parse(utf8, response_headers=headers, sanitize_html=True)
    except Exception as error:  # feedparser on hostile bytes: report, never crash a poll
        return ParsedFeed(
            title="", entries=(), error=f"not a feed: {type(error).__name__}: {error}"
        )
    reason = _bozo_reason(parsed)
    entries = tuple(_entry(item) for item in parsed.entries)
    title = _text(parsed.feed.get("title", ""))
    if not entries and _HTML_START.match(body[:4096]):
        return ParsedFeed(title=title, entries=(), error="not a feed: the server sent an HTML page")
    if not entries and reason and not _is_soft(parsed):
        return ParsedFeed(title=title, entries=(), error=f"not a feed: {reason}")
    if not entries and not _looks_like_feed(parsed):
        return ParsedFeed(
            title=title, entries=(), error="not a feed: no RSS or Atom document found"
        )
    return ParsedFeed(title=title, entries=entries, warning=reason)


def as_utf8(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """The feed re-encoded as UTF-8, declared so in its XML declaration and Content-Type.

    Character references to UTF-16 surrogates (emoji written as two references by broken
    CMSes) become the character they spell, or U+FFFD when unpaired: feedparser crashes on
    them. UTF-16/32 without a byte-order mark is left to feedparser, which sniffs it.
    """
    if body[:4].count(0) and not body.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return body, content_type
    text = decode_html(body, content_type).lstrip("\ufeff")
    # Without a declaration XML is UTF-8 already; with one, it must now say so.
    text = _XML_DECLARATION.sub('<?xml version="1.0" encoding="utf-8"?>', text, count=1)
    if "&#" in text:
        text = _join_surrogate_references(text)
    media_type = (content_type or "").split(";", 1)[0].strip()
    return text.encode("utf-8"), f"{media_type or 'application/xml'}; charset=utf-8"


def _join_surrogate_references(text: str) -> str:
    def surrogate(match: re.Match[str]) -> str:
        value = int(match.group(1), 16) if match.group(1) else int(match.group(2))
        return chr(value) if 0xD800 <= value <= 0xDFFF else match.group(0)

    joined = _NUMERIC_REFERENCE.sub(surrogate, text)
    if joined == text:
        return text
    return joined.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, one line per block; plain text passes through."""
    if not fragment:
        return ""
    if "<" not in fragment:
        return _tidy(html.unescape(fragment))
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return _tidy(html.unescape(re.sub(r"<[^>]*>", " ", fragment)))
    parts: list[str] = []
    _collect(root, parts)
    return _tidy("".join(parts))


def _collect(element: Any, parts: list[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag not in _DROP_TAGS:
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            _collect(child, parts)
            if tag in _BLOCK_TAGS:
                parts.append("\n")
        if child.tail:
            parts.append(child.tail)


def _tidy(text: str) -> str:
    text = _CONTROLS.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _entry(item: Any) -> FeedEntry:
    content = "\n".join(
        html_to_text(part.get("value", "")) for part in item.get("content", ()) if part
    ).strip()
    summary = html_to_text(item.get("summary", ""))
    if summary and summary == content:
        summary = ""  # feedparser copies content into summary when the feed has no description
    return FeedEntry(
        guid=_optional(item.get("id")),
        link=_optional(item.get("link")),
        title=_text(item.get("title", "")),
        summary=summary,
        content=content,
        published=_time(item.get("published_parsed") or item.get("updated_parsed")),
        author=_optional(_text(item.get("author", ""))),
    )


def _bozo_reason(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    error = parsed.get("bozo_exception")
    if error is None:
        return "malformed feed"
    if isinstance(error, xml.sax.SAXParseException):
        return (
            f"not well-formed XML at line {error.getLineNumber()}, "
            f"column {error.getColumnNumber()}: {error.getMessage()}"
        )
    return f"{type(error).__name__}: {error}"


def _is_soft(parsed: Any) -> bool:
    """A recognised RSS/Atom document whose only fault is its declared type or charset."""
    soft = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
    return bool(parsed.get("version")) and isinstance(parsed.get("bozo_exception"), soft)


def _looks_like_feed(parsed: Any) -> bool:
    return bool(parsed.get("version")) or bool(parsed.feed)


def _text(value: Any) -> str:
    return html_to_text(value) if isinstance(value, str) else ""


def _optional(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None
