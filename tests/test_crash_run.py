"""Crash safety of `repostwatch run`, the whole service as a real process, killed with SIGKILL
at random points and restarted:

- while it polls, scores and matches stories (console mode): afterwards every item is stored
  once and in a story, and the two outlets' reports of each event share one story;
- while it broadcasts alerts against the fake Bot API: afterwards no message was sent twice,
  every alert is `sent` (the fake has it, under the recorded message id) or `uncertain` (the
  only rows that may or may not have arrived, and are never resent), none is left behind,
  and the token is nowhere in the database or the output.

More seeds: REPOSTWATCH_CRASH_SEEDS=10 (default 3 for delivery, 2 for polling).
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
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from pytest_httpserver import HTTPServer

from storage import NewArticle, Store
from storage.base import utcnow
from tests.crashsite import NewsSite
from tests.fakebotapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
SEEDS = int(os.environ.get("REPOSTWATCH_CRASH_SEEDS", "0"))
FEEDS, ITEMS = 10, 30
CHATS, STORIES = 30, 4


def start_run(data: Path, feeds: Path, **env: str) -> subprocess.Popen:
    """`repostwatch run` with its output in data/../run-<n>.log (read with `output`)."""
    log = data.parent / f"run-{len(list(data.parent.glob('run-*.log')))}.log"
    full = {
        "PATH": os.environ.get("PATH", ""),
        "REPOSTWATCH_DATA": str(data),
        "REPOSTWATCH_FEEDS": str(feeds),
        "REPOSTWATCH_ALLOW_PRIVATE_LINKS": "1",  # the outlets live on loopback
        **env,
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=full,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log = log
    return process


def output(process: subprocess.Popen) -> bytes:
    return process.log.read_bytes()


def kill(process: subprocess.Popen) -> bytes:
    """SIGKILL the service; its worker processes must go with it."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    process.send_signal(signal.SIGKILL)
    process.wait()
    _, alive = psutil.wait_procs(children, timeout=10)
    for child in alive:
        child.kill()  # ours: started by the service this test started
    assert not alive, f"processes outlived the killed service: {[c.pid for c in alive]}"
    return output(process)


def stop(process: subprocess.Popen) -> bytes:
    """SIGINT once the service is up (Ctrl-C during Python's own start-up is not ours)."""
    wait_until(
        lambda: (
            b"console mode" in output(process)
            or b"getUpdates" in output(process)
            or b"Application started" in output(process)
        ),
        process,
    )
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        kill(process)
        raise AssertionError("the service did not stop on SIGINT") from None
    assert process.returncode == 0, output(process).decode()[-3000:]
    return output(process)


