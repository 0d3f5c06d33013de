"""The `Store`: every domain's methods over one SQLite database."""

from __future__ import annotations

from pathlib import Path

from storage import delivery, feeds, models, stories
from storage.articles import ArticleStore
from storage.delivery import DeliveryStore
from storage.feeds import FeedStore
from storage.migrations import CORE, Migration, apply
from storage.models import ModelStore
from storage.stories import StoryStore

MIGRATIONS: list[Migration] = [
    *CORE,
    *feeds.MIGRATIONS,
    *stories.MIGRATIONS,
    *models.MIGRATIONS,
    *delivery.MIGRATIONS,
]


class Store(FeedStore, ArticleStore, StoryStore, ModelStore, DeliveryStore):
    """Open (and migrate) the database at `path`."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        with self._lock:
            apply(self.conn, MIGRATIONS)

    def schema_versions(self) -> list[str]:
        return [row["name"] for row in self.query("SELECT name FROM _migrations ORDER BY rowid")]
