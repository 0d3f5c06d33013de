"""A strict reader of the HTML subset Telegram accepts, to check what the bot renders."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED = {"b", "i", "u", "s", "a", "code", "pre"}


class TelegramHTMLError(AssertionError):
    pass


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._label: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            raise TelegramHTMLError(f"tag <{tag}> is not allowed by Telegram")
        if tag == "a":
            names = [name for name, _ in attrs]
            if names != ["href"]:
                raise TelegramHTMLError(f"<a> must have exactly one href, got {attrs}")
            self._href = attrs[0][1] or ""
            self._label = []
        elif attrs:
            raise TelegramHTMLError(f"<{tag}> takes no attributes, got {attrs}")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise TelegramHTMLError(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        self.open.pop()
        if tag == "a":
            self.links.append(("".join(self._label), self._href or ""))
            self._href = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._href is not None:
            self._label.append(data)


def check(message: str) -> tuple[str, list[tuple[str, str]]]:
    """Raise unless `message` is well-formed Telegram HTML; return its text and its links."""
    for entity in re.findall(r"&[^;\s]*;?", message):
        if entity not in {"&lt;", "&gt;", "&amp;", "&quot;", "&#x27;"}:
            raise TelegramHTMLError(f"entity {entity!r} is not one Telegram knows")
    checker = _Checker()
    checker.feed(message)
    checker.close()
    if checker.open:
        raise TelegramHTMLError(f"unclosed tags {checker.open}")
    return "".join(checker.text), checker.links
