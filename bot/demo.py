"""`repostwatch demo`: the whole pipeline on bundled fixtures, with no network and no token.

The fixture feeds and pages (tests/fixtures/) are served on loopback by a stdlib HTTP server
in a thread; the links inside the feeds are pointed at that server as they are served. The
feeds are polled into a throwaway database and what was stored is returned. Later steps
(scores, stories, alerts) plug into `run_demo` as hooks of the same poll.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from bot.relevance import RelevanceHooks
from poller.config import FeedSpec, parse_feeds
from poller.fetch import FetchLimits
from poller.pipeline import PollReport, PollSettings, poll_once
from storage import Article, Store, Story

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
CONTENT_TYPES = {
    ".xml": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".html": "text/html",  # no charset: the page's <meta> declares it
}
_URL = re.compile(rb"https?://([A-Za-z0-9.-]+\.[A-Za-z]{2,})(?::\d+)?(?=[/\"'<\s?#]|$)")
_XMLNS = re.compile(rb"""xmlns(?::[\w.-]+)?\s*=\s*(["'])(.*?)\1""")


@dataclass(frozen=True)
class DemoResult:
    report: PollReport
    articles: tuple[Article, ...]
    database: Path
    stories: tuple[Story, ...] = ()  # the relevant stories the poll made, oldest first


def run_demo(workdir: Path, fixtures: Path = FIXTURES) -> DemoResult:
    """Serve the fixtures on loopback, poll them into workdir/demo.db, return what was stored."""
    database = workdir / "demo.db"
    with FixtureSite(fixtures) as site:
        feeds = demo_feeds(fixtures, site.base)
        store = Store(database)
        try:
            settings = PollSettings(
                limits=FetchLimits(connect_timeout=5, read_timeout=5, total_timeout=15),
                allow_private_links=True,  # the demo's "outlets" live on loopback
            )
            hooks = RelevanceHooks(store, workdir / "models")
            report = asyncio.run(
                poll_once(store, feeds, settings, score=hooks.score, on_stored=hooks.on_stored)
            )
            articles = tuple(store.articles_since(report.started_at))
            stories = tuple(reversed(store.stories_since(report.started_at)))
        finally:
            store.close()
    return DemoResult(report=report, articles=articles, database=database, stories=stories)


def demo_feeds(fixtures: Path, base: str) -> list[FeedSpec]:
    path = fixtures / "site" / "feeds.yaml"
    return parse_feeds(path.read_text(encoding="utf-8").replace("{base}", base), source=str(path))


def rewrite_links(body: bytes, base: str) -> bytes:
    """Point every absolute http(s) link in a feed at `base`/site/<host>/…; namespaces stay."""
    protected = [match.span(2) for match in _XMLNS.finditer(body)]
    prefix = base.rstrip("/").encode("ascii") + b"/site/"

    def replace(match: re.Match[bytes]) -> bytes:
        if any(start <= match.start() < end for start, end in protected):
            return match.group(0)
        return prefix + match.group(1).lower()

    return _URL.sub(replace, body)


class FixtureSite:
    """tests/fixtures over HTTP on 127.0.0.1: /feeds/<file> (links rewritten) and
    /site/<host>/<path> (pages; `<path>.html` is tried too)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FixtureSite:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def resolve(self, path: str) -> tuple[bytes, str] | None:
        return fixture_response(self.root, path, self.base)


def fixture_response(root: Path, path: str, base: str) -> tuple[bytes, str] | None:
    """The body and content type served for a request path under `root`, or None (a 404).

    /feeds/<file> is a feed with its links pointed at `base`; /site/<host>/<path> is a page
    (`<path>.html` is tried too).
    """
    root = root.resolve()
    parts = [unquote(part) for part in urlsplit(path).path.split("/") if part]
    if len(parts) < 2 or parts[0] not in ("feeds", "site") or ".." in parts:
        return None
    file = root.joinpath(*parts)
    if not file.is_file():
        file = file.with_name(file.name + ".html")
    if not file.is_file() or root not in file.resolve().parents:
        return None
    body = file.read_bytes()
    if parts[0] == "feeds":
        body = rewrite_links(body, base)
    return body, CONTENT_TYPES.get(file.suffix, "application/octet-stream")


def _handler(site: FixtureSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = site.resolve(self.path)
            if found is None:
                self.send_error(404)
                return
            body, content_type = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the demo prints its own summary

    return Handler
