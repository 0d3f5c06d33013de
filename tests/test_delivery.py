"""Delivery through the outbox with PTB's real Bot and rate limiter, against the fake Bot API."""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.delivery import Delivery, DeliveryConfig, DeliveryReport
from bot.logsafe import Redactor
from bot.sender import TelegramSender
from storage import Source, Store
from tests.fakebotapi import FakeBotAPI
from tests.storydata import fixture_stories
from tests.storywriter import StoryWriter

FAST = DeliveryConfig(rate=200, chat_interval=0.05)


@pytest.fixture
def api():
    with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def bot(api):
    ptb = ExtBot(
        api.token,
        base_url=api.base_url,
        rate_limiter=AIORateLimiter(max_retries=0),
        request=HTTPXRequest(read_timeout=0.5, connection_pool_size=32),
    )
    async with ptb:
        yield ptb


@pytest.fixture
def writer(store) -> StoryWriter:
    return StoryWriter(store)


def delivery_for(store, bot, config=FAST, **options) -> Delivery:
    sender = TelegramSender(bot, Redactor([bot.token]))
    return Delivery(store, sender, config, **options)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def subscribe(store: Store, chat_id: int, *, ago: timedelta = timedelta(hours=1), **settings):
    store.subscribe(
        chat_id, user_id=abs(chat_id), ui_lang=settings.pop("ui_lang", "en"), at=now() - ago
    )
    if settings:
        store.update_subscriber(chat_id, at=now(), **settings)


def fresh(writer: StoryWriter, number: int, *, minutes_ago: int = 5):
    """A fixture story, stored as new: created a few minutes ago."""
    story = {story.id: story for story in fixture_stories()}[number]
    return writer.put(story, at=now() - timedelta(minutes=minutes_ago))


def add_english_source(writer: StoryWriter, story, article_id: int, feed: str, title: str) -> None:
    """Another outlet's English report joins the story now."""
    source = Source(
        article_id=article_id,
        feed=feed,
        lang="en",
        url=f"https://{feed}.example/{article_id}",
        title=title,
    )
    writer.add_source(story.id, source, at=now())


async def test_each_subscriber_gets_each_story_they_want_exactly_once(store, bot, api, writer):
    subscribe(store, 1)  # both languages
    subscribe(store, 2, story_langs="ru", ui_lang="ru")
    subscribe(store, 3, story_langs="en")
    subscribe(store, 4, alerts=False)
    subscribe(store, 5, ago=timedelta(minutes=-1))  # subscribed after the stories appeared
    fresh(writer, 1)  # Russian, with an English source
    fresh(writer, 2)  # English only
    delivery = delivery_for(store, bot)

    report = await delivery.run_once()
    assert (report.enqueued, report.sent) == (5, 5)
    assert sorted((m.chat_id, m.text.split("\n")[0]) for m in api.sent()) == [
        (1, "Tomsk teacher faces criminal case over comments under a news post"),
        (1, "Суд в Казани оштрафовал пенсионера на 30 тысяч рублей за репост песни"),
        (2, "Суд в Казани оштрафовал пенсионера на 30 тысяч рублей за репост песни"),
        (3, "Kazan pensioner fined over an eight-year-old repost"),  # its English report
        (3, "Tomsk teacher faces criminal case over comments under a news post"),
    ]
    assert "Источники (3):" in api.last(2).text
    assert {item.status for item in store.outbox_items()} == {"sent"}
    assert all(item.message_id for item in store.outbox_items())

    assert await delivery.run_once() == DeliveryReport()  # nothing new: nothing sent
    assert len(api.sent()) == 5


async def test_retry_after_pauses_everything_and_the_row_goes_out_later(store, bot, api, writer):
    for chat_id in range(1, 7):
        subscribe(store, chat_id)
    fresh(writer, 2)
    api.fail("sendMessage", "429", chat_id=3, retry_after=1)
    started = time.monotonic()
    paced = replace(FAST, rate=20)  # one request in flight at a time, as at Telegram's pace
    report = await delivery_for(store, bot, config=paced).run_once()
    assert report.retried == 1 and report.sent == 6
    assert time.monotonic() - started >= 1.0
    assert api.early_requests == 0  # nothing was sent while Telegram said to wait
    assert sorted(m.chat_id for m in api.sent()) == [1, 2, 3, 4, 5, 6]
    retried = store.outbox_items(chat_id=3)[0]
    assert (retried.status, retried.attempts) == ("sent", 2)


async def test_a_blocked_bot_deactivates_the_subscriber(store, bot, api, writer):
    subscribe(store, 1)
    subscribe(store, 2)
    fresh(writer, 1)
    fresh(writer, 2)
    api.fail("sendMessage", "403", chat_id=2, description="Forbidden: bot was blocked by the user")
    report = await delivery_for(store, bot).run_once()
    assert (report.sent, report.deactivated) == (2, 1)
    assert not store.subscriber(2).active
    assert [item.status for item in store.outbox_items(chat_id=2)] == ["failed", "failed"]
    assert "blocked" in store.outbox_items(chat_id=2)[0].last_error
    assert len(api.sent(1)) == 2 and api.sent(2) == []


