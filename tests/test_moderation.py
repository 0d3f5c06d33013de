"""Moderators' commands and buttons; everyone else is refused and nothing changes."""

from __future__ import annotations

import pytest

from tests.botharness import READER_EN, READER_RU, running_bot
from tests.fakebotapi import Message


@pytest.fixture
async def bot(store, tmp_path):
    async with running_bot(store, tmp_path) as harness:
        yield harness


def a_bots_message(chat_id: int, data: str) -> Message:
    """A message of the bot's carrying one button, as if it had been sent earlier."""
    markup = {"inline_keyboard": [[{"text": "✅ Relevant", "callback_data": data}]]}
    return Message(chat_id, 1, "Story", "Story", markup, order=0)


@pytest.mark.parametrize("command", ["/review", "/retrain", "/stats"])
async def test_moderator_commands_are_refused_to_others(bot, command: str) -> None:
    english = await bot.command(command, user_id=READER_EN)
    assert english.text == "Sorry, only moderators can do that."
    russian = await bot.command(command, user_id=READER_RU, lang="ru")
    assert russian.text == "Извините, это могут делать только модераторы."


@pytest.mark.parametrize("data", ["label:s:1:1", "label:s:1:0", "label:a:11:1", "label:a:11:0"])
async def test_label_buttons_are_refused_to_others(bot, data: str) -> None:
    await bot.command("/start", user_id=READER_EN)
    answer = await bot.press(a_bots_message(READER_EN, data), data, user_id=READER_EN, edits=False)
    assert answer == "Sorry, only moderators can do that."
    refusal = bot.api.calls_to("answerCallbackQuery")[-1].params
    assert refusal.get("show_alert") == "true"
    assert bot.api.calls_to("editMessageText") == []  # the message is left as it was
