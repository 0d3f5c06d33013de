"""Stories for the bot's tests: the fixture file, and generated ones for sizes and counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from storage.records import Source, Story
from tests.conftest import FIXTURES

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def fixture_stories() -> list[Story]:
    raw = json.loads((FIXTURES / "bot" / "stories.json").read_text(encoding="utf-8"))
    return [_story(item) for item in raw]


def _story(item: dict) -> Story:
    created = datetime.fromisoformat(item["created_at"])
    sources = tuple(
        Source(
            article_id=s["article_id"],
            feed=s["feed"],
            lang=s["lang"],
            url=s["url"],
            title=s["title"],
            published=datetime.fromisoformat(s["published"]) if s["published"] else None,
        )
        for s in item["sources"]
    )
    return Story(
        id=item["id"],
        created_at=created,
        updated_at=created,
        title=item["title"],
        lang=item["lang"],
        url=item["url"],
        summaries=item["summaries"],
        sources=sources,
        score=item["score"],
        relevant=item["relevant"],
    )


def made_story(
    number: int, *, lang: str = "ru", sources: int = 1, summary_words: int = 40
) -> Story:
    """A plausible generated story; numbered so that titles and addresses differ."""
    created = T0 + timedelta(minutes=number)
    base = f"https://outlet{number % 7}.example/{lang}/2026/11/21/case-{number}"
    title = (
        f"Суд назначил штраф жителю области № {number} за публикацию в соцсети"
        if lang == "ru"
        else f"Court fines resident No. {number} over a social media post"
    )
    word = "публикация" if lang == "ru" else "publication"
    return Story(
        id=number,
        created_at=created,
        updated_at=created,
        title=title,
        lang=lang,
        url=base,
        summaries={lang: " ".join(f"{word}{i}" for i in range(summary_words)) + "."},
        sources=tuple(
            Source(
                article_id=number * 1000 + n,
                feed=f"outlet-{n}",
                lang=lang,
                url=base if n == 0 else f"{base}/mirror-{n}",
                title=f"{title} ({n})",
                published=created,
            )
            for n in range(sources)
        ),
        score=0.9,
        relevant=True,
    )
