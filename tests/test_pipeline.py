from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.demo import fixture_response
from poller.config import FeedSpec
from poller.fetch import FetchLimits
from poller.pipeline import PollSettings, poll_once
from storage import Article, NewArticle, Store
from storage.base import utcnow
from tests.conftest import FIXTURES

LOOPBACK = PollSettings(
    limits=FetchLimits(connect_timeout=2, read_timeout=1, total_timeout=5, max_bytes=256 * 1024),
    allow_private_links=True,  # the test's "outlets" live on loopback
    workers=2,
)
STRICT = PollSettings(limits=LOOPBACK.limits, workers=2)


def serve_fixtures(
    httpserver: HTTPServer, *, validators: bool = True, content_types: dict[str, str] | None = None
) -> str:
    """Serve tests/fixtures like the demo does (links pointed here), honouring ETags."""
    base = httpserver.url_for("/").rstrip("/")

    def handle(request: Request) -> Response:
        found = fixture_response(FIXTURES, request.path, base)
        if found is None:
            return Response("not found", status=404)
        body, content_type = found
        content_type = (content_types or {}).get(request.path, content_type)
        if not validators:
            return Response(body, content_type=content_type)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": "Fri, 20 Nov 2026 16:00:00 GMT"}
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers=headers)
        return Response(body, content_type=content_type, headers=headers)

    httpserver.expect_request(re.compile(r"/(feeds|site)/.*")).respond_with_handler(handle)
    return base


def feed(base: str, name: str, file: str, language: str = "ru") -> FeedSpec:
    return FeedSpec(name, f"{base}/feeds/{file}", language, timedelta(minutes=10))


def requests_to(httpserver: HTTPServer, prefix: str) -> list[Request]:
    return [request for request, _ in httpserver.log if request.path.startswith(prefix)]


async def test_a_poll_stores_every_new_entry_and_the_second_poll_adds_nothing(
    httpserver: HTTPServer, store: Store
) -> None:
    base = serve_fixtures(httpserver)
    feeds = [
        feed(base, "meduza-ru", "meduza-ru.xml"),
        feed(base, "tass-ru", "tass-ru.xml"),
        feed(base, "ovdinfo-ru", "ovdinfo-ru.atom"),
        feed(base, "moscowtimes-en", "moscowtimes-en.xml", "en"),
    ]
    first = await poll_once(store, feeds, LOOPBACK)

    by_name = {report.name: report for report in first.feeds}
    assert [report.status for report in first.feeds] == ["ok"] * 4
    # tass-ru lists one story twice (once with a #fragment): stored once.
    assert (by_name["tass-ru"].entries, by_name["tass-ru"].new_articles) == (4, 3)
    assert first.new_articles == store.count_articles() == 3 + 3 + 2 + 3
    article = store.article_by_url(f"{base}/site/tass.ru/proisshestviya/26117731")
    assert article is not None and article.source == "page" and article.lang == "ru"
    assert "пресс-службе суда" in article.text and "utm_" not in article.url
    missing_page = store.article_by_url(f"{base}/site/tass.ru/obschestvo/26109912")
    assert missing_page.source == "feed" and missing_page.text.startswith("Суд в Томске")
    state = store.feed_state("tass-ru")
    assert (state.last_status, state.items_last, state.articles_total) == ("ok", 4, 3)
    assert state.etag and state.next_poll_at > utcnow() + timedelta(minutes=9)

    pages_before = len(requests_to(httpserver, "/site/"))
    second = await poll_once(store, feeds, LOOPBACK)
    assert [report.status for report in second.feeds] == ["not-modified"] * 4
    assert second.new_articles == 0 and store.count_articles() == 11
    assert len(requests_to(httpserver, "/site/")) == pages_before  # a 304 costs no page fetch
    conditional = requests_to(httpserver, "/feeds/")[-4:]
    assert all(request.headers.get("If-None-Match") for request in conditional)
    assert all(request.headers.get("If-Modified-Since") for request in conditional)
    assert store.feed_state("tass-ru").last_status == "not-modified"


async def test_a_feed_that_ignores_validators_still_adds_nothing_twice(
    httpserver: HTTPServer, store: Store
) -> None:
    base = serve_fixtures(httpserver, validators=False)
    feeds = [feed(base, "meduza-ru", "meduza-ru.xml"), feed(base, "meduza-en", "meduza-en.xml")]
    first = await poll_once(store, feeds, LOOPBACK)
    pages_before = len(requests_to(httpserver, "/site/"))
    second = await poll_once(store, feeds, LOOPBACK)
    assert first.new_articles == 5 and second.new_articles == 0
    assert [report.status for report in second.feeds] == ["ok", "ok"]
    assert len(requests_to(httpserver, "/site/")) == pages_before