def wait_until(condition, process: subprocess.Popen, *, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(output(process).decode()[-3000:])
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def scalar(db: Path, sql: str) -> int:
    """A number from the database, read beside the running service (0 before it exists)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql).fetchone()[0] or 0
    except sqlite3.OperationalError:  # not created yet
        return 0


def kill_at_random(process: subprocess.Popen, rng: random.Random, progress, total: int) -> str:
    """SIGKILL by the clock, or once `progress()` reaches a random point before `total`."""
    started = time.monotonic()
    if rng.random() < 0.4:
        delay = rng.uniform(0.5, 12.0)
        how = f"after {delay:.1f} s"
        while time.monotonic() - started < delay and process.poll() is None:
            time.sleep(0.01)
    else:
        threshold = rng.randint(1, total - 1)
        how = f"at {threshold} of {total}"
        while progress() < threshold and process.poll() is None:
            if time.monotonic() - started > 120:
                break
            time.sleep(0.005)
    kill(process)
    return how


# --- polling, scoring and stories ------------------------------------------------------------


@pytest.fixture(scope="module")
def site():
    with HTTPServer(threaded=True) as server:
        news = NewsSite(server.url_for("/").rstrip("/"), FEEDS, ITEMS, page_delay=0.02)
        server.expect_request(re.compile(".*")).respond_with_handler(news.handle)
        yield news


@pytest.mark.parametrize("seed", range(1, 1 + (SEEDS or 2)))
def test_a_killed_service_loses_no_article_and_splits_no_story(
    site: NewsSite, trained_data: Path, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    data = tmp_path / "data"
    shutil.copytree(trained_data, data)
    db = data / "repostwatch.db"
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(site.feeds_yaml(), encoding="utf-8")
    total = FEEDS * ITEMS

    def assigned() -> int:
        return scalar(db, "SELECT count(story_id) FROM articles")

    kills = [kill_at_random(start_run(data, feeds), rng, assigned, total) for _ in range(2)]
    final = start_run(data, feeds)
    wait_until(lambda: assigned() == total, final)
    stop(final)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", kills
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        story_of = dict(conn.execute("SELECT url, story_id FROM articles"))
        firsts = conn.execute(
            "SELECT count(*) FROM stories s JOIN articles a ON a.id = s.first_article_id "
            "WHERE a.story_id = s.id"
        ).fetchone()[0]
        stories = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
        empty = conn.execute(
            "SELECT count(*) FROM stories WHERE id NOT IN (SELECT story_id FROM articles)"
        ).fetchone()[0]
    assert set(story_of) == {site.base + item.path for item in site.all_items()}, kills
    assert None not in story_of.values()
    split = [
        item.path
        for item in site.all_items()
        if item.feed % 2 == 0
        and story_of[site.base + item.path]
        != story_of[f"{site.base}/news/{item.feed + 1}/{item.number}"]
    ]
    assert split == [], kills  # each event's two reports share one story
    assert empty == 0 and firsts == stories  # no story left behind by a half-done assignment


# --- delivery --------------------------------------------------------------------------------


def prepare_broadcast(db: Path) -> dict[int, str]:
    """CHATS subscribers and STORIES new relevant stories: CHATS x STORIES alerts to send.
    Returns each story's headline by id."""
    store = Store(db)
    now = utcnow()
    for chat in range(CHATS):
        chat_id = 9_000_000 + chat
        store.subscribe(chat_id, user_id=chat_id, ui_lang="ru", at=now - timedelta(hours=1))
        store.update_subscriber(chat_id, at=now - timedelta(hours=1), digest=False)
    headlines = {}
    for number in range(STORIES):
        title = f"Суд в Перми оштрафовал блогера за репост, дело номер {number + 1}"
        article = store.add_article(
            NewArticle(
                url=f"https://perm.example/news/{number + 1}",
                feed="perm-news",
                title=title,
                text=f"{title}. Блогеру назначили штраф по статье о «дискредитации» армии.",
                lang="ru",
                source="page",
                score=0.99,
            )
        )
        story_id = store.create_story(
            article.id, relevant=True, summary=title, at=now - timedelta(minutes=10)
        )
        headlines[story_id] = title
    store.close()
    return headlines


@pytest.mark.parametrize("seed", range(1, 1 + (SEEDS or 3)))
def test_a_killed_broadcast_sends_nothing_twice_and_loses_nothing(
    trained_data: Path, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    data = tmp_path / "data"
    shutil.copytree(trained_data, data)
    db = data / "repostwatch.db"
    headlines = prepare_broadcast(db)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(  # nobody listens on port 9: polling fails fast and stays out of the way
        "feeds:\n  - {name: nowhere, url: 'http://127.0.0.1:9/rss', language: ru}\n",
        encoding="utf-8",
    )
    total = CHATS * STORIES
    outputs = []
    with FakeBotAPI(latency=0.03, seed=seed) as api:
        env = {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.base_url}

        def delivered() -> int:
            return len(api.sent())

        kills = []
        for _ in range(2):
            process = start_run(data, feeds, **env)
            kills.append(kill_at_random(process, rng, delivered, total))
            outputs.append(output(process))
        final = start_run(data, feeds, **env)
        done = "SELECT count(*) FROM outbox WHERE status IN ('sent', 'uncertain', 'failed')"
        wait_until(lambda: scalar(db, done) == total, final)
        outputs.append(stop(final))
        messages = api.sent()

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(
            "SELECT kind, ref, chat_id, status, message_id FROM outbox ORDER BY id"
        ).fetchall()
    # What reached Telegram, per (story, chat).
    received: Counter = Counter()
    message_ids: dict[tuple[int, int], int] = {}
    for message in messages:
        story = next(sid for sid, title in headlines.items() if title in message.text)
        received[(story, message.chat_id)] += 1
        message_ids[(story, message.chat_id)] = message.message_id
    assert [key for key, count in received.items() if count > 1] == [], kills  # none twice
    assert len(rows) == total and {row[0] for row in rows} == {"alert"}
    statuses = Counter(row[3] for row in rows)
    assert set(statuses) <= {"sent", "uncertain"}, (statuses, kills)  # nothing left behind
    for _, ref, chat_id, status, message_id in rows:
        key = (int(ref), chat_id)
        if status == "sent":
            assert received[key] == 1 and message_ids[key] == message_id, (key, kills)
        else:  # uncertain: killed between the request and its answer; arrived or not
            assert received[key] <= 1
    assert statuses["sent"] + statuses["uncertain"] == total
    secret = api.token.split(":")[1].encode()
    for path in data.glob("repostwatch.db*"):
        assert secret not in path.read_bytes()
    assert all(secret not in output for output in outputs)
