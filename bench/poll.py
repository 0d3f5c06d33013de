"""Poll cycle: --feeds feeds, each answering after --latency seconds, from a separate process.

The feeds (--items entries each, all already stored, as in the steady state) are served by
bench.server, an asyncio server in its own process. One `Poller` then runs:

  first     the first poll ever: every feed answers 200 (starts the worker pool);
  changed   every feed changed (new ETags): 200 with a full body, parsed, nothing new;
  304       --repeat cycles in which every feed answers 304 on kept-alive connections;
  304 cold  --repeat more, each after the connections' keep-alive expired, as a running
            service polls (minutes apart): new connections, and for HTTPS a TLS handshake each.

Wall time is per cycle; CPU is this process's own (all its threads; the server is another
process), and the worker processes' CPU is shown apart.

    python -m bench.poll [--feeds 300] [--latency 0.3] [--items 30] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import ssl
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.proc import worker_cpu_seconds
from bench.report import Figure, at_most, info, print_figures, unavailable
from bench.server import ServerProcess
from poller.config import FeedSpec
from poller.pipeline import Poller, PollReport, PollSettings
from poller.urls import canonical_url
from storage import NewArticle, Store

CYCLE_LIMIT_S = 2.0
KEEPALIVE_EXPIRED_S = 6.0  # httpx keeps an idle connection 5 s
CPU_PER_304_LIMIT_MS = 2.0


@dataclass(frozen=True)
class Cycle:
    label: str
    wall: float  # seconds
    cpu: float  # seconds of this process
    worker_cpu: float  # seconds of the worker processes
    report: PollReport

    def cpu_ms_per_feed(self) -> float:
        return self.cpu * 1000 / len(self.report.feeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--items", type=int, default=30, help="entries per feed")
    parser.add_argument("--repeat", type=int, default=3, help="304 cycles on warm connections")
    parser.add_argument(
        "--profile", choices=["changed", "304"], help="print a pyinstrument profile of a cycle"
    )
    args = parser.parse_args()
    print_figures(figures(args.feeds, args.latency, args.items, args.repeat, args.profile))


def figures(
    feeds: int = 300,
    latency: float = 0.3,
    items: int = 30,
    repeat: int = 3,
    profile: str | None = None,
    *,
    quick: bool = False,
) -> list[Figure]:
    if quick:
        feeds, items, repeat = min(feeds, 20), min(items, 5), 1
    with tempfile.TemporaryDirectory(prefix="rw-poll-") as folder:
        root = Path(folder) / "site"
        write_feeds(root, feeds, items)
        plain = measure(root, Path(folder) / "http.db", latency, repeat, profile)
        found = describe(plain, feeds, latency)
        tls = make_certificate(Path(folder))
        if tls is None:
            return [*found, unavailable("poll", "HTTPS cycles", "not measured: no openssl")]
        with trusting(tls[0]):
            secure = measure(root, Path(folder) / "https.db", latency, repeat, None, tls)
        return [*found, *describe_https(secure, feeds)]


def measure(
    root: Path,
    db: Path,
    latency: float,
    repeat: int,
    profile: str | None,
    tls: tuple[Path, Path] | None = None,
) -> list[Cycle]:
    feeds = len(list(root.glob("feed-*.xml")))
    items = root.joinpath("feed-0.xml").read_text(encoding="utf-8").count("<item>")
    with ServerProcess(root, feed_latency=latency, tls=tls) as base:
        specs = [
            FeedSpec(f"feed-{n:03}", f"{base}/feed-{n}.xml", "ru", timedelta(minutes=10))
            for n in range(feeds)
        ]
        store = Store(db)
        try:
            seed_articles(store, specs, items)
            return asyncio.run(run_cycles(store, specs, base, repeat, profile))
        finally:
            store.close()


def make_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A self-signed ECDSA P-256 certificate for 127.0.0.1 (the common kind for news sites),
    or None without the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-days", "1", "-nodes", "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE",
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key


@contextmanager
def trusting(cert: Path) -> Iterator[None]:
    """Make this process's HTTP clients trust `cert` (httpx reads SSL_CERT_FILE)."""
    before = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(cert)
    try:
        yield
    finally:
        if before is None:
            del os.environ["SSL_CERT_FILE"]
        else:
            os.environ["SSL_CERT_FILE"] = before


async def run_cycles(
    store: Store, specs: list[FeedSpec], base: str, repeat: int, profile: str | None
) -> list[Cycle]:
    settings = PollSettings(allow_private_links=True)
    cycles: list[Cycle] = []
    async with Poller(store, specs, settings) as poller:
        cycles.append(await timed("first", poller.poll))
        await asyncio.to_thread(_touch, base)
        with _profiled(profile == "changed"):
            cycles.append(await timed("changed", poller.poll))
        with _profiled(profile == "304"):
            for _ in range(repeat):
                cycles.append(await timed("304", poller.poll))
        # A real poll interval is minutes, far past the keep-alive expiry: new connections
        # are what every poll but back-to-back ones pays.
        for _ in range(repeat):
            await asyncio.sleep(KEEPALIVE_EXPIRED_S)
            cycles.append(await timed("304 cold", poller.poll))
    return cycles


async def timed(label: str, poll: Callable[[], Awaitable[PollReport]]) -> Cycle:
    workers_before = worker_cpu_seconds()
    cpu_before = time.process_time()
    started = time.perf_counter()
    report = await poll()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    return Cycle(label, wall, cpu, worker_cpu_seconds() - workers_before, report)


