"""Parse only the items a feed did not carry last time.

Most polls of a changed feed bring back the same items with a new timestamp or one new item
on top, and feedparser costs about half a millisecond per item however often it has seen
it. So a well-formed RSS 2.0, RSS 1.0 or Atom body is first scanned with expat (fast, in C)
for the byte span of each item. Each item gets a key: a hash of its bytes and of everything
outside the item its meaning depends on (the content type and address the body came with,
the XML declaration, and the root and channel elements' attributes and namespaces). Items
whose key the caller already knows are cut out of the body, and feedparser parses the rest
exactly as it would have parsed the whole: the items are the same bytes in the same frame.
Anything else (not well-formed, a DOCTYPE, UTF-16/32, an unusual shape, or feedparser not
returning one entry per item) is parsed whole, as before.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from xml.parsers import expat

from feedparser.encodings import convert_to_utf8

from poller.parse import FeedEntry, ParsedFeed, parse_feed

_ATOM = "http://www.w3.org/2005/Atom"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RSS1 = "http://purl.org/rss/1.0/"
# root element -> (element holding the items, or None when the root holds them; item element)
_SHAPES = {
    "rss": ("channel", "item"),
    f"{_ATOM} feed": (None, f"{_ATOM} entry"),
    f"{_RDF} RDF": (None, f"{_RSS1} item"),
}


@dataclass(frozen=True)
class FeedItems:
    """A parse that may leave out known items: `keys` has one key per item in the body, in
    order, and `fresh` the entries of the items that were parsed. `keys` is empty when the
    body was parsed whole; then `fresh` holds every entry, in order."""

    title: str
    keys: tuple[str, ...]
    fresh: dict[str, FeedEntry] = field(default_factory=dict)
    entries: tuple[FeedEntry, ...] = ()  # when parsed whole
    warning: str | None = None
    error: str | None = None

    def feed(self, known: dict[str, FeedEntry]) -> ParsedFeed:
        """The whole feed, known items taken from `known`."""
        if not self.keys:
            return ParsedFeed(self.title, self.entries, self.warning, self.error)
        entries = tuple(self.fresh.get(key) or known[key] for key in self.keys)
        return ParsedFeed(self.title, entries, self.warning, self.error)

    def remembered(self, known: dict[str, FeedEntry]) -> dict[str, FeedEntry]:
        """What to know for the next poll of this feed: its current items."""
        return {key: self.fresh.get(key) or known[key] for key in self.keys}


def parse_feed_items(
    body: bytes, content_type: str | None, url: str, known: frozenset[str] = frozenset()
) -> FeedItems:
    """Parse `body`, skipping the items whose key is in `known`."""
    spans = _item_spans(body, content_type, url)
    if spans is None:
        return _whole(body, content_type, url)
    context, items = spans
    decision = _encoding_decision(body, content_type, url)
    context += repr(decision).encode()
    keys = tuple(_key(context, body[start:end]) for start, end in items)
    skip = [key in known for key in keys]
    document = _without(
        body, [span for span, known_item in zip(items, skip, strict=True) if known_item]
    )
    if document is not body and _encoding_decision(document, content_type, url) != decision:
        return _whole(body, content_type, url)
    parsed = parse_feed(document, content_type=content_type, url=url)
    parsed_keys = [key for key, known_item in zip(keys, skip, strict=True) if not known_item]
    if parsed.error or len(parsed.entries) != len(parsed_keys):
        return _whole(body, content_type, url)
    return FeedItems(
        title=parsed.title,
        keys=keys,
        fresh=dict(zip(parsed_keys, parsed.entries, strict=True)),
        warning=parsed.warning,
    )


def _whole(body: bytes, content_type: str | None, url: str) -> FeedItems:
    parsed = parse_feed(body, content_type=content_type, url=url)
    return FeedItems(
        title=parsed.title,
        keys=(),
        entries=parsed.entries,
        warning=parsed.warning,
        error=parsed.error,
    )


def _encoding_decision(body: bytes, content_type: str | None, url: str) -> tuple[str, str]:
    """How feedparser will decode these bytes: the encoding it settles on, and its complaint.

    It tries the declared encodings in turn and takes the first that decodes the whole body,
    so leaving items out can change its choice; the shorter body must be read the same way.
    """
    headers = {"content-location": url or ""}
    if content_type:
        headers["content-type"] = content_type
    result: dict = {}
    try:
        convert_to_utf8(headers, body, result)
    except Exception as error:  # whatever it is, parse_feed will meet it and report it
        return ("", type(error).__name__)
    return (result.get("encoding", ""), type(result.get("bozo_exception")).__name__)


def _key(context: bytes, item: bytes) -> str:
    digest = hashlib.blake2b(context, digest_size=16)
    digest.update(item)
    return digest.hexdigest()


def _without(body: bytes, spans: list[tuple[int, int]]) -> bytes:
    if not spans:
        return body
    parts, position = [], 0
    for start, end in spans:
        parts.append(body[position:start])
        position = end
    parts.append(body[position:])
    return b"".join(parts)


class _NotScannable(Exception):
    pass


class _Scan:
    """One expat pass: the byte span of each item and the frame the items are read in."""

    def __init__(self, body: bytes, content_type: str | None, url: str) -> None:
        self.body = body
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.StartNamespaceDeclHandler = self.namespace
        self.parser.XmlDeclHandler = self.declaration
        self.parser.StartDoctypeDeclHandler = self.doctype
        self.depth = 0
        self.holder_depth = 0  # depth of the element whose children are the items
        self.item_name = ""
        self.holder_name: str | None = None
        self.item_start: int | None = None
        self.items: list[tuple[int, int]] = []
        self.frame: list[object] = [content_type, url]

    def run(self) -> tuple[bytes, list[tuple[int, int]]]:
        self.parser.Parse(self.body, True)
        return repr(self.frame).encode("utf-8", "surrogatepass"), self.items

    def declaration(self, version: str | None, encoding: str | None, standalone: int) -> None:
        if encoding and encoding.lower().replace("-", "").startswith(("utf16", "utf32")):
            raise _NotScannable("UTF-16/32")
        self.frame.append(("xml", version, encoding, standalone))

    def doctype(self, *_: object) -> None:
        raise _NotScannable("a DOCTYPE may define entities the items use")

    def namespace(self, prefix: str | None, uri: str | None) -> None:
        if self.item_start is None:  # declarations inside an item are part of its bytes
            self.frame.append(("xmlns", self.depth, prefix, uri))

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1:
            if name not in _SHAPES:
                raise _NotScannable(f"root element {name!r}")
            self.holder_name, self.item_name = _SHAPES[name]
            self.holder_depth = 1 if self.holder_name is None else 0
            self.frame.append(("root", name, sorted(attributes.items())))
        elif self.depth == 2 and name == self.holder_name and not self.holder_depth:
            self.holder_depth = 2
            self.frame.append(("holder", name, sorted(attributes.items())))
        elif self.depth == self.holder_depth + 1 and name == self.item_name:
            self.item_start = self.parser.CurrentByteIndex

    def end(self, name: str) -> None:
        if self.item_start is not None and self.depth == self.holder_depth + 1:
            at = self.parser.CurrentByteIndex
            if at <= self.item_start or self.body[at : at + 2] != b"</":
                raise _NotScannable("an empty-element item")
            close = self.body.find(b">", at)
            if close < 0:
                raise _NotScannable("unterminated end tag")
            self.items.append((self.item_start, close + 1))
            self.item_start = None
        self.depth -= 1


def _item_spans(
    body: bytes, content_type: str | None, url: str
) -> tuple[bytes, list[tuple[int, int]]] | None:
    """(frame, item spans) of a well-formed feed of a known shape, or None."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or body[:4] == b"\x00\x00\xfe\xff":
        return None
    try:
        context, items = _Scan(body, content_type, url).run()
    except Exception:  # not well-formed, an unusual shape, or any surprise: a whole parse
        return None
    if any(body[start : start + 1] != b"<" for start, _ in items):
        return None
    return context, items
