"""Memory: resident size of `repostwatch run`, warmed up, over a database of --articles articles.

The database is generated first: a real SQLite file with --articles articles over 30 days,
the last week's and the relevant ones put into stories, and the model trained. Then, each
from its own copy of it, two processes are started and measured from outside with psutil:

  run     `repostwatch run` against the fake Bot API (tests/fakebotapi.py) with 100
          subscribers and 20 feeds on loopback: measured once its first poll (200 new pages
          through extraction, scoring, story matching, alerts) is done, and again once its
          idle extraction workers have been let go. The figure: the main process <= 250 MB.
  poller  a process that only polls, with the same hooks, which reports its own size after
          each stage (libraries, model, story index, polls): the breakdown.

The extraction worker processes (the fork server and its workers) are shown apart, with
their unique memory (USS), since they share most of their pages.

    python -m bench.memory [--articles 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import psutil

# Only what the measured process needs at the top: it runs this module, and its own imports
# are part of what is measured (the rest is imported where used).
from bench.report import Figure, at_most, info, print_figures
from storage import Article, Store

RSS_LIMIT_MB = 250.0
FEEDS = 20
PAGES = 200
ROOT = Path(__file__).resolve().parent.parent
SETTLE_SECONDS = 10.0
IDLE_SECONDS = 5.0  # the bot lets its workers go after a minute; the benchmark waits less


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--child", nargs=3, metavar=("DB", "BASE", "FEEDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with contextlib.suppress(KeyboardInterrupt):  # how the parent stops it
            asyncio.run(warm_poller(Path(args.child[0]), args.child[1], int(args.child[2])))
        return
    print_figures(figures(args.articles))


def figures(articles: int = 100_000, *, quick: bool = False) -> list[Figure]:
    feeds, pages = FEEDS, PAGES
    if quick:
        articles, feeds, pages = min(articles, 1_000), 5, 10
    from bench.server import ServerProcess
    from bench.site import write_site

    with tempfile.TemporaryDirectory(prefix="rw-memory-") as folder:
        data = Path(folder) / "data"
        db = data / "repostwatch.db"
        started = time.perf_counter()
        fill_database(db, articles)
        filled = time.perf_counter() - started
        train_model(db)
        site = write_site(Path(folder) / "site", pages, feeds, 150)
        with ServerProcess(site.root) as base:
            # Each process starts from the same database: copies, made before either runs.
            copy = Path(folder) / "poller-data"
            shutil.copytree(data, copy)
            stages, poller, _ = measure(
                [sys.executable, "-m", "bench.memory", "--child", str(copy / db.name), base,
                 str(feeds)],
                wait_for_idle=False,
            )  # fmt: skip
            warm, idle, polled = measure_bot(data, base, feeds, Path(folder))
    setup = (
        f"{articles:,} articles over 30 days in the database (generated in {filled:.0f} s); "
        f"{feeds} feeds on loopback, {pages} new pages; {polled}"
    )
    steps = []
    previous = 0.0
    for stage, size in stages:
        steps.append(info("memory", f"poller alone, of which: {stage}", size - previous, "MB"))
        previous = size
    return [
        at_most(
            "memory",
            "`repostwatch run`, main process, after its first poll",
            warm.main_rss,
            RSS_LIMIT_MB,
            "MB",
            f"against the fake Bot API, 100 subscribers; {setup}",
        ),
        at_most(
            "memory",
            "`repostwatch run`, main process, idle between polls",
            idle.main_rss,
            RSS_LIMIT_MB,
            "MB",
        ),
        info(
            "memory",
            "its extraction processes just after a poll, unique memory (USS) together",
            warm.children_uss,
            "MB",
            warm.role_line(),
        ),
        info(
            "memory",
            "its extraction processes once idle (workers let go), unique memory together",
            idle.children_uss,
            "MB",
            idle.role_line(),
        ),
        info(
            "memory",
            "poller alone (no bot), main process, after three polls",
            poller.main_rss,
            "MB",
            "a process that only polls, with the same hooks, to break the figure down:",
        ),
        *steps,
    ]


def measure_bot(data: Path, base: str, feeds: int, folder: Path) -> tuple[Snapshot, Snapshot, str]:
    """`repostwatch run` against the fake Bot API: measured once its first poll is done, and
    again once its idle extraction workers have been let go."""
    from tests.fakebotapi import FakeBotAPI

    feeds_file = folder / "feeds.yaml"
    lines = [
        f"  - {{name: outlet-{n:02}, url: '{base}/feed-{n}.xml', language: ru, interval: 1m}}"
        for n in range(feeds)
    ]
    feeds_file.write_text("feeds:\n" + "\n".join(lines) + "\n", encoding="utf-8")
    subscribe(data / "repostwatch.db", 100)
    api = FakeBotAPI().start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "REPOSTWATCH_DATA": str(data),
        "REPOSTWATCH_FEEDS": str(feeds_file),
        "REPOSTWATCH_ALLOW_PRIVATE_LINKS": "1",
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.base_url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so its workers go with it
    )
    log = _LogReader(process)
    try:
        polled = log.wait_for(re.compile(rf"polled {feeds} feeds .*"), timeout=1800)
        time.sleep(SETTLE_SECONDS)  # alerts delivered, the poll's garbage collected
        warm = snapshot(process.pid)
        return warm, idle_snapshot(process.pid, warm, 150), polled
    finally:
        _stop(process)
        api.stop()


class _LogReader:
    """Keeps reading a process's log (so it never blocks on a full pipe); finds lines."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.lines.put(line)
        self.lines.put("")

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if not line:
                raise RuntimeError("repostwatch run ended:\n" + "".join(seen[-20:]))
            seen.append(line)
            found = pattern.search(line)
            if found:
                return found.group(0)
        raise RuntimeError("repostwatch run did not poll in time:\n" + "".join(seen[-20:]))


