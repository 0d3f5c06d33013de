"""Console mode: each new relevant story printed once, the digest once a day."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.console import ConsoleAnnouncer
from bot.digest import DigestConfig
from tests.storydata import fixture_stories
from tests.storywriter import StoryWriter

MOSCOW = ZoneInfo("Europe/Moscow")
START = datetime(2026, 11, 21, 9, 30, tzinfo=MOSCOW).astimezone(UTC)


def test_new_stories_are_printed_once_and_older_ones_never(store) -> None:
    stories = {story.id: story for story in fixture_stories()}
    writer = StoryWriter(store)
    writer.put(stories[2], at=START - timedelta(hours=1))  # before the console started
    now = [START]
    out = io.StringIO()
    console = ConsoleAnnouncer(store, out, DigestConfig(tz=MOSCOW), clock=lambda: now[0])
    assert console.announce() == 0

    writer.put(stories[1], at=START + timedelta(minutes=5))
    now[0] = START + timedelta(minutes=6)
    assert console.announce() == 1
    assert console.announce() == 0
    printed = out.getvalue()
    headline = printed.split("\n")[1]
    assert printed.startswith("=== alert: story")
    assert headline.startswith("Суд в Казани оштрафовал пенсионера")
    assert "Sources (3):" in printed and "Tomsk" not in printed
    assert "<b>" not in printed and "https://kazan-vesti.example/news/2026/11/20/" in printed


def test_the_digest_is_printed_once_at_its_time(store) -> None:
    stories = {story.id: story for story in fixture_stories()}
    StoryWriter(store).put(stories[2], at=START - timedelta(hours=3))
    now = [START - timedelta(hours=1)]  # 08:30
    out = io.StringIO()
    console = ConsoleAnnouncer(store, out, DigestConfig(tz=MOSCOW), clock=lambda: now[0])
    assert not console.digest_if_due()
    now[0] = START
    assert console.digest_if_due()
    assert not console.digest_if_due()
    assert out.getvalue().startswith("=== daily digest\nDigest for 21 Nov 2026\n1 story")
