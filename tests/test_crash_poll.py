"""Crash safety of polling: `repostwatch poll --once` as a real process, killed with SIGKILL
at random points (by the clock, or once a random number of articles is stored), restarted,
and finally run to the end. Afterwards every item is stored exactly once and in a story, the
feed counts match, the database passes PRAGMA integrity_check, and no worker process outlived
its poller.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from pytest_httpserver import HTTPServer

from tests.crashsite import NewsSite

ROOT = Path(__file__).resolve().parent.parent
FEEDS, ITEMS = 10, 30
KILLS_PER_SEED = 2


@pytest.fixture(scope="module")
def site():
    with HTTPServer(threaded=True) as server:
        news = NewsSite(server.url_for("/").rstrip("/"), FEEDS, ITEMS, page_delay=0.02)
        server.expect_request(re.compile(".*")).respond_with_handler(news.handle)
        yield news


def start_poll(feeds: Path, db: Path) -> subprocess.Popen:
    env = {**os.environ, "REPOSTWATCH_ALLOW_PRIVATE_LINKS": "1"}  # the site is on loopback
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "poll", "--once", "--feeds", str(feeds), "--db", str(db)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: ours to clean up if it leaks
    )


def stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def kill_at_random(process: subprocess.Popen, db: Path, rng: random.Random) -> str:
    """SIGKILL the poller by the clock or after a random number of stored articles."""
    deadline = time.monotonic() + 30
    if rng.random() < 0.5:
        delay = rng.uniform(0.2, 5.0)  # from start-up and migrations to the last commit
        how = f"after {delay:.2f} s"
        while time.monotonic() - deadline + 30 < delay and process.poll() is None:
            time.sleep(0.01)
    else:
        threshold = rng.randint(1, FEEDS * ITEMS - 1)
        how = f"at {threshold} stored"
        while stored(db) < threshold and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
    children = _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    _assert_children_exit(process.pid, children)
    return how


def check_database(db: Path) -> dict[str, int]:
    """The database is intact and holds each URL once; returns stored articles per feed."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "articles" not in tables:  # killed before its first migration was committed
            return {}
        assert (
            conn.execute("SELECT count(*) - count(DISTINCT url) FROM articles").fetchone()[0] == 0
        )
        assert conn.execute("SELECT count(*) FROM articles WHERE text = ''").fetchone()[0] == 0
        per_feed = dict(conn.execute("SELECT feed, count(*) FROM articles GROUP BY feed"))
        counted = dict(conn.execute("SELECT name, articles_total FROM feeds"))
    for feed, count in per_feed.items():
        assert counted[feed] == count, (feed, counted[feed], count)
    return per_feed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_killed_poll_loses_nothing_and_duplicates_nothing(
    site: NewsSite, trained_data: Path, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(site.feeds_yaml(), encoding="utf-8")
    data = tmp_path / "data"
    shutil.copytree(trained_data, data)  # the model beside the database, trained already
    db = data / "repostwatch.db"
    kills = []
    for _ in range(KILLS_PER_SEED):
        how = kill_at_random(start_poll(feeds, db), db, rng)
        kills.append(f"{how}: {stored(db)} stored")
        if db.exists():
            check_database(db)

    final = start_poll(feeds, db)
    output, _ = final.communicate(timeout=120)
    assert final.returncode == 0, output.decode()
    per_feed = check_database(db)
    assert per_feed == {f"outlet-{feed}": ITEMS for feed in range(FEEDS)}, kills
    with sqlite3.connect(db) as conn:
        urls = {row[0] for row in conn.execute("SELECT url FROM articles")}
        sources = {row[0] for row in conn.execute("SELECT DISTINCT source FROM articles")}
        storyless = conn.execute("SELECT count(*) FROM articles WHERE story_id IS NULL").fetchone()
    assert urls == {site.base + item.path for item in site.all_items()}
    assert sources == {"page"}  # every page was fetched and extracted, none half-done
    assert storyless[0] == 0  # stored just before a kill: matched at the restart

    with sqlite3.connect(db) as conn:
        validators = conn.execute("SELECT count(*) FROM feeds WHERE etag IS NOT NULL").fetchone()
    assert validators[0] == FEEDS
    if seed == 1:  # and a restart now sends them, gets 304s and stores nothing
        again = start_poll(feeds, db)
        output, _ = again.communicate(timeout=120)
        assert again.returncode == 0 and b"0 new articles" in output, output.decode()
        assert f"{FEEDS} not modified".encode() in output


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _assert_children_exit(pid: int, children: list[psutil.Process]) -> None:
    """Worker processes must not outlive a killed poller (they would pile up on restarts)."""
    _, alive = psutil.wait_procs(children, timeout=10)
    if alive:
        for child in alive:
            child.kill()  # ours: started by the poller this test started
        pytest.fail(f"workers outlived the killed poller {pid}: {[c.pid for c in alive]}")
