"""The hostile suite's loopback web: a good outlet beside an outlet that turns hostile.

Every hostile case runs the same two polls. On the first, both feeds are good
(tests/fixtures/hostile/good-1.xml and before.xml) and their articles are stored. Then the
good outlet publishes one more item (good-2.xml) and the other outlet's feed address starts
answering with the hostile response. After the second poll the case checks what the hostile
feed did, and `assert_survived` checks the rest: the good outlet's new item was fetched and
stored as usual, every article stored on the first poll is still there unchanged, and the
database is intact.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.cli import cli
from poller.config import FeedSpec
from poller.fetch import FetchLimits
from poller.pipeline import FeedReport, Poller, PollReport, PollSettings
from poller.work import Workers
from storage import Article, Store
from tests.conftest import FIXTURES

HOSTILE = FIXTURES / "hostile"
PAGES = FIXTURES / "pages"

LIMITS = FetchLimits(connect_timeout=2, read_timeout=1, total_timeout=4, max_bytes=512 * 1024)
OPEN = PollSettings(limits=LIMITS, allow_private_links=True, workers=2)
"""For cases about content: the outlets' pages live on loopback, so item links may go there."""
GUARDED = PollSettings(limits=LIMITS, workers=2)
"""For cases about addresses: item links (and off-host feed redirects) may not reach loopback."""

GOOD = "volga-courier"
OUTLET = "outlet"
RSS = "application/rss+xml"

Handler = Callable[[Request], Response]


def fixture(name: str, base: str) -> bytes:
    """A hostile/ fixture with `{base}` (and `{port}`) pointed at the loopback server."""
    port = base.rsplit(":", 1)[1]
    body = (HOSTILE / name).read_bytes()
    return body.replace(b"{base}", base.encode()).replace(b"{port}", port.encode())


class Web:
    """The loopback server's routes: /good.xml, /outlet.xml (swappable) and /pages/<file>."""

    def __init__(self, server: HTTPServer, workers: Workers) -> None:
        self.server = server
        self.workers = workers
        self.base = server.url_for("/").rstrip("/")
        self.good_feed = "good-1.xml"
        self.release = threading.Event()  # set at teardown: handlers that stall stop waiting
        self.outlet: Handler = self.serve("before.xml")
        self.outlet_url = f"{self.base}/outlet.xml"
        server.expect_request("/good.xml").respond_with_handler(
            lambda request: self.serve(self.good_feed)(request)
        )
        server.expect_request("/outlet.xml").respond_with_handler(
            lambda request: self.outlet(request)
        )
        server.expect_request(re.compile(r"/pages/[\w.-]+")).respond_with_handler(self._page)
        # Links in the hostile fixtures: a page too thin to extract, so the feed's text is kept.
        thin = (PAGES / "too-short.html").read_bytes()
        server.expect_request(re.compile(r"/news/[\w.-]+")).respond_with_data(
            thin, content_type="text/html"
        )

    @property
    def feeds(self) -> list[FeedSpec]:
        return [
            FeedSpec(GOOD, f"{self.base}/good.xml", "en", timedelta(minutes=10)),
            FeedSpec(OUTLET, self.outlet_url, "ru", timedelta(minutes=10)),
        ]

    def serve(self, name: str, content_type: str = RSS, **headers: str) -> Handler:
        """A handler answering with a hostile/ fixture."""
        return lambda request: Response(
            fixture(name, self.base), content_type=content_type, headers=headers
        )

    async def poll(
        self, store: Store, feeds: Sequence[FeedSpec], settings: PollSettings = OPEN
    ) -> PollReport:
        """One poll of `feeds`, on the session's shared extraction processes."""
        async with Poller(store, feeds, settings, workers=self.workers) as poller:
            return await poller.poll()

    def requests_to(self, path: str) -> list[Request]:
        return [request for request, _ in self.server.log if request.path == path]

    def _page(self, request: Request) -> Response:
        page = PAGES / Path(request.path).name
        if not page.is_file():
            return Response("not found", status=404)
        return Response(page.read_bytes(), content_type="text/html")


@dataclass(frozen=True)
class Outcome:
    first: PollReport
    second: PollReport
    before: dict[str, Article]  # the outlet's articles stored on the first poll

    @property
    def outlet(self) -> FeedReport:
        return next(report for report in self.second.feeds if report.name == OUTLET)

    @property
    def good(self) -> FeedReport:
        return next(report for report in self.second.feeds if report.name == GOOD)

    def new_articles(self, store: Store) -> list[Article]:
        """The outlet's articles stored by the hostile poll."""
        since = store.articles_since(self.first.started_at)
        return [a for a in since if a.feed == OUTLET and a.url not in self.before]


async def poll_before_and_after(
    web: Web,
    store: Store,
    hostile: Handler,
    settings: PollSettings = OPEN,
    *,
    moved_to: str | None = None,
    also: Sequence[FeedSpec] = (),
) -> Outcome:
    """Poll both outlets; make the outlet hostile (and the good one publish); poll again.

    `moved_to` gives the outlet's feed a new address for the second poll (a raw TCP server,
    say); `also` adds feeds to the second poll.
    """
    first = await web.poll(store, web.feeds, settings)
    assert [report.status for report in first.feeds] == ["ok", "ok"], first
    before = {
        article.url: article
        for article in store.articles_since(first.started_at)
        if article.feed == OUTLET
    }
    assert len(before) == 2
    web.good_feed = "good-2.xml"
    web.outlet = hostile
    if moved_to:
        web.outlet_url = moved_to
    second = await web.poll(store, [*web.feeds, *also], settings)
    return Outcome(first=first, second=second, before=before)


def assert_survived(web: Web, outcome: Outcome, store: Store) -> None:
    """The good outlet went on as usual, nothing stored was lost, the database is intact."""
    good = outcome.good
    assert (good.status, good.error, good.entries, good.new_articles) == ("ok", None, 3, 1)
    new = store.article_by_url(f"{web.base}/pages/ovdinfo-en.html")
    assert new is not None and new.feed == GOOD and new.text
    for url, article in outcome.before.items():
        assert store.article_by_url(url) == article
    assert store.scalar("PRAGMA integrity_check") == "ok"
    assert store.scalar("PRAGMA foreign_key_check") is None


def assert_feed_error(outcome: Outcome, store: Store, message: str) -> None:
    """The outlet's poll failed with `message` (a prefix), recorded on its feed row."""
    assert outcome.outlet.status == "error"
    assert outcome.outlet.error.startswith(message), outcome.outlet.error
    assert outcome.outlet.new_articles == 0
    state = store.feed_state(OUTLET)
    assert (state.last_status, state.error_count) == ("error", 1)
    assert state.last_error == outcome.outlet.error
    assert state.etag is None  # nothing from the hostile answer is kept as a validator


def feeds_row(db: Path, name: str = OUTLET) -> str:
    """The line `repostwatch feeds --db DB` prints for the feed `name`."""
    result = CliRunner().invoke(cli, ["feeds", "--db", str(db)], env={}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.split(" ", 1)[0] == name]
    assert len(rows) == 1, result.output
    return rows[0]
