"""Turn the bytes of a fetched page into text, trusting what the server and page declare.

trafilatura guesses encodings by itself and Russian sites still serve windows-1251 and koi8-r,
so we decode first and hand it a `str`. Order: byte-order mark (it is in the bytes, so it
beats any label, as in browsers), HTTP Content-Type charset, `<meta>` (or XML declaration)
near the top, UTF-8, then windows-1251 (or KOI8-R, when the letter cases say so). A charset
name Python does not know falls through to the next rule, and so does a declared charset the
bytes plainly do not fit.
"""

from __future__ import annotations

import codecs
import re

META_SCAN_BYTES = 8192
"""How far into the page `<meta charset>` is looked for; real pages put scripts before it."""

MAX_BAD_SHARE = 0.01
"""A declared charset survives a few undecodable bytes (a stray byte in a comment), not more."""

FALLBACK_CHARSET = "cp1251"
"""Used when nothing is declared and the bytes are not UTF-8: the common case on Russian sites."""

_HIGH_BYTES = bytes(range(0x80, 0x100))
_KOI8_LOWER = bytes(range(0xC0, 0xE0))  # in windows-1251 these are the capitals

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^\s"';,]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:+-]+)""", re.IGNORECASE | re.DOTALL
)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([a-z0-9_.:+-]+)""", re.I)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels browsers accept that Python's codec registry does not.
_ALIASES = {
    "windows1251": "cp1251",
    "win1251": "cp1251",
    "xcp1251": "cp1251",
    "cp1251": "cp1251",
    "windows1252": "cp1252",
    "koi8r": "koi8-r",
    "koi8u": "koi8-u",
    "xmaccyrillic": "mac-cyrillic",
    "unicode11utf8": "utf-8",
}
_NOT_CHARSETS = {
    "unicode-escape",
    "raw-unicode-escape",
    "punycode",
    "idna",
    "undefined",
    "mbcs",
    "oem",
}


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode a page body to text; never raises, whatever the bytes or header say."""
    bom = _bom_charset(body)
    if bom is not None:
        return body[len(_bom_for(bom)) :].decode(bom, errors="replace")
    for declared in (_header_charset(content_type), _meta_charset(body)):
        text = _decode_declared(body, declared)
        if text is not None:
            return text
    text = _decode_mostly(body, "utf-8")
    if text is not None:
        return text
    try:
        return body.decode(_cyrillic_single_byte(body))
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="replace")


def normalize_charset(label: str | None) -> str | None:
    """The Python codec name for a charset label, or None when it is unknown or bogus."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    for candidate in (label, _ALIASES.get(re.sub(r"[^a-z0-9]", "", label))):
        if not candidate:
            continue
        try:
            name = codecs.lookup(candidate).name
        except (LookupError, ValueError):
            continue
        if not _is_text_codec(name):
            return None
        return name
    return None


def _is_text_codec(name: str) -> bool:
    # "base64", "zlib" and "unicode-escape" are codecs too; only real character sets apply.
    info = codecs.lookup(name)
    return getattr(info, "_is_text_encoding", True) and name not in _NOT_CHARSETS


def _bom_charset(body: bytes) -> str | None:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    return None


def _bom_for(charset: str) -> bytes:
    return next(bom for bom, name in _BOMS if name == charset)


def _header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return normalize_charset(match.group(1)) if match else None


def _meta_charset(body: bytes) -> str | None:
    head = body[:META_SCAN_BYTES]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    if not match:
        return None
    name = normalize_charset(match.group(1).decode("ascii", errors="ignore"))
    if name and name.startswith(("utf-16", "utf-32")):
        # A <meta> we could read as ASCII cannot be right about UTF-16 (WHATWG says: UTF-8).
        return "utf-8"
    return name


def _decode_declared(body: bytes, charset: str | None) -> str | None:
    if charset is None:
        return None
    if charset.startswith(("utf-16", "utf-32")) and b"\x00" not in body[:1024]:
        # Markup in UTF-16/32 is full of zero bytes; without them the label is wrong, and
        # trusting it would turn an ASCII-compatible page into CJK noise.
        return None
    if _is_single_byte(charset) and not body.isascii():
        # Stale labels are common (a site moved to UTF-8, the server still says windows-1251
        # or Latin-1), and real single-byte text is practically never valid UTF-8.
        utf8 = _decode_strict(body, "utf-8")
        if utf8 is not None:
            return utf8
    return _decode_mostly(body, charset)


def _is_single_byte(charset: str) -> bool:
    if charset == "utf-8":
        return False
    return len(_HIGH_BYTES.decode(charset, errors="replace")) == len(_HIGH_BYTES)


def _cyrillic_single_byte(body: bytes) -> str:
    """KOI8-R or windows-1251 for undeclared legacy Russian text.

    Russian prose is mostly lower case; KOI8-R puts lower-case letters at 0xC0-0xDF, where
    windows-1251 puts capitals.
    """
    high = len(body) - len(body.translate(None, _HIGH_BYTES))
    koi8_lower = len(body) - len(body.translate(None, _KOI8_LOWER))
    return "koi8-r" if koi8_lower > 0.6 * high else FALLBACK_CHARSET


def _decode_strict(body: bytes, charset: str) -> str | None:
    try:
        return body.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode_mostly(body: bytes, charset: str) -> str | None:
    """Decode if at most MAX_BAD_SHARE of the non-ASCII bytes are invalid, else None."""
    strict = _decode_strict(body, charset)
    if strict is not None:
        return strict
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:
        return None
    high_bytes = (len(body) - len(body.translate(None, _HIGH_BYTES))) or 1
    bad = text.count("\ufffd")
    return text if bad <= MAX_BAD_SHARE * high_bytes else None