async def test_a_migrated_group_is_followed_to_its_new_id(store, bot, api, writer):
    subscribe(store, -100)
    fresh(writer, 2)
    api.fail("sendMessage", "migrate", chat_id=-100, migrate_to=-1009)
    report = await delivery_for(store, bot).run_once()
    assert (report.migrated, report.sent) == (1, 1)
    assert store.subscriber(-100) is None and store.subscriber(-1009).active
    (item,) = store.outbox_items()
    assert (item.chat_id, item.status) == (-1009, "sent")
    assert [m.chat_id for m in api.sent()] == [-1009]


async def test_a_bad_request_fails_the_row_with_the_error(store, bot, api, writer):
    subscribe(store, 1)
    fresh(writer, 2)
    api.fail("sendMessage", "400", chat_id=1, description="Bad Request: chat not found")
    report = await delivery_for(store, bot).run_once()
    assert report.failed == 1
    (item,) = store.outbox_items()
    assert item.status == "failed" and "Chat not found" in item.last_error
    assert bot.token not in item.last_error


async def test_a_hang_leaves_the_row_uncertain_and_it_is_never_resent(store, bot, api, writer):
    subscribe(store, 1)
    subscribe(store, 2)
    fresh(writer, 2)
    api.fail("sendMessage", "hang", chat_id=1, hang_seconds=3)
    delivery = delivery_for(store, bot)
    report = await delivery.run_once()
    assert (report.uncertain, report.sent) == (1, 1)
    item = store.outbox_items(chat_id=1)[0]
    assert item.status == "uncertain" and "TimedOut" in item.last_error
    await delivery.run_once()
    await delivery_for(store, bot).run_once()  # a restart does not resend it either
    assert len(api.sent(1)) == 1  # Telegram took it once; it was never sent again


async def test_restart_sends_pending_rows_once_and_never_resends_sending_ones(
    store, bot, api, writer
):
    subscribe(store, 1)
    subscribe(store, 2)
    subscribe(store, 3)
    story = fresh(writer, 2)
    at = now()
    store.fan_out_alert(story.id, [1, 2, 3], ["en"], at=at)
    first = store.due_outbox(now=at)[0]
    store.claim(first.id, at=at)  # the process died during this row's API call

    delivery = delivery_for(store, bot)  # the process starts again
    assert await delivery.recover() == 1
    report = await delivery.run_once()
    assert report.sent == 2
    statuses = {item.chat_id: item.status for item in store.outbox_items()}
    assert statuses == {1: "uncertain", 2: "sent", 3: "sent"}
    assert sorted(m.chat_id for m in api.sent()) == [2, 3]
    assert (await delivery.run_once()).sent == 0


async def test_an_alert_is_edited_when_its_story_gains_sources(store, bot, api, writer):
    subscribe(store, 1)
    story = fresh(writer, 2)
    delivery = delivery_for(store, bot, config=replace(FAST, edit_every=timedelta(0)))
    await delivery.run_once()
    assert "Sources (1):" in api.last(1).text

    add_english_source(writer, story, 99, "siberia-daily", "Tomsk teacher's lawyer appeals")
    report = await delivery.run_once()
    assert report.edited == 1 and report.sent == 0
    message = api.last(1)
    assert message.edits == 1 and "Sources (2):" in message.text and "siberia-daily" in message.text
    assert store.outbox_items()[0].rendered_sources == 2
    assert (await delivery.run_once()).edited == 0


async def test_readers_of_a_language_a_story_gains_get_it_then(store, bot, api, writer):
    subscribe(store, 1, story_langs="ru", ui_lang="ru")
    subscribe(store, 2, story_langs="en")
    subscribe(store, 3)  # both
    story = fresh(writer, 3)  # reported in Russian only, so far
    delivery = delivery_for(store, bot)
    assert (await delivery.run_once()).sent == 2
    assert sorted(m.chat_id for m in api.sent()) == [1, 3]

    add_english_source(writer, story, 98, "moscow-weekly", "Court fines a man over a repost")
    report = await delivery.run_once()
    assert report.sent == 1 and api.last(2).text.startswith("Court fines a man over a repost")
    assert sorted(m.chat_id for m in api.sent()) == [1, 2, 3]  # nobody twice
    assert (await delivery.run_once()).sent == 0


async def test_a_request_that_never_left_goes_back_to_pending(store, writer):
    subscribe(store, 1)
    fresh(writer, 2)
    unreachable = ExtBot("1:abcdefghij", base_url=f"http://127.0.0.1:{free_port()}/bot")
    await unreachable.request.initialize()  # no getMe: there is nobody to answer it
    try:
        report = await delivery_for(store, unreachable).run_once()
    finally:
        await unreachable.request.shutdown()
    assert report.not_sent == 1
    (item,) = store.outbox_items()
    assert item.status == "pending" and item.not_before > now()
    assert "ConnectError" in item.last_error


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
