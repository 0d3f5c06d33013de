"""Moderators' work: labels from buttons, the review queue, retraining, figures.

A story's label is the label of the article it shows (its headline), which is what the
moderator judged. Labels are upserted: a second click changes the label, never adds one.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from poller.scoring import Retrained, retrain_apart
from storage import Store
from storage.base import utcnow
from storage.records import Article, Story

DEFAULT_THRESHOLD = 0.5


class RetrainBusy(RuntimeError):
    """A training run is going on already."""


@dataclass(frozen=True)
class Review:
    threshold: float
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class Stats:
    subscribers_active: int
    subscribers_total: int
    articles: int
    stories: int
    labels: int
    outbox: dict[str, int] = field(default_factory=dict)
    model_version: str | None = None
    model_threshold: float | None = None
    model_examples: int | None = None
    model_metrics: dict = field(default_factory=dict)


class Moderation:
    def __init__(
        self,
        store: Store,
        models_dir: Path,
        *,
        clock: Callable[[], datetime] = utcnow,
        review_window: timedelta = timedelta(days=3),
    ) -> None:
        self.store = store
        self.models_dir = models_dir
        self.clock = clock
        self.review_window = review_window
        self._training = asyncio.Lock()

    # -- labels ------------------------------------------------------------------------------------

    def face_article(self, story: Story) -> int | None:
        """The article whose headline the story shows."""
        face = getattr(story, "first_article_id", None)
        if face is not None:
            return face
        for source in story.sources:
            if source.url == story.url:
                return source.article_id
        return story.sources[0].article_id if story.sources else None

    def story_label(self, story: Story) -> tuple[bool | None, str | None]:
        """(label, who) for rendering a moderator's alert; sync, for a worker thread."""
        article_id = self.face_article(story)
        label = self.store.label(article_id) if article_id is not None else None
        return (None, None) if label is None else (bool(label.label), None)

    def article_label(self, article_id: int) -> bool | None:
        label = self.store.label(article_id)
        return None if label is None else bool(label.label)

    async def label_story(self, story_id: int, relevant: bool, moderator: int) -> Story | None:
        """Label the story's headline article; None if the story is unknown."""
        story = await asyncio.to_thread(self.store.story, story_id)
        article_id = self.face_article(story) if story is not None else None
        if article_id is None:
            return None
        await self._set(article_id, relevant, moderator)
        return story

    async def label_article(
        self, article_id: int, relevant: bool, moderator: int
    ) -> Article | None:
        article = await asyncio.to_thread(self.store.article, article_id)
        if article is None:
            return None
        await self._set(article_id, relevant, moderator)
        return article

    async def _set(self, article_id: int, relevant: bool, moderator: int) -> None:
        await asyncio.to_thread(
            self.store.set_label, article_id, int(relevant), moderator, at=self.clock()
        )

    async def threshold(self) -> float:
        model = await asyncio.to_thread(self.store.active_model)
        return model.threshold if model is not None else DEFAULT_THRESHOLD

    # -- review --------------------------------------------------------------------------------------

    async def review(self, limit: int = 5) -> Review:
        return await asyncio.to_thread(self._review, limit)

    def _review(self, limit: int) -> Review:
        """Recent scored articles nobody labelled, closest to the alert threshold first."""
        model = self.store.active_model()
        threshold = model.threshold if model is not None else DEFAULT_THRESHOLD
        labelled = {label.article_id for label in self.store.labels()}
        candidates = [
            article
            for article in self.store.articles_since(self.clock() - self.review_window)
            if article.score is not None
            and not math.isnan(article.score)
            and article.id not in labelled
        ]
        candidates.sort(key=lambda article: (abs(article.score - threshold), -article.id))
        return Review(threshold, tuple(candidates[:limit]))

    # -- retraining --------------------------------------------------------------------------------

    async def retrain(self) -> Retrained:
        """Train in a child process, off the event loop; only one run at a time."""
        if self._training.locked():
            raise RetrainBusy
        async with self._training:
            return await asyncio.to_thread(retrain_apart, self.store, self.models_dir)

    # -- figures -------------------------------------------------------------------------------------

    async def stats(self) -> Stats:
        return await asyncio.to_thread(self._stats)

    def _stats(self) -> Stats:
        subscribers = self.store.subscriber_counts()
        model = self.store.active_model()
        return Stats(
            subscribers_active=subscribers["active"],
            subscribers_total=subscribers["total"],
            articles=self.store.count_articles(),
            stories=self.store.count_stories(),
            labels=len(self.store.labels()),
            outbox=self.store.outbox_counts(),
            model_version=model.version if model else None,
            model_threshold=model.threshold if model else None,
            model_examples=model.examples if model else None,
            model_metrics=dict(model.metrics) if model else {},
        )
