"""The daily digest: due at each subscriber's local time, once per day, split, in order."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import AIORateLimiter, ExtBot

from bot.delivery import Delivery, DeliveryConfig
from bot.digest import DigestConfig, DigestScheduler
from bot.sender import TelegramSender
from tests.fakebotapi import FakeBotAPI
from tests.storydata import made_story
from tests.storywriter import StoryWriter
from tests.telegram_html import check

MOSCOW = ZoneInfo("Europe/Moscow")
TODAY = date(2026, 11, 21)
NINE_THIRTY = datetime(2026, 11, 21, 9, 30, tzinfo=MOSCOW)


def at(hour: int, minute: int = 0, day: date = TODAY) -> datetime:
    return datetime.combine(day, time(hour, minute), MOSCOW).astimezone(UTC)


@pytest.fixture
def stories(store) -> None:
    writer = StoryWriter(store)
    for number, (hour, day) in enumerate([(10, 20), (23, 20), (8, 21), (9, 5)], start=1):
        writer.put(made_story(number), at=datetime(2026, 11, day, hour, tzinfo=MOSCOW))


def scheduler(store, **config) -> DigestScheduler:
    return DigestScheduler(store, DigestConfig(tz=MOSCOW, **config))


def test_a_digest_is_due_at_the_subscribers_local_time_once_a_day(store, stories) -> None:
    store.subscribe(1, user_id=1, ui_lang="ru", at=at(8, 0, date(2026, 11, 1)))
    digests = scheduler(store)
    assert digests.enqueue_due(at(8, 59)) == 0
    assert digests.enqueue_due(at(9, 0)) == 1
    assert digests.enqueue_due(at(9, 1)) == 0  # once per day
    (item,) = store.outbox_items(kind="digest")
    assert item.ref == "2026-11-21/1"
    plain, _ = check(item.payload)
    assert plain.startswith("Дайджест за 21.11.2026\n3 истории за последние 24 часа")
    assert "№ 4" not in plain  # created at 09:05, after the digest time: tomorrow's


def test_each_subscriber_has_their_own_time_and_switches(store, stories) -> None:
    long_ago = at(8, 0, date(2026, 11, 1))
    store.subscribe(1, user_id=1, ui_lang="en", at=long_ago)
    store.subscribe(2, user_id=2, ui_lang="en", at=long_ago)
    store.update_subscriber(2, at=long_ago, digest_time=time(12, 0))
    store.subscribe(3, user_id=3, ui_lang="en", at=long_ago)
    store.update_subscriber(3, at=long_ago, digest=False)
    store.subscribe(4, user_id=4, ui_lang="en", at=at(9, 10))  # after today's 09:00
    digests = scheduler(store)
    assert digests.enqueue_due(NINE_THIRTY.astimezone(UTC)) == 1
    assert digests.enqueue_due(at(12, 5)) == 1
    assert {item.chat_id for item in store.outbox_items()} == {1, 2}
    assert digests.enqueue_due(at(9, 5, date(2026, 11, 22))) == 2  # 1 and 4, the next day


def test_a_digest_too_late_is_skipped(store, stories) -> None:
    store.subscribe(1, user_id=1, ui_lang="en", at=at(8, 0, date(2026, 11, 1)))
    assert scheduler(store).enqueue_due(at(13, 0)) == 0  # 4 hours late: not today


def test_an_empty_day_says_so_or_is_skipped(store) -> None:
    store.subscribe(1, user_id=1, ui_lang="en", at=at(8, 0, date(2026, 11, 1)))
    store.subscribe(2, user_id=2, ui_lang="en", at=at(8, 0, date(2026, 11, 1)))
    store.update_subscriber(2, at=at(8, 0), story_langs="en")
    assert scheduler(store).enqueue_due(at(9, 0)) == 2
    (item,) = [item for item in store.outbox_items() if item.chat_id == 1]
    assert check(item.payload)[0].endswith("No new stories in the last 24 hours.")

    other_day = date(2026, 11, 22)
    assert scheduler(store, skip_empty=True).enqueue_due(at(9, 0, other_day)) == 2
    assert len(store.outbox_items()) == 2  # nothing new queued...
    assert store.digest_days(other_day) == {1, 2}  # ...and the day is done for both


async def test_a_long_digest_arrives_split_and_in_order(store) -> None:
    writer = StoryWriter(store)
    for number in range(1, 91):
        story = made_story(number, lang="ru" if number % 2 else "en", sources=1 + number % 3)
        writer.put(story, at=at(9, 0) - timedelta(minutes=number * 10))
    store.subscribe(42, user_id=42, ui_lang="en", at=at(8, 0, date(2026, 11, 1)))
    store.update_subscriber(42, at=at(8, 0), alerts=False)  # the digest only
    assert scheduler(store).enqueue_due(at(9, 0)) == 1
    parts = store.outbox_items(kind="digest")
    assert len(parts) >= 3

    with FakeBotAPI() as api:
        async with ExtBot(
            api.token, base_url=api.base_url, rate_limiter=AIORateLimiter(max_retries=0)
        ) as bot:
            config = DeliveryConfig(rate=100, chat_interval=0.1, tz=MOSCOW)
            delivery = Delivery(store, TelegramSender(bot), config)
            report = await delivery.run_once()
    assert report.sent == len(parts)
    texts = [message.text for message in api.sent(42)]
    assert [text.split(" ")[0] for text in texts] == [
        f"({n}/{len(parts)})" for n in range(1, len(parts) + 1)
    ]
    assert sum(text.count("Court fines") + text.count("Суд назначил") for text in texts) == 90
