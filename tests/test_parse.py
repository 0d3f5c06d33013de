from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import pytest

from poller.parse import FeedEntry, html_to_text, parse_feed
from tests.conftest import FIXTURES

FEEDS = FIXTURES / "feeds"


def parse(name: str, content_type: str | None = "application/rss+xml"):
    return parse_feed((FEEDS / name).read_bytes(), content_type=content_type, url="https://x/")


def test_rss_with_content_encoded_keeps_the_full_body_and_the_teaser() -> None:
    feed = parse("meduza-ru.xml")
    assert feed.ok and feed.warning is None and len(feed.entries) == 3
    entry = feed.entries[0]
    assert entry.title.startswith("Жителя Набережных Челнов приговорили")
    assert entry.link.startswith("https://meduza.io/news/2026/11/20/")
    assert entry.published == datetime(2026, 11, 20, 11, 5, tzinfo=UTC)
    assert entry.content.count("\n") == 3  # four paragraphs, one per line
    assert entry.summary == entry.content.splitlines()[0]
    assert "<p>" not in entry.content


def test_atom_entries() -> None:
    feed = parse("ovdinfo-ru.atom", "application/atom+xml")
    assert [entry.author for entry in feed.entries] == ["ОВД-Инфо", "ОВД-Инфо"]
    first = feed.entries[0]
    assert first.link.startswith("https://ovd.info/news/2026/11/20/")
    assert first.guid.startswith("tag:ovd.info,2026:")
    assert "Статью 205.2 УК" in first.content


def test_rss_2_plain_description_and_creator() -> None:
    feed = parse("moscowtimes-en.xml")
    entry = feed.entries[0]
    assert entry.link.endswith(
        "/2026/11/20/tatarstan-man-sentenced-to-5-years-for-telegram-comment-a91542"
    )
    assert entry.author == "The Moscow Times" and entry.content == ""
    assert entry.summary.startswith("A Russian military court on Friday")


@pytest.mark.parametrize(
    "content_type",
    ["application/rss+xml; charset=windows-1251", "application/rss+xml", "text/xml", None],
)
def test_windows_1251_feed_comes_out_right(content_type: str | None) -> None:
    raw = (FEEDS / "tomsk-vesti-cp1251.xml").read_bytes()
    assert "Томская".encode("cp1251") in raw  # the fixture really is windows-1251
    feed = parse("tomsk-vesti-cp1251.xml", content_type)
    assert feed.ok
    assert feed.entries[0].title == "Томская учительница получила штраф за репост песни"
    assert feed.entries[1].summary.startswith("Строители завершили надвижку")


def test_a_malformed_feed_with_entries_is_used_with_a_warning() -> None:
    feed = parse("sibir-malformed.xml")
    assert feed.ok and len(feed.entries) == 2
    assert "not well-formed" in feed.warning
    assert "& комментарии" in feed.entries[0].title
    assert feed.entries[0].summary.splitlines() == [
        "Суд назначил новосибирскому блогеру штраф 40 тысяч рублей за видео на YouTube.",
        "Поводом стал ролик о работе мэрии, который посмотрели около двух тысяч человек.",
    ]


@pytest.mark.parametrize(
    "body",
    [(FEEDS / "broken.xml").read_bytes(), b"", b"\x00\xff\xfe garbage", b"just some text"],
)
def test_something_that_is_not_a_feed_is_an_error(body: bytes) -> None:
    feed = parse_feed(body, content_type="text/html")
    assert not feed.ok and feed.error.startswith("not a feed:") and feed.entries == ()


def test_entries_hold_only_plain_values() -> None:
    for name in ("meduza-ru.xml", "tass-ru.xml", "ovdinfo-ru.atom", "sibir-malformed.xml"):
        for entry in parse(name).entries:
            assert type(entry) is FeedEntry
            for field in fields(entry):
                value = getattr(entry, field.name)
                assert value is None or type(value) in (str, datetime), (name, field.name)


def test_html_to_text() -> None:
    assert html_to_text("<p>One &amp; two</p><p>Three<br>four</p><script>x()</script>") == (
        "One & two\nThree\nfour"
    )
    assert html_to_text("plain   text") == "plain text"
    assert html_to_text("") == ""


def test_an_empty_feed_served_without_a_content_type_is_not_an_error() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse_feed(body, content_type=None)
    assert feed.ok and feed.entries == () and feed.title == "Quiet"
