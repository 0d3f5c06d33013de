"""Stories put into the real store the way the poller does: articles first, then the story."""

from __future__ import annotations

from datetime import datetime

from storage import NewArticle, Source, Store, Story


class StoryWriter:
    def __init__(self, store: Store) -> None:
        self.store = store

    def put(self, story: Story, *, at: datetime | None = None) -> Story:
        """Store the story's reports as articles (fetched at `at`, default its creation time)
        and make them one story; returns the story as the store gives it back."""
        at = at or story.created_at
        face = next((s for s in story.sources if s.url == story.url), story.sources[0])
        story_id = self.store.create_story(
            self._article(face, story, at),
            relevant=story.relevant,
            summary=story.summaries.get(face.lang),
            at=at,
        )
        for source in story.sources:
            if source is not face:
                self.add_source(story_id, source, at=at, summary=story.summaries.get(source.lang))
        return self.store.story(story_id)

    def add_source(
        self, story_id: int, source: Source, *, at: datetime, summary: str | None = None
    ) -> Story:
        """Another outlet reports the story."""
        article_id = self._article(source, None, at)
        self.store.attach_article(story_id, article_id, summary=summary, at=at)
        return self.store.story(story_id)

    def _article(self, source: Source, story: Story | None, at: datetime) -> int:
        text = (story.summaries.get(source.lang) if story else None) or source.title
        article = self.store.add_article(
            NewArticle(
                url=source.url,
                feed=source.feed,
                title=source.title,
                text=text,
                lang=source.lang,
                source="page",
                published=source.published,
                score=story.score if story else None,
            ),
            fetched_at=at,
        )
        return article.id
