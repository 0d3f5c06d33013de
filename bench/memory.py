"""Memory: resident size of a warmed-up RepostWatch process with --articles stored articles.

The database is generated first (a real SQLite file: --articles articles of realistic
length over 30 days, 20 feeds). A separate process is then started and warmed up, and
measured from outside with psutil once it says it is ready:

  poller  until the bot lands: the classifier's model loaded (when present), a Poller with
          the scoring and story-matching hooks (when present) polls 20 feeds over loopback
          three times (the first brings 200 new pages through extraction), then idles;

The main process is the figure (target <= 250 MB RSS); the extraction worker processes
(the fork server and its workers) are shown apart, with their unique memory (USS), since
they share most of their pages.

    python -m bench.memory [--articles 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from bench.report import Figure, at_most, info, print_figures
from bench.server import ServerProcess
from bench.site import RU_SENTENCES, paragraph, write_site
from storage import NewArticle, Store

RSS_LIMIT_MB = 250.0
FEEDS = 20
PAGES = 200
IDLE_SECONDS = 5.0  # the bot lets its workers go after a minute; the benchmark waits less


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--child", nargs=3, metavar=("DB", "BASE", "FEEDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(warm_poller(Path(args.child[0]), args.child[1], int(args.child[2])))
        return
    print_figures(figures(args.articles))


def figures(articles: int = 100_000, *, quick: bool = False) -> list[Figure]:
    feeds, pages = FEEDS, PAGES
    if quick:
        articles, feeds, pages = min(articles, 1_000), 5, 10
    with tempfile.TemporaryDirectory(prefix="rw-memory-") as folder:
        db = Path(folder) / "repostwatch.db"
        started = time.perf_counter()
        fill_database(db, articles)
        filled = time.perf_counter() - started
        train_model(db)
        site = write_site(Path(folder) / "site", pages, feeds, 150)
        with ServerProcess(site.root) as base:
            note, warm, idle = measure(
                [sys.executable, "-m", "bench.memory", "--child", str(db), base, str(feeds)]
            )
    note = f"{articles:,} articles in the database (generated in {filled:.0f} s); {note}"
    return [
        at_most(
            "memory",
            "resident memory, main process (poller, just after a poll)",
            warm.main_rss,
            RSS_LIMIT_MB,
            "MB",
            note,
        ),
        at_most(
            "memory",
            "resident memory, main process (poller, idle between polls)",
            idle.main_rss,
            RSS_LIMIT_MB,
            "MB",
        ),
        info(
            "memory",
            "extraction processes just after a poll, unique memory (USS) together",
            warm.children_uss,
            "MB",
            warm.role_line(),
        ),
        info(
            "memory",
            f"extraction processes after {IDLE_SECONDS:.0f} s idle, unique memory together",
            idle.children_uss,
            "MB",
            idle.role_line(),
        ),
    ]


@dataclass(frozen=True)
class Snapshot:
    main_rss: float  # MB
    children: tuple[tuple[str, float, float], ...]  # (role, RSS MB, USS MB)

    def role_line(self) -> str:
        if not self.children:
            return "none"
        return ", ".join(
            f"{role} {rss:.0f} MB RSS / {uss:.0f} MB USS" for role, rss, uss in self.children
        )

    @property
    def children_uss(self) -> float:
        return sum(uss for _, _, uss in self.children)


def snapshot(pid: int) -> Snapshot:
    main = psutil.Process(pid)
    children = []
    for child in main.children(recursive=True):
        try:
            line = " ".join(child.cmdline())
            info = child.memory_full_info()
        except psutil.Error:
            continue
        role = "worker"  # forked by the fork server, whose command line they inherit
        if "resource_tracker" in line:
            role = "resource tracker"
        elif "forkserver" in line and child.ppid() == pid:
            role = "fork server"
        children.append((role, info.rss / 2**20, info.uss / 2**20))
    return Snapshot(main.memory_info().rss / 2**20, tuple(sorted(children)))


def measure(command: list[str]) -> tuple[str, Snapshot, Snapshot]:
    """Start the process, wait until it prints `ready`, measure it with its workers busy
    a moment ago, then again once its idle workers have been let go."""
    # Its own process group, so that its extraction workers go with it at the end.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("ready"):
                note = line.removeprefix("ready").strip()
                break
        else:
            raise RuntimeError(f"{command} ended before it was ready")
        warm = snapshot(process.pid)
        for _ in range(60):
            time.sleep(1)
            idle = snapshot(process.pid)
            if not any(role == "worker" for role, _, _ in idle.children):
                break
        return note, warm, idle
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def fill_database(path: Path, count: int) -> None:
    """`count` articles of 1.5-4 KB over the last 30 days, from 20 feeds, in big transactions."""
    rng = random.Random(11)
    store = Store(path)
    now = datetime.now(UTC)
    try:
        store.sync_feeds(
            [(f"outlet-{n:02}", f"http://127.0.0.1/feed-{n}.xml", "ru") for n in range(FEEDS)]
        )
        for start in range(0, count, 5_000):
            with store.transaction():
                for number in range(start, min(count, start + 5_000)):
                    text = "\n".join(paragraph(rng, "ru") for _ in range(rng.randint(4, 10)))
                    store.add_article(
                        NewArticle(
                            url=f"https://archive.example/{number % 97}/{number}",
                            feed=f"outlet-{number % FEEDS:02}",
                            title=rng.choice(RU_SENTENCES)[:90],
                            text=text,
                            lang="ru",
                            source="page",
                            published=now - timedelta(minutes=number / 3),
                        ),
                        fetched_at=now - timedelta(minutes=count / 3 - number / 3),
                    )
    finally:
        store.close()


def train_model(db: Path) -> None:
    """Train and store the model beforehand, so the measured process loads it, as a bot does
    on every start but the first."""
    try:
        from poller.scoring import ensure_model
    except ImportError:
        return
    store = Store(db)
    try:
        ensure_model(store, db.parent / "models")
    finally:
        store.close()


async def warm_poller(db: Path, base: str, feeds: int) -> None:
    """The poller's steady state: model loaded, hooks on, three polls done, then idle."""
    from bench.ingest import pipeline_hooks
    from poller.config import FeedSpec
    from poller.pipeline import Poller, PollSettings

    store = Store(db)
    hooks = pipeline_hooks(store, db.parent / "models")
    specs = [
        FeedSpec(f"outlet-{n:02}", f"{base}/feed-{n}.xml", "ru", timedelta(minutes=10))
        for n in range(feeds)
    ]
    settings = PollSettings(
        allow_private_links=True, release_workers_after=timedelta(seconds=IDLE_SECONDS)
    )
    async with Poller(
        store, specs, settings, score=hooks.score, on_stored=hooks.on_stored
    ) as poller:
        reports = [await poller.poll() for _ in range(3)]
        gc.collect()
        stored = reports[0].new_articles
        missing = f"; not available yet: {', '.join(hooks.missing)}" if hooks.missing else ""
        print(f"ready after 3 polls ({stored} new articles){missing}", flush=True)
        await asyncio.sleep(3600)


if __name__ == "__main__":
    main()
