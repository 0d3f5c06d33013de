"""Parsing only new items gives exactly what parsing the whole feed gives."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.demo import fixture_response
from poller.config import FeedSpec
from poller.feeditems import parse_feed_items
from poller.parse import parse_feed
from poller.pipeline import Poller
from storage import Store
from tests.conftest import FIXTURES
from tests.test_pipeline import LOOPBACK

FEEDS = sorted((FIXTURES / "feeds").iterdir())
CONTENT_TYPES = [
    "application/rss+xml",
    None,
    "text/xml",
    "text/xml; charset=windows-1251",
    "application/xml; charset=utf-8",
]
URL = "https://outlet.example/rss"


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("path", FEEDS, ids=[path.name for path in FEEDS])
def test_any_set_of_known_items_gives_the_whole_parse(path, content_type: str | None) -> None:
    body = path.read_bytes()
    whole = parse_feed(body, content_type=content_type, url=URL)
    first = parse_feed_items(body, content_type, URL)
    assert first.feed({}) == whole
    remembered = first.remembered({})
    keys = list(remembered)
    for size in range(len(keys) + 1):
        for subset in itertools.combinations(keys, size):
            known = {key: remembered[key] for key in subset}
            again = parse_feed_items(body, content_type, URL, frozenset(known))
            assert again.feed(known) == whole
            assert set(again.fresh).isdisjoint(known)


def test_well_formed_feeds_are_split_into_items_and_others_parsed_whole() -> None:
    def splits(name: str) -> bool:
        body = (FIXTURES / "feeds" / name).read_bytes()
        return bool(parse_feed_items(body, "application/rss+xml", URL).keys)

    assert splits("meduza-ru.xml") and splits("ovdinfo-ru.atom")
    assert splits("tomsk-vesti-cp1251.xml")
    assert not splits("sibir-malformed.xml")  # not well-formed: feedparser's own recovery
    assert not splits("broken.xml")  # an HTML page


def test_a_changed_item_is_parsed_again() -> None:
    body = (FIXTURES / "feeds" / "meduza-ru.xml").read_bytes()
    first = parse_feed_items(body, "application/rss+xml", URL)
    known = first.remembered({})
    title = first.feed({}).entries[1].title
    edited = body.replace(title.encode(), "Заголовок исправлен редакцией".encode())
    second = parse_feed_items(edited, "application/rss+xml", URL, frozenset(known))
    assert len(second.fresh) == 1
    assert second.feed(known).entries[1].title == "Заголовок исправлен редакцией"
    assert second.feed(known) == parse_feed(edited, content_type="application/rss+xml", url=URL)


def test_items_are_not_reused_across_a_change_of_declared_charset() -> None:
    body = (FIXTURES / "feeds" / "tomsk-vesti-cp1251.xml").read_bytes()
    first = parse_feed_items(body, "application/rss+xml; charset=windows-1251", URL)
    other = parse_feed_items(body, "application/rss+xml; charset=koi8-r", URL)
    assert set(first.keys).isdisjoint(other.keys)


def test_a_doctype_means_a_whole_parse() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY who "Someone">]>'
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>&who; wrote</title><link>https://o.example/1</link></item>"
        b"</channel></rss>"
    )
    parsed = parse_feed_items(body, "application/rss+xml", URL)
    assert parsed.keys == ()
    assert parsed.feed({}) == parse_feed(body, content_type="application/rss+xml", url=URL)


async def test_a_refetched_feed_without_validators_stores_just_its_new_item(
    httpserver: HTTPServer, store: Store
) -> None:
    """A feed without validators answers 200 every time: the second poll sees one new item
    on top and a new build date, and stores exactly the new item."""
    base = httpserver.url_for("/").rstrip("/")
    found = fixture_response(FIXTURES, "/feeds/tass-en.xml", base)
    assert found is not None
    template = found[0].decode("utf-8")
    new_item = (
        "<item><title>Court fines blogger over a repost</title>"
        f"<link>{base}/site/tass.com/society/1999999</link>"
        "<description>A district court fined a blogger on Friday.</description></item>"
    )
    changed = template.replace("<item>", new_item + "<item>", 1).replace(
        "</title>", "</title><lastBuildDate>Fri, 20 Nov 2026 18:00:00 GMT</lastBuildDate>", 1
    )
    bodies = iter([template, changed])

    def feed(request: Request) -> Response:
        return Response(next(bodies), content_type="application/rss+xml")

    def page(request: Request) -> Response:
        found = fixture_response(FIXTURES, request.path, base)
        return Response(found[0], content_type=found[1]) if found else Response(status=404)

    httpserver.expect_request("/feed").respond_with_handler(feed)
    httpserver.expect_request(re.compile("/site/.*")).respond_with_handler(page)
    spec = FeedSpec("tass-en", httpserver.url_for("/feed"), "en", timedelta(minutes=10))
    async with Poller(store, [spec], LOOPBACK) as poller:
        first = await poller.poll()
        second = await poller.poll()
    assert first.feeds[0].status == second.feeds[0].status == "ok"
    assert second.feeds[0].entries == first.feeds[0].entries + 1
    assert second.new_articles == 1
    stored = store.article_by_url(f"{base}/site/tass.com/society/1999999")
    assert stored is not None and stored.title == "Court fines blogger over a repost"
    assert stored.text == "A district court fined a blogger on Friday."
