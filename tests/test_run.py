"""`repostwatch run` as a process: the bot against the fake Bot API, and console mode."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.app import bot_base_url
from storage import Store
from tests.fakebotapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent


def start(env: dict[str, str], tmp_path: Path) -> subprocess.Popen:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        # Nobody listens on port 9: the feed fails, is recorded, and the rest goes on.
        "feeds:\n  - {name: nowhere, url: 'http://127.0.0.1:9/rss', language: ru}\n",
        encoding="utf-8",
    )
    full = {
        "PATH": os.environ.get("PATH", ""),
        "REPOSTWATCH_DATA": str(tmp_path / "data"),
        "REPOSTWATCH_FEEDS": str(feeds),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--verbose"],
        cwd=ROOT,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def feed_status(tmp_path: Path, name: str) -> str | None:
    path = tmp_path / "data" / "repostwatch.db"
    if not path.exists():
        return None
    store = Store(path)
    try:
        state = store.feed_state(name)
    finally:
        store.close()
    return state.last_status if state else None


def stop(process: subprocess.Popen) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"did not stop on SIGINT:\n{err[-3000:]}") from None
    return out, err


@pytest.mark.parametrize("suffix", ["", "/", "/bot"])
def test_the_api_url_is_accepted_with_or_without_bot(suffix: str) -> None:
    assert bot_base_url(f"http://127.0.0.1:8081{suffix}") == "http://127.0.0.1:8081/bot"


def test_run_serves_the_bot_and_never_logs_the_token(tmp_path: Path) -> None:
    with FakeBotAPI() as api:
        root_url = api.base_url.removesuffix("/bot")  # as a self-hosted server is configured
        process = start(
            {
                "TELEGRAM_BOT_TOKEN": api.token,
                "TELEGRAM_API_URL": root_url,
                "REPOSTWATCH_MODERATORS": "5001",
            },
            tmp_path,
        )
        try:
            wait_until(lambda: api.calls_to("getUpdates"))
            api.command("/start", user_id=777, language_code="ru")
            wait_until(lambda: api.sent(777))
            wait_until(lambda: feed_status(tmp_path, "nowhere") == "error")
        finally:
            out, err = stop(process)
    assert process.returncode == 0, err[-3000:]
    assert api.sent(777)[0].text.startswith("Вы подписаны.")
    assert api.calls_to("setMyCommands")
    assert "nowhere: error: cannot connect" in err  # polled in the same process, and logged
    secret = api.token.split(":")[1]
    assert secret not in err and secret not in out


def test_without_a_token_it_runs_in_console_mode(tmp_path: Path) -> None:
    process = start({}, tmp_path)
    try:
        wait_until(lambda: feed_status(tmp_path, "nowhere") == "error", timeout=60)
    finally:
        _, err = stop(process)
    assert "console mode" in err
    assert "stopped" in err
    assert (tmp_path / "data" / "repostwatch.db").exists()