def describe(cycles: list[Cycle], feeds: int, latency: float) -> list[Figure]:
    first, changed, warm, cold = _checked(cycles, feeds, "")
    wall_304 = statistics.median(c.wall for c in warm)
    cpu_304 = _median_cpu(warm)
    setup = f"{feeds} feeds, {latency * 1000:.0f} ms each"
    return [
        at_most(
            "poll",
            f"changed cycle wall time ({setup}, all 200)",
            changed.wall,
            CYCLE_LIMIT_S,
            "s",
            f"CPU {changed.cpu_ms_per_feed():.2f} ms/feed here + "
            f"{changed.worker_cpu * 1000 / feeds:.2f} ms/feed in workers (parsing)",
        ),
        at_most("poll", f"304 cycle wall time ({setup})", wall_304, CYCLE_LIMIT_S, "s"),
        at_most(
            "poll",
            "304 cycle CPU per feed, RepostWatch process (warm connections)",
            cpu_304,
            CPU_PER_304_LIMIT_MS,
            "ms",
            f"median of {len(warm)} cycles",
        ),
        at_most(
            "poll",
            "304 cycle CPU per feed, RepostWatch process (new connections)",
            _median_cpu(cold),
            CPU_PER_304_LIMIT_MS,
            "ms",
            _cold_note(cold),
        ),
        info(
            "poll",
            "first cycle wall time, incl. starting the worker pool",
            first.wall,
            "s",
        ),
    ]


def describe_https(cycles: list[Cycle], feeds: int) -> list[Figure]:
    _, changed, warm, cold = _checked(cycles, feeds, "HTTPS ")
    return [
        at_most(
            "poll",
            "HTTPS: 304 cycle CPU per feed, new connections (TLS handshake each)",
            _median_cpu(cold),
            CPU_PER_304_LIMIT_MS,
            "ms",
            _cold_note(cold),
        ),
        info(
            "poll",
            "HTTPS: 304 cycle CPU per feed, warm connections",
            _median_cpu(warm),
            "ms",
            f"median of {len(warm)} cycles",
        ),
        info("poll", "HTTPS: changed cycle wall time", changed.wall, "s"),
    ]


def _checked(
    cycles: list[Cycle], feeds: int, protocol: str
) -> tuple[Cycle, Cycle, list[Cycle], list[Cycle]]:
    """first, changed, the warm 304 cycles, the cold ones; each feed answered as expected."""
    for cycle in cycles:
        expected = "not-modified" if cycle.label.startswith("304") else "ok"
        if cycle.report.count(expected) != feeds:
            raise RuntimeError(f"{protocol}{cycle.label} cycle: not every feed answered {expected}")
    first, changed, *rest = cycles
    return (
        first,
        changed,
        [cycle for cycle in rest if cycle.label == "304"],
        [cycle for cycle in rest if cycle.label == "304 cold"],
    )


def _median_cpu(cycles: list[Cycle]) -> float:
    return statistics.median(cycle.cpu_ms_per_feed() for cycle in cycles)


def _cold_note(cold: list[Cycle]) -> str:
    each = ", ".join(f"{cycle.cpu_ms_per_feed():.2f}" for cycle in cold)
    return (
        f"median of {len(cold)} cycles ({each} ms), each after the keep-alive expired, "
        f"one Poller as in a running service; wall {statistics.median(c.wall for c in cold):.2f} s"
    )


def write_feeds(root: Path, feeds: int, items: int) -> None:
    root.mkdir(parents=True)
    published = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    for feed in range(feeds):
        entries = []
        for item in range(items):
            when = (published - timedelta(minutes=7 * item + feed)).strftime(
                "%a, %d %b %Y %H:%M:%S +0000"
            )
            title = f"Суд в городе {feed} рассмотрел дело о репосте номер {item}"
            summary = (
                f"Районный суд назначил жителю региона {feed} штраф за публикацию "
                f"в социальной сети; это материал {item} ленты {feed}."
            )
            entries.append(
                f"<item><title>{html.escape(title)}</title>"
                f"<link>/news/{feed}/{item}?utm_source=rss</link>"
                f'<guid isPermaLink="false">f{feed}-i{item}</guid>'
                f"<description>{html.escape(summary)}</description>"
                f"<category>Общество</category><pubDate>{when}</pubDate></item>"
            )
        rss = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Лента {feed}</title><link>/</link><description>Новости</description>"
            f"<language>ru</language>{''.join(entries)}</channel></rss>"
        )
        (root / f"feed-{feed}.xml").write_text(rss, encoding="utf-8")


def seed_articles(store: Store, specs: list[FeedSpec], items: int) -> None:
    """Store every entry's article, so the cycles measure polling, not extraction."""
    store.sync_feeds([(spec.name, spec.url, spec.language) for spec in specs])
    for number, spec in enumerate(specs):
        for item in range(items):
            url = canonical_url(f"/news/{number}/{item}?utm_source=rss", base=spec.url)
            assert url is not None
            store.add_article(
                NewArticle(url=url, feed=spec.name, title="t", text="x", lang="ru", source="feed")
            )


def _touch(base: str) -> None:
    context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"))
    with urllib.request.urlopen(f"{base}/_control/touch", context=context) as response:
        response.read()


@contextmanager
def _profiled(enabled: bool) -> Iterator[None]:
    """Print where the event loop's thread spent the block's time (wall clock, idle shown)."""
    if not enabled:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="disabled", interval=0.0005)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=True))


if __name__ == "__main__":
    main()
