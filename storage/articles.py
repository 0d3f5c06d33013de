"""Articles: stored once per canonical URL, never deleted by a poll."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from storage.base import StoreBase, from_db_time, to_db_time, utcnow
from storage.records import Article, NewArticle


class ArticleStore(StoreBase):
    def add_article(self, new: NewArticle, *, fetched_at: datetime | None = None) -> Article | None:
        """Store an article; None when its canonical URL is already stored."""
        fetched = fetched_at or utcnow()
        with self.transaction() as conn:
            cursor = conn.execute(
                """INSERT INTO articles (url, feed, guid, title, text, lang, source, published,
                    author, fetched_at, score, model_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (url) DO NOTHING""",
                (
                    new.url,
                    new.feed,
                    new.guid,
                    new.title,
                    new.text,
                    new.lang,
                    new.source,
                    to_db_time(new.published),
                    new.author,
                    to_db_time(fetched),
                    new.score,
                    new.model_version,
                ),
            )
            if cursor.rowcount == 0:
                return None
            article_id = cursor.lastrowid
            # Counted in the same transaction, so a crash can never leave the count behind.
            conn.execute(
                "UPDATE feeds SET articles_total = articles_total + 1 WHERE name = ?", (new.feed,)
            )
        return self.article(article_id)

    def article(self, article_id: int) -> Article | None:
        rows = self.query("SELECT * FROM articles WHERE id = ?", (article_id,))
        return _article(rows[0]) if rows else None

    def article_by_url(self, url: str) -> Article | None:
        rows = self.query("SELECT * FROM articles WHERE url = ?", (url,))
        return _article(rows[0]) if rows else None

    def stored_urls(self, urls: Iterable[str]) -> set[str]:
        """Which of these canonical URLs are already stored."""
        wanted = list(dict.fromkeys(urls))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.query(f"SELECT url FROM articles WHERE url IN ({marks})", tuple(chunk))
            found.update(row["url"] for row in rows)
        return found

    def articles_since(self, since: datetime) -> list[Article]:
        rows = self.query(
            "SELECT * FROM articles WHERE fetched_at >= ? ORDER BY fetched_at, id",
            (to_db_time(since),),
        )
        return [_article(row) for row in rows]

    def count_articles(self) -> int:
        return int(self.scalar("SELECT count(*) FROM articles") or 0)


def _article(row: dict) -> Article:
    return Article(
        id=row["id"],
        url=row["url"],
        feed=row["feed"],
        title=row["title"],
        text=row["text"],
        lang=row["lang"],
        source=row["source"],
        fetched_at=from_db_time(row["fetched_at"]),
        published=from_db_time(row["published"]),
        author=row["author"],
        guid=row["guid"],
        score=row["score"],
        model_version=row["model_version"],
        story_id=row.get("story_id"),
    )
