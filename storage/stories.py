"""Stories: one event reported by one or more outlets, in one or more languages.

Every article points to its story. A story keeps its first relevant article (its first article
while none is relevant), the highest relevance score among its articles, one summary per
language, and the earlier story it follows up, if any. `story_signatures` keeps what the story
matcher needs to rebuild its in-memory index after a restart without re-reading article text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime

from storage.articles import _article
from storage.base import StoreBase, from_db_time, to_db_time
from storage.migrations import Migration, migration
from storage.records import Article, Source, Story, StorySignature

MIGRATIONS: list[Migration] = [
    migration(
        "stories_0001_stories",
        """CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            first_article_id INTEGER NOT NULL REFERENCES articles(id),
            parent_id INTEGER REFERENCES stories(id),
            relevant INTEGER NOT NULL DEFAULT 0,
            score REAL
        )""",
        "CREATE INDEX stories_updated_at ON stories (updated_at)",
        "CREATE INDEX stories_created_at ON stories (created_at)",
        "CREATE INDEX stories_parent_id ON stories (parent_id)",
        """CREATE TABLE story_summaries (
            story_id INTEGER NOT NULL REFERENCES stories(id),
            lang TEXT NOT NULL,
            summary TEXT NOT NULL,
            PRIMARY KEY (story_id, lang)
        ) WITHOUT ROWID""",
        "ALTER TABLE articles ADD COLUMN story_id INTEGER REFERENCES stories(id)",
        "CREATE INDEX articles_story_id ON articles (story_id)",
    ),
    migration(
        "stories_0002_signatures",
        """CREATE TABLE story_signatures (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id),
            at TEXT NOT NULL,
            minhash BLOB NOT NULL,
            keys TEXT NOT NULL,
            lead_keys TEXT NOT NULL
        )""",
        "CREATE INDEX story_signatures_at ON story_signatures (at)",
    ),
]

_KEY_SEPARATOR = "\n"


class StoryStore(StoreBase):
    def create_story(
        self,
        article_id: int,
        *,
        relevant: bool,
        summary: str | None = None,
        parent_id: int | None = None,
        at: datetime | None = None,
    ) -> int:
        """Start a story with this article; returns the story's id."""
        with self.transaction() as conn:
            lang, score, fetched_at = _article_facts(conn, article_id)
            when = to_db_time(at) if at else fetched_at
            cursor = conn.execute(
                """INSERT INTO stories
                    (created_at, updated_at, first_article_id, parent_id, relevant, score)
                VALUES (?, ?, ?, ?, ?, ?)""",
                (when, when, article_id, parent_id, int(relevant), score),
            )
            story_id = int(cursor.lastrowid)
            conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", (story_id, article_id))
            if summary:
                conn.execute(
                    "INSERT INTO story_summaries (story_id, lang, summary) VALUES (?, ?, ?)",
                    (story_id, lang, summary),
                )
        return story_id

    def attach_article(
        self,
        story_id: int,
        article_id: int,
        *,
        relevant: bool = False,
        summary: str | None = None,
        at: datetime | None = None,
    ) -> int:
        """Add an article to a story; returns the story's id.

        The first relevant article becomes the story's face (title, url and the summary in its
        language); otherwise a summary is kept only for a language the story had none in.
        """
        with self.transaction() as conn:
            lang, score, fetched_at = _article_facts(conn, article_id)
            when = to_db_time(at) if at else fetched_at
            row = conn.execute("SELECT relevant FROM stories WHERE id = ?", (story_id,)).fetchone()
            if row is None:
                raise KeyError(f"no story {story_id}")
            promotes = relevant and not row[0]
            conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", (story_id, article_id))
            conn.execute(
                """UPDATE stories SET
                    updated_at = max(updated_at, ?),
                    score = CASE WHEN ? IS NULL THEN score
                                 WHEN score IS NULL OR ? > score THEN ? ELSE score END,
                    relevant = relevant OR ?,
                    first_article_id = CASE WHEN ? THEN ? ELSE first_article_id END
                WHERE id = ?""",
                (when, score, score, score, int(relevant), int(promotes), article_id, story_id),
            )
            if summary:
                verb = "INSERT OR REPLACE" if promotes else "INSERT OR IGNORE"
                conn.execute(
                    f"{verb} INTO story_summaries (story_id, lang, summary) VALUES (?, ?, ?)",
                    (story_id, lang, summary),
                )
        return story_id

    def story(self, story_id: int) -> Story | None:
        stories = self._stories("s.id = ?", (story_id,))
        return stories[0] if stories else None

    def stories_since(
        self, since: datetime, *, relevant_only: bool = True, limit: int | None = None
    ) -> list[Story]:
        """Stories that gained an article since `since`, the most recently updated first."""
        where = "s.updated_at >= ?" + (" AND s.relevant = 1" if relevant_only else "")
        return self._stories(where, (to_db_time(since),), limit=limit)

    def story_articles(self, story_id: int) -> list[Article]:
        rows = self.query(
            "SELECT * FROM articles WHERE story_id = ? ORDER BY coalesce(published, fetched_at), id",
            (story_id,),
        )
        return [_article(row) for row in rows]

    def count_stories(self) -> int:
        return int(self.scalar("SELECT count(*) FROM stories") or 0)

    def unassigned_articles_since(self, since: datetime) -> list[Article]:
        """Stored articles that no story holds yet, oldest first (say, after a crash)."""
        rows = self.query(
            "SELECT * FROM articles WHERE fetched_at >= ? AND story_id IS NULL "
            "ORDER BY fetched_at, id",
            (to_db_time(since),),
        )
        return [_article(row) for row in rows]

    def save_story_signature(
        self,
        article_id: int,
        *,
        at: datetime,
        minhash: bytes,
        keys: Iterable[str],
        lead_keys: Iterable[str],
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                """INSERT OR REPLACE INTO story_signatures
                    (article_id, at, minhash, keys, lead_keys) VALUES (?, ?, ?, ?, ?)""",
                (
                    article_id,
                    to_db_time(at),
                    minhash,
                    _KEY_SEPARATOR.join(keys),
                    _KEY_SEPARATOR.join(lead_keys),
                ),
            )

    def story_signatures_since(
        self, since: datetime, *, first_only: bool = False, relevant_only: bool = False
    ) -> list[StorySignature]:
        """Signatures of articles reported since `since`, oldest first.

        With `first_only`, one per story: the signature of the article the story shows;
        with `relevant_only`, only those of relevant stories.
        """
        return list(
            self.iter_story_signatures_since(
                since, first_only=first_only, relevant_only=relevant_only
            )
        )

    def iter_story_signatures_since(
        self,
        since: datetime,
        *,
        first_only: bool = False,
        relevant_only: bool = False,
        page: int = 1000,
    ) -> Iterator[StorySignature]:
        """As `story_signatures_since`, a page of rows at a time: a matcher rebuilding its
        index from a week of signatures never holds them all as rows at once (which left
        the process ~60 MB larger for good)."""
        join = "s.first_article_id = a.id" if first_only else "s.id = a.story_id"
        if relevant_only:
            join += " AND s.relevant = 1"
        after: tuple[str, int] = (to_db_time(since) or "", -1)
        while True:
            rows = self.query(
                f"""SELECT g.article_id, a.story_id, a.feed, a.lang, g.at, g.minhash, g.keys,
                    g.lead_keys
                FROM story_signatures g
                JOIN articles a ON a.id = g.article_id
                JOIN stories s ON {join}
                WHERE g.at >= ? AND (g.at, g.article_id) > (?, ?)
                ORDER BY g.at, g.article_id
                LIMIT ?""",
                (to_db_time(since), *after, page),
            )
            for row in rows:
                yield _signature(row)
            if len(rows) < page:
                return
            after = (rows[-1]["at"], rows[-1]["article_id"])

    def latest_signature_at(self) -> datetime | None:
        return from_db_time(self.scalar("SELECT max(at) FROM story_signatures"))

    def _stories(self, where: str, params: tuple, *, limit: int | None = None) -> list[Story]:
        rows = self.query(
            f"""SELECT s.*, a.title, a.lang, a.url FROM stories s
            JOIN articles a ON a.id = s.first_article_id
            WHERE {where}
            ORDER BY s.updated_at DESC, s.id DESC
            {"LIMIT " + str(int(limit)) if limit else ""}""",
            params,
        )
        ids = [row["id"] for row in rows]
        summaries = self._summaries(ids)
        sources = self._sources(ids)
        return [
            _story(row, summaries.get(row["id"], {}), sources.get(row["id"], ())) for row in rows
        ]

    def _summaries(self, story_ids: list[int]) -> dict[int, dict[str, str]]:
        found: dict[int, dict[str, str]] = {}
        for chunk in _chunks(story_ids):
            marks = ",".join("?" * len(chunk))
            for row in self.query(
                f"SELECT * FROM story_summaries WHERE story_id IN ({marks})", tuple(chunk)
            ):
                found.setdefault(row["story_id"], {})[row["lang"]] = row["summary"]
        return found

    def _sources(self, story_ids: list[int]) -> dict[int, tuple[Source, ...]]:
        found: dict[int, list[Source]] = {}
        for chunk in _chunks(story_ids):
            marks = ",".join("?" * len(chunk))
            rows = self.query(
                f"""SELECT id, story_id, feed, lang, url, title, published FROM articles
                WHERE story_id IN ({marks}) ORDER BY coalesce(published, fetched_at), id""",
                tuple(chunk),
            )
            for row in rows:
                found.setdefault(row["story_id"], []).append(
                    Source(
                        article_id=row["id"],
                        feed=row["feed"],
                        lang=row["lang"],
                        url=row["url"],
                        title=row["title"],
                        published=from_db_time(row["published"]),
                    )
                )
        return {story_id: tuple(sources) for story_id, sources in found.items()}


def _article_facts(conn: sqlite3.Connection, article_id: int) -> tuple[str, float | None, str]:
    row = conn.execute(
        "SELECT lang, score, fetched_at FROM articles WHERE id = ?", (article_id,)
    ).fetchone()
    if row is None:
        raise KeyError(f"no article {article_id}")
    return row[0], row[1], row[2]


def _chunks(values: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _story(row: dict, summaries: dict[str, str], sources: tuple[Source, ...]) -> Story:
    return Story(
        id=row["id"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        title=row["title"],
        lang=row["lang"],
        url=row["url"],
        summaries=summaries,
        sources=sources,
        score=row["score"],
        relevant=bool(row["relevant"]),
        parent_id=row["parent_id"],
        first_article_id=row["first_article_id"],
    )


def _signature(row: dict) -> StorySignature:
    return StorySignature(
        article_id=row["article_id"],
        story_id=row["story_id"],
        feed=row["feed"],
        lang=row["lang"],
        at=from_db_time(row["at"]),
        minhash=row["minhash"],
        keys=tuple(row["keys"].split(_KEY_SEPARATOR)) if row["keys"] else (),
        lead_keys=tuple(row["lead_keys"].split(_KEY_SEPARATOR)) if row["lead_keys"] else (),
    )
