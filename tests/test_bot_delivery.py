"""Alerts and digests delivered by the running Application's own jobs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.app import Schedule
from tests.botharness import MODERATOR, READER_EN, READER_RU, running_bot
from tests.storydata import fixture_stories
from tests.storywriter import StoryWriter

MOSCOW = ZoneInfo("Europe/Moscow")


def put_recent(store, number: int, minutes_ago: int = 5):
    """Store a fixture story as created `minutes_ago` (negative: in a moment)."""
    story = {story.id: story for story in fixture_stories()}[number]
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    return StoryWriter(store).put(story, at=created)


async def test_a_new_story_reaches_subscribers_and_moderators_get_buttons(store, tmp_path):
    async with running_bot(store, tmp_path) as bot:
        await bot.command("/start", user_id=READER_RU, lang="ru")
        await bot.command("/start", user_id=MODERATOR)
        story = put_recent(store, 2, minutes_ago=-1)  # created just after they subscribed
        alert_ru, alert_mod = [
            (await bot.api.wait_messages(chat, 2))[1] for chat in (READER_RU, MODERATOR)
        ]
    assert alert_ru.text.startswith("Tomsk teacher faces criminal case")
    assert "Источники (1):" in alert_ru.text and alert_ru.buttons() == []
    assert alert_mod.buttons() == [
        [("✅ Relevant", f"label:s:{story.id}:1"), ("❌ Not relevant", f"label:s:{story.id}:0")]
    ]
    assert {item.status for item in store.outbox_items(kind="alert")} == {"sent"}


async def test_no_backlog_for_a_new_subscriber(store, tmp_path):
    story = put_recent(store, 1, minutes_ago=30)  # before anyone subscribed
    async with running_bot(store, tmp_path) as bot:
        await bot.command("/start", user_id=READER_EN)
        await bot.api.wait_for(lambda: store.fanned_out([story.id]))  # the job has seen it
        assert len(bot.api.sent(READER_EN)) == 1  # only the welcome
        assert store.outbox_items(kind="alert") == []


async def test_after_a_crash_pending_rows_go_out_once_and_sending_rows_never(store, tmp_path):
    story = put_recent(store, 2)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    for chat in (READER_EN, READER_RU):
        store.subscribe(chat, user_id=chat, ui_lang="en", at=an_hour_ago)
    now = datetime.now(UTC)
    store.fan_out_alert(story.id, [READER_EN, READER_RU], ["ru", "en"], at=now)
    interrupted = store.due_outbox(now=now)[0]
    store.claim(interrupted.id, at=now)  # the previous process died in this row's API call

    async with running_bot(store, tmp_path) as bot:
        await bot.api.wait_for(lambda: store.outbox_counts().get("sent") == 1)
        await bot.api.wait_for(lambda: bot.delivery.running is False)
    statuses = {item.chat_id: item.status for item in store.outbox_items()}
    assert statuses == {READER_EN: "uncertain", READER_RU: "sent"}
    assert [m.chat_id for m in bot.api.sent()] == [READER_RU]


async def test_the_daily_digest_job_sends_once_at_the_subscribers_time(store, tmp_path):
    nine_thirty = datetime(2026, 11, 21, 9, 30, tzinfo=MOSCOW).astimezone(UTC)
    story = {story.id: story for story in fixture_stories()}[1]
    StoryWriter(store).put(story, at=nine_thirty - timedelta(hours=2))
    for chat, lang in ((READER_EN, "en"), (READER_RU, "ru")):
        store.subscribe(chat, user_id=chat, ui_lang=lang, at=nine_thirty - timedelta(days=1))
        store.update_subscriber(chat, at=nine_thirty, alerts=False)
    store.update_subscriber(READER_RU, at=nine_thirty, digest_time=time(12, 0))
    schedule = Schedule(delivery_every=0.2, digest_every=0.1)
    async with running_bot(store, tmp_path, schedule=schedule, clock=lambda: nine_thirty) as bot:
        (digest,) = await bot.api.wait_messages(READER_EN, 1)
        await bot.api.wait_for(lambda: len(bot.api.calls_to("getUpdates")) > 10)
    assert digest.text.startswith("Digest for 21 Nov 2026\n1 story in the last 24 hours")
    assert "Суд в Казани оштрафовал пенсионера" in digest.text
    assert len(bot.api.sent(READER_EN)) == 1  # the job ran many times; the digest went once
    assert bot.api.sent(READER_RU) == []  # their time is 12:00