async def test_windows_1251_feed_and_page(httpserver: HTTPServer, store: Store) -> None:
    page = "/site/vesti-tomsk.example/news/2026/11/19/shtraf-za-repost.html"
    base = serve_fixtures(
        httpserver,
        content_types={
            "/feeds/tomsk-vesti-cp1251.xml": "text/xml; charset=windows-1251",
            page: "text/html; charset=windows-1251",
        },
    )
    report = await poll_once(store, [feed(base, "tomsk", "tomsk-vesti-cp1251.xml")], LOOPBACK)
    assert report.new_articles == 2
    article = store.article_by_url(base + page)
    assert article.title == "Томская учительница получила штраф за репост песни"
    assert article.source == "page" and article.lang == "ru"
    assert "Кировский районный суд Томска" in article.text


async def test_a_malformed_and_a_broken_feed_beside_good_ones(
    httpserver: HTTPServer, store: Store
) -> None:
    base = serve_fixtures(httpserver)
    feeds = [
        feed(base, "meduza-en", "meduza-en.xml", "en"),
        feed(base, "sibir", "sibir-malformed.xml"),
        feed(base, "broken", "broken.xml"),
        feed(base, "missing", "no-such-feed.xml"),
        feed(base, "tass-en", "tass-en.xml", "en"),
    ]
    report = await poll_once(store, feeds, LOOPBACK)
    by_name = {item.name: item for item in report.feeds}
    assert [item.status for item in report.feeds] == ["ok", "ok", "error", "error", "ok"]
    assert "not well-formed" in by_name["sibir"].warning and by_name["sibir"].new_articles == 2
    assert by_name["broken"].error.startswith("not a feed:")
    assert by_name["missing"].error == f"HTTP 404 from {base}/feeds/no-such-feed.xml"
    assert report.new_articles == 2 + 2 + 2

    broken = store.feed_state("broken")
    assert (broken.last_status, broken.error_count) == ("error", 1)
    assert broken.last_error.startswith("not a feed:")
    first_retry = broken.next_poll_at
    await poll_once(store, feeds, LOOPBACK)
    broken = store.feed_state("broken")
    assert broken.error_count == 2
    # backoff: 10 min doubled per consecutive failure
    assert broken.next_poll_at - broken.last_fetch_at == timedelta(minutes=40)
    assert first_retry - store.feed_state("missing").last_fetch_at <= timedelta(minutes=20)


async def test_a_timed_out_feed_does_not_hold_up_the_others(store: Store) -> None:
    released = threading.Event()

    def stall(request: Request) -> Response:
        released.wait(5)
        return Response("<rss/>")

    with HTTPServer(threaded=True) as server:  # the stalled request must not block the others
        base = serve_fixtures(server)
        server.expect_request("/slow.xml").respond_with_handler(stall)
        slow = FeedSpec("slow", f"{base}/slow.xml", "ru", timedelta(minutes=10))
        feeds = [slow, feed(base, "meduza-en", "meduza-en.xml", "en")]
        report = await poll_once(store, feeds, LOOPBACK)
        released.set()
    assert report.feeds[0].error == f"timed out after 1 s reading {base}/slow.xml"
    assert report.feeds[1].status == "ok" and report.new_articles == 2
    assert store.feed_state("slow").last_error.startswith("timed out after 1 s")


async def test_an_oversize_feed_is_an_error_and_an_oversize_page_falls_back(
    httpserver: HTTPServer, store: Store
) -> None:
    base = httpserver.url_for("/").rstrip("/")
    huge = b"<rss>" + b" " * (300 * 1024) + b"</rss>"
    httpserver.expect_request("/huge.xml").respond_with_data(huge)
    link = f"{base}/huge-page"
    small_feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>Big page</title><link>{link}</link>"
        "<description>The feed's own teaser text.</description></item></channel></rss>"
    )
    httpserver.expect_request("/small.xml").respond_with_data(small_feed)
    httpserver.expect_request("/huge-page").respond_with_data(huge, content_type="text/html")
    feeds = [
        FeedSpec("huge", f"{base}/huge.xml", "en", timedelta(minutes=10)),
        FeedSpec("small", f"{base}/small.xml", "en", timedelta(minutes=10)),
    ]
    report = await poll_once(store, feeds, LOOPBACK)
    assert report.feeds[0].error == f"body over 256 KB cap from {base}/huge.xml"
    assert report.feeds[1].errors == (f"body over 256 KB cap from {link}",)
    article = store.article_by_url(link)
    assert (article.source, article.text) == ("feed", "The feed's own teaser text.")


async def test_item_links_to_private_addresses_are_refused(
    httpserver: HTTPServer, store: Store
) -> None:
    base = serve_fixtures(httpserver)
    # The feed itself is on loopback (trusted: it comes from feeds.yaml); its item links are
    # rewritten to loopback too, and a hand-made item points at a private address.
    hostile = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Internal</title><link>http://10.0.0.5/admin</link>"
        "<description>Teaser.</description></item>"
        "<item><title>Metadata</title><link>http://169.254.169.254/latest/meta-data/</link>"
        "<description>Teaser two.</description></item></channel></rss>"
    )
    httpserver.expect_request("/hostile.xml").respond_with_data(hostile)
    feeds = [
        feed(base, "meduza-ru", "meduza-ru.xml"),
        FeedSpec("hostile", f"{base}/hostile.xml", "en", timedelta(minutes=10)),
    ]
    report = await poll_once(store, feeds, STRICT)
    meduza, hostile_report = report.feeds
    assert meduza.status == "ok" and meduza.pages_fetched == 0 and meduza.fallbacks == 3
    assert all("refused: link points to loopback address" in error for error in meduza.errors)
    assert hostile_report.errors == (
        "refused: link points to private address 10.0.0.5 (http://10.0.0.5/admin)",
        "refused: link points to metadata address 169.254.169.254 "
        "(http://169.254.169.254/latest/meta-data/)",
    )
    assert requests_to(httpserver, "/site/") == []  # no item link was ever fetched
    assert store.count_articles() == 5  # nothing lost: every entry kept with the feed's text