def _stop(process: subprocess.Popen) -> None:
    """Ctrl-C, as a person would; the whole group if it does not end."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything of its group still there


def subscribe(db: Path, count: int) -> None:
    store = Store(db)
    now = datetime.now(UTC)
    try:
        with store.transaction():
            for chat in range(1, count + 1):
                store.subscribe(500_000 + chat, user_id=500_000 + chat, ui_lang="ru", at=now)
    finally:
        store.close()


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


def measure(
    command: list[str], *, wait_for_idle: bool = True
) -> tuple[list[tuple[str, float]], Snapshot, Snapshot]:
    """Start the process, wait until it prints `ready`, measure it with its workers busy
    a moment ago, then again once its idle workers have been let go."""
    # Its own process group, so that its extraction workers go with it at the end.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("ready"):
                stages = json.loads(line.removeprefix("ready"))
                break
        else:
            raise RuntimeError(f"{command} ended before it was ready")
        warm = snapshot(process.pid)
        return stages, warm, idle_snapshot(process.pid, warm, 60 if wait_for_idle else 0)
    finally:
        _stop(process)


def idle_snapshot(pid: int, warm: Snapshot, seconds: int) -> Snapshot:
    """The process once its idle extraction workers are gone (or after `seconds`)."""
    idle = warm
    for _ in range(seconds):
        time.sleep(1)
        idle = snapshot(pid)
        if not any(role == "worker" for role, _, _ in idle.children):
            break
    return idle


def fill_database(path: Path, count: int) -> None:
    """`count` articles of 1-4 KB over the last 30 days, in big transactions. Those a bot
    holds in its story index (the last week's, and the relevant ones: one in twenty) are put
    into stories as the bot does. The reports are bench.stories' varied synthetic events,
    padded to length."""
    from bench.site import paragraph
    from bench.stories import synthetic_article, synthetic_events
    from poller.stories import DEFAULT_WINDOW, StoryMatcher

    rng = random.Random(11)
    now = datetime.now(UTC)
    span = timedelta(days=30)
    week = now - DEFAULT_WINDOW - timedelta(days=1)
    events = synthetic_events(rng, now - span, span)
    store = Store(path)
    try:
        store.sync_feeds(
            [(f"outlet-{n:02}", f"http://127.0.0.1/feed-{n}.xml", "ru") for n in range(FEEDS)]
        )
        matcher = StoryMatcher(store)
        serial = 0
        while serial < count:
            with store.transaction():
                for _ in range(min(2_000, count - serial)):
                    serial += 1
                    at = now - span + span * (serial / count)
                    event = replace(next(events), day=at)
                    lang = rng.choice(("ru", "ru", "en"))
                    new = synthetic_article(rng, event, lang, serial)
                    padding = "\n".join(paragraph(rng, lang) for _ in range(rng.randint(2, 8)))
                    new = replace(new, text=f"{new.text}\n{padding}", published=at)
                    article = store.add_article(new, fetched_at=at)
                    relevant = rng.random() < 0.05
                    # A bot loads the last week's reports and a year of relevant stories
                    # on start; matching the others too would change nothing it holds.
                    if article is not None and (relevant or at > week):
                        matcher.assign(article, relevant=relevant)
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
    """The poller's steady state: model loaded, story index built, three polls done, idle.

    Prints `ready` and a JSON list of (stage, its own RSS in MB) for the breakdown."""
    from poller.config import FeedSpec
    from poller.pipeline import Poller, PollSettings

    stages = [("Python, poller and its libraries (trafilatura, lxml, httpx, feedparser)", _rss())]
    from poller.scoring import ensure_model, score_articles

    stages.append(("scoring libraries (numpy, SciPy; scikit-learn is not loaded)", _rss()))
    from poller.stories import StoryMatcher

    stages.append(("story matching code", _rss()))
    store = Store(db)
    model = ensure_model(store, db.parent / "models")
    stages.append(("the model, loaded", _rss()))
    matcher = StoryMatcher(store)
    stages.append((f"story index ({matcher.indexed():,} reports of the window)", _rss()))
    specs = [
        FeedSpec(f"outlet-{n:02}", f"{base}/feed-{n}.xml", "ru", timedelta(minutes=10))
        for n in range(feeds)
    ]
    settings = PollSettings(
        allow_private_links=True, release_workers_after=timedelta(seconds=IDLE_SECONDS)
    )
    score = partial(score_articles, model)

    def on_stored(article: Article) -> None:  # as bench.ingest wires it
        relevant = article.score is not None and article.score >= model.threshold
        matcher.assign(article, relevant=relevant)

    async with Poller(store, specs, settings, score=score, on_stored=on_stored) as poller:
        reports = [await poller.poll() for _ in range(3)]
        stages.append((f"three polls ({reports[0].new_articles} new articles)", _rss()))
        print("ready " + json.dumps(stages), flush=True)
        await asyncio.sleep(3600)


def _rss() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


if __name__ == "__main__":
    main()
