"""Every subscriber command, in Russian and English, through the real Application."""

from __future__ import annotations

import json
from datetime import time

import pytest

from bot.throttle import CommandThrottle
from tests.botharness import MODERATOR, READER_EN, READER_RU, running_bot


@pytest.fixture
async def bot(store, tmp_path):
    async with running_bot(store, tmp_path) as harness:
        yield harness


async def test_start_subscribes_in_the_users_language_and_offers_the_digest(bot) -> None:
    reply = await bot.command("/start", user_id=READER_RU, lang="ru")
    assert reply.text.startswith("Вы подписаны.")
    assert reply.buttons() == [[("Прислать дайджест за сутки", "digest:now")]]
    subscriber = bot.store.subscriber(READER_RU)
    assert (subscriber.ui_lang, subscriber.story_langs, subscriber.active) == ("ru", "both", True)

    english = await bot.command("/start", user_id=READER_EN, lang="en-GB")
    assert english.text.startswith("You are subscribed.")
    again = await bot.command("/start", user_id=READER_EN)
    assert again.text.startswith("You are subscribed already")
    assert len([s for s in (bot.store.subscriber(READER_EN),) if s]) == 1


async def test_the_offered_digest_comes_on_request(bot) -> None:
    welcome = await bot.command("/start", user_id=READER_EN)
    await bot.press(welcome, "digest:now", user_id=READER_EN, edits=False)
    (digest,) = (await bot.api.wait_messages(READER_EN, 2))[1:]
    assert "No new stories in the last 24 hours." in digest.text


async def test_stop_unsubscribes_and_says_so(bot) -> None:
    await bot.command("/start", user_id=READER_RU, lang="ru")
    assert (await bot.command("/stop", user_id=READER_RU, lang="ru")).text.startswith(
        "Подписка отменена"
    )
    assert not bot.store.subscriber(READER_RU).active
    assert (await bot.command("/stop", user_id=READER_RU, lang="ru")).text.startswith(
        "Вы не подписаны"
    )
    assert (await bot.command("/stop", user_id=READER_EN)).text.startswith("You are not subscribed")


async def test_help_lists_commands_and_moderators_see_theirs(bot) -> None:
    english = await bot.command("/help", user_id=READER_EN)
    assert "/digest" in english.text and "/review" not in english.text
    russian = await bot.command("/help", user_id=READER_RU, lang="ru")
    assert "/settings — мгновенные уведомления" in russian.text
    moderator = await bot.command("/help", user_id=MODERATOR)
    assert "/review" in moderator.text and "/retrain" in moderator.text


async def test_lang_chooses_story_languages_and_the_bots_language(bot) -> None:
    await bot.command("/start", user_id=READER_RU, lang="ru")
    prompt = await bot.command("/lang", user_id=READER_RU, lang="ru")
    assert "Вы получаете истории на русском и английском" in prompt.text
    assert prompt.buttons() == [
        [("Русские", "lang:s:ru"), ("Английские", "lang:s:en"), ("• Все •", "lang:s:both")],
        [("Bot in English", "lang:ui:en")],
    ]
    answer = await bot.press(prompt, "lang:s:en", user_id=READER_RU, lang="ru")
    assert answer == "Теперь вы получаете истории на английском."
    assert bot.store.subscriber(READER_RU).story_langs == "en"
    edited = bot.api.last(READER_RU)
    assert edited.edits == 1 and edited.buttons()[0][1] == ("• Английские •", "lang:s:en")

    await bot.press(edited, "lang:ui:en", user_id=READER_RU, lang="ru")
    assert bot.store.subscriber(READER_RU).ui_lang == "en"
    assert "Bot language: English" in bot.api.last(READER_RU).text

    reply = await bot.command("/lang both", user_id=READER_RU, lang="ru")
    assert reply.text == "Stories you get now: in Russian and English."
    assert bot.store.subscriber(READER_RU).story_langs == "both"
    usage = await bot.command("/lang de", user_id=READER_RU, lang="ru")
    assert usage.text.startswith("Use /lang ru")


async def test_lang_and_settings_need_a_subscription(bot) -> None:
    assert (await bot.command("/lang", user_id=READER_EN)).text.startswith("You are not subscribed")
    assert (await bot.command("/settings", user_id=READER_RU, lang="ru")).text.startswith(
        "Вы не подписаны"
    )


