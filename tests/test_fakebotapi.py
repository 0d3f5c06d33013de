"""The fake Bot API answers python-telegram-bot the way Telegram does, failures included."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TimedOut,
)
from telegram.request import HTTPXRequest

from tests.fakebotapi import FakeBotAPI


@pytest.fixture
def api():
    with FakeBotAPI() as fake:
        yield fake


def bot_for(api: FakeBotAPI, *, read_timeout: float = 2.0) -> Bot:
    return Bot(api.token, base_url=api.base_url, request=HTTPXRequest(read_timeout=read_timeout))


async def test_messages_are_recorded_and_checked_like_telegram(api: FakeBotAPI) -> None:
    async with bot_for(api) as bot:
        assert (await bot.get_me()).username == "repostwatch_test_bot"
        sent = await bot.send_message(5, "<b>Hi</b> &amp; bye", parse_mode="HTML")
        assert sent.message_id == 1 and sent.text == "Hi & bye"
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(5, "<script>x</script>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(5, "x" * 4097)
        await bot.edit_message_text("<i>edited</i>", chat_id=5, message_id=1, parse_mode="HTML")
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("<i>edited</i>", chat_id=5, message_id=1, parse_mode="HTML")
    assert api.last(5).text == "edited" and api.last(5).edits == 1


async def test_scripted_failures_raise_the_errors_ptb_knows(api: FakeBotAPI) -> None:
    api.fail("sendMessage", "429", retry_after=3)
    api.fail("sendMessage", "403", chat_id=8)
    api.fail("sendMessage", "migrate", chat_id=-9, migrate_to=-1009)
    api.fail("sendMessage", "hang", chat_id=10, hang_seconds=2)
    async with bot_for(api, read_timeout=0.3) as bot:
        with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
            await bot.send_message(7, "a")
        with pytest.raises(RetryAfter):  # still inside the wait: counted as too early
            await bot.send_message(8, "b")
        assert api.early_requests == 1
        api.end_flood_wait()  # rather than sleeping through it
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(8, "b")
        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(-9, "c")
        assert migrated.value.new_chat_id == -1009
        with pytest.raises(TimedOut):
            await bot.send_message(10, "d")
    assert [message.text for message in api.sent(10)] == ["d"]  # taken, though never answered


async def test_flood_control_answers_429_beyond_the_rate() -> None:
    with FakeBotAPI(rate_limit=5) as api:
        async with bot_for(api) as bot:
            for number in range(5):
                await bot.send_message(1, f"m{number}")
            with pytest.raises(RetryAfter):
                await bot.send_message(1, "one too many")
        assert api.rate_429s == 1 and len(api.sent(1)) == 5


async def test_a_wrong_token_is_refused(api: FakeBotAPI) -> None:
    with pytest.raises(InvalidToken):
        await Bot("1:other", base_url=api.base_url).initialize()
