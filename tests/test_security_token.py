"""The bot token never appears in output, even where logging is bypassed: python-telegram-bot
quotes the token when the server rejects it, and an exception nobody catches is printed by
Python, not logged. (Log lines, tracebacks in logs and stored errors: tests/test_logsafe.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.logsafe import Redactor, protect_tracebacks

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHiddenSecretOfTheBotForTests42"
SECRET = TOKEN.split(":")[1]


class Rejecting(BaseHTTPRequestHandler):
    """A Bot API that says the token is no good (revoked at @BotFather, say)."""

    def do_POST(self) -> None:
        body = json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


def test_a_rejected_token_is_named_as_the_problem_but_never_printed(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Rejecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "feeds:\n  - {name: nowhere, url: 'http://127.0.0.1:9/rss', language: ru}\n",
        encoding="utf-8",
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "REPOSTWATCH_DATA": str(tmp_path / "data"),
        "REPOSTWATCH_FEEDS": str(feeds),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--verbose"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
    assert done.returncode == 2
    assert "the Bot API rejected the token in TELEGRAM_BOT_TOKEN" in done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert "<redacted>" in done.stderr  # PTB's own message was there, masked


@pytest.fixture
def hooks():
    saved = sys.excepthook, threading.excepthook
    yield
    sys.excepthook, threading.excepthook = saved


def test_uncaught_exceptions_are_printed_masked(hooks, capsys) -> None:
    protect_tracebacks(Redactor([TOKEN]))

    def fail() -> None:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe failed")

    thread = threading.Thread(target=fail)
    thread.start()
    thread.join()
    try:
        fail()
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    printed = capsys.readouterr().err
    assert printed.count("Traceback") == 2 and printed.count("bot<redacted>/getMe") == 2
    assert SECRET not in printed
