"""The bot token never reaches a log line, a traceback or a stored error."""

from __future__ import annotations

import io
import logging

import httpx
import pytest

from bot.logsafe import RedactingFilter, Redactor, protect_logs
from tests.botharness import READER_EN, running_bot
from tests.fakebotapi import FakeBotAPI

TOKEN = "123456789:AAFakeTokenForTestsOnly-do-not-use"
SECRET = TOKEN.split(":")[1]


@pytest.fixture
def captured():
    """A handler on the root logger, as `logging.basicConfig` would install, at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream, handler
    root.removeHandler(handler)
    root.setLevel(old_level)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_the_redactor_masks_the_token_its_secret_and_encoded_forms() -> None:
    redact = Redactor([TOKEN])
    line = f"POST https://api.telegram.org/bot{TOKEN}/getMe; {SECRET}; bot123456789%3A{SECRET}"
    assert (
        redact(line)
        == "POST https://api.telegram.org/bot<redacted>/getMe; <redacted>; bot<redacted>"
    )
    assert Redactor([None])("nothing to hide") == "nothing to hide"


def test_messages_arguments_and_tracebacks_are_masked(captured) -> None:
    stream, handler = captured
    handler.addFilter(RedactingFilter(Redactor([TOKEN])))
    log = logging.getLogger("repostwatch.test")
    log.info("calling %s", f"https://api.telegram.org/bot{TOKEN}/sendMessage")
    try:
        raise httpx.ConnectError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getMe")
    except httpx.ConnectError:
        log.exception("request failed")
    output = stream.getvalue()
    assert SECRET not in output
    assert output.count("<redacted>") == 2
    assert "Traceback" in output and "ConnectError" in output


async def test_no_token_in_the_logs_of_a_running_bot(store, tmp_path, captured) -> None:
    stream, _ = captured
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # httpx logs every request URL at INFO
    protect_logs(TOKEN)
    assert logging.getLogger("httpx").level == logging.WARNING
    with FakeBotAPI(token=TOKEN) as api:
        api.fail("sendMessage", "400", chat_id=READER_EN, description="Bad Request: chat not found")
        async with running_bot(store, tmp_path, api=api) as bot:
            await bot.command("/start", user_id=READER_EN + 1)
            bot.api.command("/start", user_id=READER_EN)  # its reply fails: an error is logged
            await bot.api.wait_for(lambda: "handling update" in stream.getvalue())
    output = stream.getvalue()
    assert "chat not found" in output.lower()  # the error was logged, with its traceback
    assert SECRET not in output
