"""Soak: many feeds over many poll cycles, with faults injected; memory must stay flat and no
served item may be lost.

A separate server process (so its memory and threads are not the poller's) serves --feeds
feeds on loopback. On each request a feed may publish one to three new items (its feed
shows the latest 20), and the answer may be a fault: HTTP 500/503, a stall past the read
timeout, garbage bytes, a truncated body; an unchanged feed answers its ETag with 304. Item
pages fail, stall or are garbage now and then too. One `Poller` (as `repostwatch run` keeps)
polls every feed, cycle after cycle, for --minutes; then the server calms down (no faults,
no new items) and one last cycle picks up what the faults held back.

Printed: resident memory of the poller process after the warm-up and at the end (target:
growth <= 10%), of its extraction workers too; items served (in complete 200 answers) against
items stored (target: none lost); faults injected against errors recorded.

    python -m bench.soak [--minutes 3] [--feeds 200] [--seed 1] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

from poller.config import FeedSpec
from poller.fetch import FetchLimits
from poller.pipeline import Poller, PollReport, PollSettings
from storage import Store

WINDOW = 20  # items a feed shows
STALL_SECONDS = 2.5  # longer than the read timeout below
LIMITS = FetchLimits(connect_timeout=2, read_timeout=1, total_timeout=4)

FEED_FAULTS = {
    "http-500": 0.05,
    "http-503": 0.03,
    "stall": 0.03,
    "garbage": 0.03,
    "truncated": 0.03,
}
PAGE_FAULTS = {"http-500": 0.04, "stall": 0.01, "garbage": 0.02}
NEW_ITEMS = 0.4  # chance a feed publishes on a given request

TOPICS_RU = (
    "Суд в {city} оштрафовал жителя за репост записи о войне",
    "В {city} возбудили дело из-за комментария в телеграм-канале",
    "Жительницу {city} арестовали на десять суток за мем",
    "В {city} открыли новую линию трамвая",
)
TOPICS_EN = (
    "{city} court fines resident over a repost about the war",
    "Criminal case opened in {city} over a Telegram comment",
    "{city} woman jailed for ten days over a meme",
    "New tram line opens in {city}",
)
CITIES = ("Kazan", "Tomsk", "Samara", "Perm", "Ufa", "Saratov", "Penza", "Izhevsk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--warmup", type=float, default=0.25, help="share of the run")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.feeds, args.seed)
        return
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.soak",
            "--serve",
            "--feeds",
            str(args.feeds),
            "--seed",
            str(args.seed),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{int(server.stdout.readline())}"
        with tempfile.TemporaryDirectory(prefix="rw-soak-") as folder:
            result = asyncio.run(soak(base, args, Path(folder) / "soak.db"))
    finally:
        server.terminate()
        server.wait()
    print_result(result, args)


# --- the poller side ------------------------------------------------------------------------


@dataclass
class SoakResult:
    cycles: int = 0
    warmup_cycles: int = 0
    seconds: float = 0.0
    rss_warm: int = 0
    rss_end: int = 0
    rss_peak: int = 0
    workers_warm: int = 0
    workers_end: int = 0
    outcomes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    problems: Counter = field(default_factory=Counter)
    stored: int = 0
    duplicates: int = 0
    integrity: str = ""
    server: dict = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    unserved_stored: int = 0


async def soak(base: str, args: argparse.Namespace, db: Path) -> SoakResult:
    feeds = [
        FeedSpec(f"soak-{n}", f"{base}/feed/{n}.xml", "ru" if n % 2 else "en", timedelta(minutes=5))
        for n in range(args.feeds)
    ]
    settings = PollSettings(limits=LIMITS, allow_private_links=True, workers=args.workers)
    result = SoakResult()
    me = psutil.Process()
    store = Store(db)
    started = time.monotonic()
    deadline = started + args.minutes * 60
    warm_until = started + args.minutes * 60 * args.warmup
    async with Poller(store, feeds, settings) as poller:
        while time.monotonic() < deadline:
            tally(result, await poller.poll())
            result.cycles += 1
            rss = me.memory_info().rss
            result.rss_peak = max(result.rss_peak, rss)
            if not result.rss_warm and time.monotonic() >= warm_until and result.cycles >= 3:
                result.rss_warm, result.warmup_cycles = rss, result.cycles
                result.workers_warm = workers_rss(me)
            print(
                f"\rcycle {result.cycles}: {int(time.monotonic() - started)} s, "
                f"{store.count_articles()} stored, rss {rss / 2**20:.0f} MB",
                end="",
                file=sys.stderr,
                flush=True,
            )
        result.rss_end = me.memory_info().rss
        result.workers_end = workers_rss(me)
        result.seconds = time.monotonic() - started
        call(f"{base}/_calm")  # no more faults or new items: the last cycle catches up
        tally(result, await poller.poll())
    print(file=sys.stderr)
    store.close()
    result.server = json.loads(call(f"{base}/_stats"))
    check_database(result, db)
    return result


def tally(result: SoakResult, report: PollReport) -> None:
    for feed in report.feeds:
        result.outcomes[feed.status] += 1
        if feed.error:
            result.errors[error_kind(feed.error)] += 1
        for problem in feed.errors:
            result.problems[error_kind(problem)] += 1
        if feed.warning:
            result.problems["malformed feed (entries kept)"] += 1


def error_kind(message: str) -> str:
    for needle, kind in (
        ("HTTP 500", "http-500"),
        ("HTTP 503", "http-503"),
        ("timed out after 1 s reading", "read timeout"),
        ("in total", "total timeout"),
        ("timed out", "timeout"),
        ("not a feed", "not a feed"),
        ("not an HTML page", "not an HTML page"),
        ("extraction failed", "extraction failed"),
    ):
        if needle in message:
            return kind
    return message.split(":", 1)[0]


def check_database(result: SoakResult, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        urls = [row[0] for row in conn.execute("SELECT url FROM articles")]
        result.integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    stored = set(urls)
    served = set(result.server.pop("served"))
    result.stored = len(stored)
    result.duplicates = len(urls) - len(stored)
    result.lost = sorted(served - stored)
    result.unserved_stored = len(stored - served)


def workers_rss(me: psutil.Process) -> int:
    total = 0
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return total


def call(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def print_result(result: SoakResult, args: argparse.Namespace) -> None:
    mb = 2**20
    growth = (result.rss_end / result.rss_warm - 1) * 100 if result.rss_warm else float("nan")
    served = result.server
    print(
        f"soak: {args.feeds} feeds, {result.cycles} cycles in {result.seconds:.0f} s "
        f"(+1 calm cycle), seed {args.seed}"
    )
    print(
        f"poller RSS: {result.rss_warm / mb:.1f} MB after warm-up (cycle "
        f"{result.warmup_cycles}), {result.rss_end / mb:.1f} MB at the end, growth "
        f"{growth:+.1f}% (target <= 10%), peak {result.rss_peak / mb:.1f} MB"
    )
    print(
        f"workers RSS: {result.workers_warm / mb:.1f} MB after warm-up, "
        f"{result.workers_end / mb:.1f} MB at the end"
    )
    print(
        f"items: {served['served_count']} served in complete answers, {result.stored} stored, "
        f"{len(result.lost)} lost, {result.duplicates} duplicates, "
        f"{result.unserved_stored} stored from broken answers only; integrity {result.integrity}"
    )
    print(f"requests: {served['feed_requests']} feed, {served['page_requests']} page")
    print(
        "feed faults injected: "
        + ", ".join(f"{kind} {count}" for kind, count in sorted(served["feed_faults"].items()))
    )
    print(
        "page faults injected: "
        + ", ".join(f"{kind} {count}" for kind, count in sorted(served["page_faults"].items()))
    )
    print(
        "feed outcomes: "
        + ", ".join(f"{status} {count}" for status, count in sorted(result.outcomes.items()))
    )
    print(
        "feed errors recorded: "
        + ", ".join(f"{kind} {count}" for kind, count in result.errors.most_common())
    )
    print(
        "problems within feeds: "
        + ", ".join(f"{kind} {count}" for kind, count in result.problems.most_common())
    )
    if result.lost:
        print(f"LOST: {result.lost[:10]}")


# --- the server side -------------------------------------------------------------------------


class Site:
    """The feeds and pages, their faults, and what was really served (behind one lock)."""

    def __init__(self, feeds: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.items: list[list[int]] = [[] for _ in range(feeds)]
        self.next_item = [0] * feeds
        self.calm = False
        self.served: set[str] = set()
        self.feed_faults: Counter = Counter()
        self.page_faults: Counter = Counter()
        self.feed_requests = self.page_requests = 0

    def feed(self, feed: int, base: str, etag_seen: str | None) -> tuple[str, bytes, str]:
        """(fault or "ok"/"not-modified", body, etag) for one feed request."""
        with self.lock:
            self.feed_requests += 1
            if not self.calm and self.rng.random() < NEW_ITEMS:
                for _ in range(self.rng.randint(1, 3)):
                    self.items[feed].append(self.next_item[feed])
                    self.next_item[feed] += 1
            window = self.items[feed][-WINDOW:]
            body = rss(feed, window, base)
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            fault = None if self.calm else pick(self.rng, FEED_FAULTS)
            if fault:
                self.feed_faults[fault] += 1
                return fault, body, etag
            if etag_seen == etag:
                return "not-modified", b"", etag
            self.served.update(f"{base}/p/{feed}/{item}" for item in window)
            return "ok", body, etag

    def page_fault(self) -> str | None:
        with self.lock:
            self.page_requests += 1
            fault = None if self.calm else pick(self.rng, PAGE_FAULTS)
            if fault:
                self.page_faults[fault] += 1
            return fault

    def stats(self) -> dict:
        with self.lock:
            return {
                "served": sorted(self.served),
                "served_count": len(self.served),
                "feed_requests": self.feed_requests,
                "page_requests": self.page_requests,
                "feed_faults": dict(self.feed_faults),
                "page_faults": dict(self.page_faults),
            }


def pick(rng: random.Random, faults: dict[str, float]) -> str | None:
    roll = rng.random()
    for fault, chance in faults.items():
        if roll < chance:
            return fault
        roll -= chance
    return None


def rss(feed: int, items: list[int], base: str) -> bytes:
    entries = "".join(
        f"<item><title>{title(feed, item)}</title><link>{base}/p/{feed}/{item}</link>"
        f"<guid>{base}/p/{feed}/{item}</guid>"
        f"<description>{title(feed, item)}. Short teaser number {item}.</description>"
        f"<pubDate>Fri, 20 Nov 2026 {item % 24:02d}:00:00 +0300</pubDate></item>"
        for item in reversed(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Soak outlet {feed}</title><link>{base}/</link>{entries}</channel></rss>"
    ).encode()


def title(feed: int, item: int) -> str:
    topics = TOPICS_RU if feed % 2 else TOPICS_EN
    return topics[item % len(topics)].format(city=CITIES[(feed + item) % len(CITIES)]) + f" #{item}"


def page(feed: int, item: int) -> bytes:
    head = title(feed, item)
    if feed % 2:
        sentences = [
            f"Как сообщили в пресс-службе суда, материал номер {item} рассматривался два месяца.",
            "Защита настаивала, что публикация не содержала призывов и была сделана давно.",
            f"Суд назначил штраф {30 + item % 40} тысяч рублей; решение можно обжаловать.",
            "Правозащитники говорят, что подобных дел в регионе становится больше с каждым годом.",
        ]
    else:
        sentences = [
            f"According to the court's press office, case number {item} took two months to hear.",
            "The defence argued that the post contained no calls to action and was years old.",
            f"The court imposed a fine of {30 + item % 40},000 rubles, which can be appealed.",
            "Rights groups say such cases in the region grow more numerous every year.",
        ]
    body = "".join(f"<p>{sentence}</p>" for sentence in sentences)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{head}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{head}</h1>{body}</article>"
        "<footer>All rights reserved.</footer></body></html>"
    ).encode()


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A poller that gave up on a stalled answer resets the connection: expected here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(feeds: int, seed: int) -> None:
    site = Site(feeds, seed)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            parts = self.path.strip("/").split("/")
            if parts[0] == "feed":
                self.feed(int(parts[1].removesuffix(".xml")), base)
            elif parts[0] == "p":
                self.page(int(parts[1]), int(parts[2]))
            elif parts[0] == "_calm":
                with site.lock:
                    site.calm = True
                self.answer(200, b"calm", "text/plain")
            elif parts[0] == "_stats":
                self.answer(200, json.dumps(site.stats()).encode(), "application/json")
            else:
                self.answer(404, b"not found", "text/plain")

        def feed(self, feed: int, base: str) -> None:
            outcome, body, etag = site.feed(feed, base, self.headers.get("If-None-Match"))
            if outcome == "not-modified":
                self.answer(304, b"", None, etag)
            elif outcome == "ok":
                self.answer(200, body, "application/rss+xml", etag)
            else:
                self.fault(outcome, body)

        def page(self, feed: int, item: int) -> None:
            fault = site.page_fault()
            if fault:
                self.fault(fault, page(feed, item))
            else:
                self.answer(200, page(feed, item), "text/html; charset=utf-8")

        def fault(self, fault: str, body: bytes) -> None:
            if fault == "stall":
                time.sleep(STALL_SECONDS)
                self.close_connection = True
                return
            if fault == "garbage":
                self.answer(200, random.randbytes(2048), "application/rss+xml")
            elif fault == "truncated":
                self.answer(200, body[: len(body) // 2], "application/rss+xml")
            else:
                self.answer(int(fault.removeprefix("http-")), b"server error", "text/plain")

        def answer(self, status: int, body: bytes, kind: str | None, etag: str | None = None):
            self.send_response(status)
            if kind:
                self.send_header("Content-Type", kind)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 512
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
