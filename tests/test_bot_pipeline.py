"""The whole path: feeds polled, articles scored and matched into stories, alerts delivered."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from bot.app import Schedule
from bot.cli import cli
from bot.demo import FIXTURES, FixtureSite, demo_feeds
from bot.polling import PollJob
from bot.relevance import RelevanceHooks
from poller.pipeline import PollSettings
from tests.botharness import READER_EN, READER_RU, running_bot

WAS = datetime.now(UTC) - timedelta(hours=1)


async def test_polled_news_reaches_subscribers_once_per_story(store, tmp_path) -> None:
    store.subscribe(READER_RU, user_id=READER_RU, ui_lang="ru", at=WAS)
    store.subscribe(READER_EN, user_id=READER_EN, ui_lang="en", at=WAS)
    store.update_subscriber(READER_RU, at=WAS, digest=False)
    store.update_subscriber(READER_EN, at=WAS, story_langs="en", digest=False)
    with FixtureSite(FIXTURES) as site:
        job = PollJob(
            store,
            demo_feeds(FIXTURES, site.base),
            PollSettings(allow_private_links=True),
            hooks=lambda: RelevanceHooks(store, tmp_path / "models"),
        )
        schedule = Schedule(delivery_every=0.2, poll_every=3600)  # one poll cycle
        async with running_bot(store, tmp_path, poll=job, schedule=schedule) as bot:
            await bot.api.wait_for(lambda: all_polled(store), timeout=120)
            relevant = store.stories_since(WAS)
            ids = {story.id for story in relevant}
            await bot.api.wait_for(lambda: set(store.fanned_out(ids)) == ids, timeout=30)
            await bot.api.wait_for(lambda: not store.due_outbox(now=datetime.now(UTC)))
            await bot.api.wait_for(lambda: not bot.delivery.running)
    russian = [message.text for message in bot.api.sent(READER_RU)]
    english = [message.text for message in bot.api.sent(READER_EN)]
    assert len(russian) == len(relevant) >= 2  # every relevant story, once
    assert any("Томск" in text and "репост" in text for text in russian)
    assert not any("снегопад" in text for text in russian)  # not about prosecution
    assert 1 <= len(english) <= len(russian)
    assert all(re.search(r"Sources \(\d+\):", text) for text in english)
    counts = store.outbox_counts()
    assert counts == {"sent": len(russian) + len(english)}


def all_polled(store) -> bool:
    states = store.feed_states()
    return bool(states) and all(state.last_fetch_at is not None for state in states)


def test_the_demo_prints_the_alerts_it_would_send() -> None:
    result = CliRunner().invoke(cli, ["demo"], env={"REPOSTWATCH_TZ": "Europe/Moscow"})
    assert result.exit_code == 0, result.output
    alerts = result.output.split("The alerts it would send")[1]
    assert alerts.count("=== alert: story") >= 2
    assert "Томская учительница" in alerts or "В Томске учительницу" in alerts
    assert "снегопад" not in alerts