async def test_canonical_urls_dedupe_across_feeds_in_one_cycle(
    httpserver: HTTPServer, store: Store
) -> None:
    base = httpserver.url_for("/").rstrip("/")
    link = f"{base}/news/2026/11/20/one-story"

    def rss(*links: str) -> str:
        items = "".join(
            f"<item><title>Story</title><link>{item}</link><description>Text.</description></item>"
            for item in links
        )
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'

    httpserver.expect_request("/a.xml").respond_with_data(
        rss(f"{link}?utm_source=rss&utm_medium=feed")
    )
    httpserver.expect_request("/b.xml").respond_with_data(
        rss(f"{link}#comments", link + "?utm_campaign=x")
    )
    httpserver.expect_request("/news/2026/11/20/one-story").respond_with_data("", status=404)
    feeds = [
        FeedSpec(name, f"{base}/{name}.xml", "en", timedelta(minutes=10)) for name in ("a", "b")
    ]
    report = await poll_once(store, feeds, LOOPBACK)
    assert report.new_articles == 1 and store.count_articles() == 1
    assert sorted(item.new_articles for item in report.feeds) == [0, 1]
    assert store.article_by_url(link) is not None
    assert len(requests_to(httpserver, "/news/")) == 1  # fetched once, not three times
    again = await poll_once(store, feeds, LOOPBACK)
    assert again.new_articles == 0


async def test_score_and_on_stored_hooks(httpserver: HTTPServer, store: Store) -> None:
    base = serve_fixtures(httpserver)
    seen: list[Article] = []

    def score(articles: list[NewArticle]) -> list[NewArticle]:
        from dataclasses import replace

        return [replace(article, score=0.75, model_version="test-1") for article in articles]

    def on_stored(article: Article) -> None:
        seen.append(article)
        if len(seen) == 1:
            raise RuntimeError("story matcher is down")

    report = await poll_once(
        store,
        [feed(base, "meduza-ru", "meduza-ru.xml")],
        LOOPBACK,
        score=score,
        on_stored=on_stored,
    )
    assert report.new_articles == 3 and len(seen) == 3
    assert {(article.score, article.model_version) for article in seen} == {(0.75, "test-1")}
    assert report.feeds[0].errors[0].startswith("on_stored failed for ")
    assert store.count_articles() == 3  # the failing hook lost nothing


async def test_a_failing_scorer_keeps_the_articles_unscored(
    httpserver: HTTPServer, store: Store
) -> None:
    base = serve_fixtures(httpserver)

    def broken_score(articles: list[NewArticle]) -> list[NewArticle]:
        raise ValueError("model file missing")

    report = await poll_once(
        store, [feed(base, "meduza-en", "meduza-en.xml", "en")], LOOPBACK, score=broken_score
    )
    assert report.feeds[0].errors[-1] == "scoring failed: ValueError('model file missing')"
    assert report.new_articles == 2
    assert {article.score for article in store.articles_since(report.started_at)} == {None}


@pytest.mark.parametrize("only_due", [True, False])
async def test_only_due_feeds_are_polled_when_asked(
    httpserver: HTTPServer, store: Store, only_due: bool
) -> None:
    from poller.pipeline import Poller

    base = serve_fixtures(httpserver)
    feeds = [feed(base, "meduza-en", "meduza-en.xml", "en")]
    async with Poller(store, feeds, LOOPBACK) as poller:
        await poller.poll()
        second = await poller.poll(only_due=only_due)
        assert await poller.next_due() > utcnow() + timedelta(minutes=9)
    assert len(second.feeds) == (0 if only_due else 1)


async def test_an_entry_without_a_link_is_reported_not_silently_dropped(
    httpserver: HTTPServer, store: Store
) -> None:
    base = httpserver.url_for("/").rstrip("/")
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>No link here</title><description>Text.</description></item>"
        "</channel></rss>"
    )
    httpserver.expect_request("/nolink.xml").respond_with_data(body)
    spec = FeedSpec("nolink", f"{base}/nolink.xml", "en", timedelta(minutes=10))
    report = await poll_once(store, [spec], LOOPBACK)
    assert report.feeds[0].status == "ok" and report.feeds[0].entries == 1
    assert report.feeds[0].errors == ("entry without a usable link skipped: 'No link here'",)
