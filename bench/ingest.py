"""Ingest throughput: the whole poll pipeline against bare `trafilatura.extract`.

Makes --pages distinct article pages from the page fixtures (each gets its own sentence and
--pad KB of the weight real pages carry), lists them in --feeds RSS feeds, and serves both
from a separate loopback server process. Then it times, on the same pages:

  bare      trafilatura.extract(html) on each page, one process (the baseline);
  pipeline  one `poll_once` into a fresh SQLite file: fetch feeds and pages over loopback,
            parse, canonical URLs, decode + extract + language in worker processes, store.

and prints pages/s for both and their ratio (the target is >= 1.0).

    python -m bench.ingest [--pages 2000] [--feeds 20] [--pad 150] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trafilatura

from bench.extract import _padded
from poller.config import FeedSpec
from poller.fetch import FetchLimits
from poller.pages import decode_html
from poller.pipeline import PollSettings, poll_once
from storage import Store

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--pad", type=int, default=150, help="KB of page weight per page")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: the server process
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve))
        return
    with tempfile.TemporaryDirectory(prefix="rw-ingest-") as folder:
        site = Path(folder) / "site"
        pages = write_site(site, args.pages, args.feeds, args.pad)
        print(f"{len(pages)} pages of ~{sum(map(len, pages)) // len(pages) // 1024} KB")
        bare = time_bare(pages)
        print(f"bare trafilatura.extract, 1 process: {bare:8.1f} pages/s")
        piped, report = time_pipeline(site, args.feeds, Path(folder), args.workers)
        print(
            f"pipeline (fetch+parse+extract+lang+store): {piped:8.1f} pages/s "
            f"({report.new_articles} stored, {report.fallbacks} from feed text, "
            f"{report.errors} problems)"
        )
        print(f"ratio pipeline / bare: {piped / bare:.2f}")


def write_site(site: Path, count: int, feeds: int, pad_kb: int) -> list[bytes]:
    templates = [
        decode_html(path.read_bytes(), None)
        for path in sorted((FIXTURES / "pages").glob("*.html"))
        if path.name != "too-short.html"
    ]
    (site / "p").mkdir(parents=True)
    pages = []
    for number in range(count):
        page = _padded(templates[number % len(templates)], pad_kb)
        unique = f"<p>Уникальная строка материала номер {number} для проверки.</p>"
        page = page.replace("</p>", "</p>" + unique, 1)
        body = page.encode("utf-8")
        (site / "p" / f"{number}.html").write_bytes(body)
        pages.append(body)
    for feed in range(feeds):
        items = "".join(
            f"<item><title>Материал {number}</title><link>/p/{number}.html</link>"
            f"<description>{html.escape('Краткое описание материала ' + str(number))}"
            "</description></item>"
            for number in range(feed, count, feeds)
        )
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>f{feed}</title>{items}</channel></rss>'
        (site / f"feed-{feed}.xml").write_text(rss, encoding="utf-8")
    return pages


def time_bare(pages: list[bytes]) -> float:
    texts = [decode_html(page, "text/html; charset=utf-8") for page in pages]
    started = time.perf_counter()
    for text in texts:
        trafilatura.extract(text)
    return len(texts) / (time.perf_counter() - started)


def time_pipeline(site: Path, feeds: int, folder: Path, workers: int | None):
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.ingest", "--serve", str(site)], stdout=subprocess.PIPE
    )
    try:
        port = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        specs = [
            FeedSpec(f"f{n}", f"{base}/feed-{n}.xml", "ru", timedelta(minutes=10))
            for n in range(feeds)
        ]
        store = Store(folder / "ingest.db")
        settings = PollSettings(
            limits=FetchLimits(read_timeout=30, total_timeout=120),
            allow_private_links=True,
            workers=workers,
        )
        started = time.perf_counter()
        report = asyncio.run(poll_once(store, specs, settings))
        elapsed = time.perf_counter() - started
        store.close()
    finally:
        server.terminate()
        server.wait()
    return report.new_articles / elapsed, report


def serve(site: Path) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = site / self.path.lstrip("/")
            if ".." in self.path or not path.is_file():
                self.send_error(404)
                return
            body = path.read_bytes()
            self.send_response(200)
            kind = "application/rss+xml" if path.suffix == ".xml" else "text/html; charset=utf-8"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