async def test_settings_toggle_alerts_and_digest_and_set_its_time(bot) -> None:
    await bot.command("/start", user_id=READER_EN)
    shown = await bot.command("/settings", user_id=READER_EN)
    assert shown.text.startswith("Instant alerts: on\nDaily digest: on, at 09:00 (Europe/Moscow)")
    assert ("• 09:00 •", "set:time:0900") in shown.buttons()[2]

    await bot.press(shown, "set:alerts", user_id=READER_EN)
    await bot.press(shown, "set:digest", user_id=READER_EN)
    await bot.press(shown, "set:time:0700", user_id=READER_EN)
    subscriber = bot.store.subscriber(READER_EN)
    assert (subscriber.alerts, subscriber.digest, subscriber.digest_time) == (False, False, time(7))
    assert bot.api.last(READER_EN).text.startswith(
        "Instant alerts: off\nDaily digest: off, at 07:00"
    )

    reply = await bot.command("/settings time 8:30", user_id=READER_EN)
    assert reply.text == "The daily digest comes at 08:30 (Europe/Moscow)."
    assert bot.store.subscriber(READER_EN).digest_time == time(8, 30)
    bad = await bot.command("/settings time 25:00", user_id=READER_EN)
    assert "could not read '25:00'" in bad.text


async def test_russian_settings(bot) -> None:
    await bot.command("/start", user_id=READER_RU, lang="ru")
    shown = await bot.command("/settings", user_id=READER_RU, lang="ru")
    assert shown.text.startswith("Мгновенные уведомления: включены")
    assert shown.buttons()[0] == [("Уведомления: вкл → выключить", "set:alerts")]


async def test_digest_on_demand_says_when_there_is_nothing(bot) -> None:
    reply = await bot.command("/digest", user_id=READER_RU, lang="ru")
    assert reply.text.endswith("За последние 24 часа новых историй нет.")


async def test_unknown_commands_get_help_and_stale_buttons_an_answer(bot) -> None:
    reply = await bot.command("/frobnicate", user_id=READER_EN)
    assert reply.text.startswith("RepostWatch follows")
    answer = await bot.press(reply, "something:old", user_id=READER_EN, edits=False)
    assert answer == "This button is out of date."


async def test_commands_are_registered_per_language_and_for_moderators(bot) -> None:
    commands = bot.api.commands
    default = commands[(json.dumps({"type": "default"}), "")]
    assert [c["command"] for c in default] == [
        "start",
        "stop",
        "help",
        "lang",
        "digest",
        "settings",
    ]
    russian = commands[(json.dumps({"type": "default"}), "ru")]
    assert russian[0] == {"command": "start", "description": "подписаться на уведомления"}
    scope = json.dumps({"chat_id": MODERATOR, "type": "chat"}, sort_keys=True)
    assert [c["command"] for c in commands[(scope, "")]][-3:] == ["review", "retrain", "stats"]
    assert (scope, "ru") in commands


async def test_a_flooding_user_is_limited_and_told_once(store, tmp_path) -> None:
    async with running_bot(store, tmp_path, throttle=CommandThrottle(burst=3, every=60)) as bot:
        for _ in range(30):
            bot.api.command("/help", user_id=READER_EN)
        bot.api.command("/help", user_id=READER_RU, language_code="ru")  # someone else
        await bot.settle()
        await bot.api.wait_messages(READER_RU, 1)
        await bot.api.wait_for(lambda: len(bot.api.sent(READER_EN)) >= 4)
        replies = [message.text for message in bot.api.sent(READER_EN)]
        assert len(replies) == 4  # three answers and one notice, for thirty commands
        assert replies[3].startswith("Too many commands at once")
        assert len(bot.api.sent(READER_RU)) == 1


async def test_a_failed_reply_is_logged_and_the_bot_goes_on(bot, caplog) -> None:
    bot.api.fail("sendMessage", "400", chat_id=READER_EN, description="Bad Request: chat not found")
    bot.api.command("/help", user_id=READER_EN)
    await bot.api.wait_for(lambda: "handling update" in caplog.text)
    assert "chat not found" in caplog.text.lower()
    assert (await bot.command("/help", user_id=READER_EN)).text.startswith("RepostWatch follows")
