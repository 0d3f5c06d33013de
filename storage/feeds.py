"""Feed state: validators for conditional GET, health, schedule. Failures are data here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.base import StoreBase, from_db_time, to_db_time
from storage.migrations import Migration, migration
from storage.records import FeedState

MIGRATIONS: list[Migration] = [
    # What went wrong inside a feed that was fetched fine (a malformed body, a refused or
    # failed page, an entry without a link), so `repostwatch feeds` can show it.
    migration(
        "feeds_0001_problems",
        "ALTER TABLE feeds ADD COLUMN problems_last INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE feeds ADD COLUMN last_problem TEXT",
    ),
]


class FeedStore(StoreBase):
    def sync_feeds(self, feeds: list[tuple[str, str, str]]) -> None:
        """Make the feeds table list exactly these (name, url, language); keep each one's state.

        A feed whose URL changed loses its validators, so the new address is fetched in full.
        """
        with self.transaction() as conn:
            for name, url, language in feeds:
                conn.execute(
                    """INSERT INTO feeds (name, url, language) VALUES (?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET
                        etag = CASE WHEN url = excluded.url THEN etag END,
                        last_modified = CASE WHEN url = excluded.url THEN last_modified END,
                        url = excluded.url, language = excluded.language""",
                    (name, url, language),
                )
            names = [name for name, _, _ in feeds]
            conn.execute(
                f"DELETE FROM feeds WHERE name NOT IN ({','.join('?' * len(names))})", names
            )

    def feed_state(self, name: str) -> FeedState | None:
        rows = self.query("SELECT * FROM feeds WHERE name = ?", (name,))
        return _feed_state(rows[0]) if rows else None

    def feed_states(self) -> list[FeedState]:
        return [_feed_state(row) for row in self.query("SELECT * FROM feeds ORDER BY name")]

    def record_feed_ok(
        self,
        name: str,
        *,
        at: datetime,
        next_poll_at: datetime,
        http_status: int,
        etag: str | None,
        last_modified: str | None,
        items: int,
        problems: Sequence[str] = (),
    ) -> None:
        """A fetched and processed feed; `problems` are what went wrong within it, first first."""
        self._update_feed(
            name,
            last_fetch_at=to_db_time(at),
            next_poll_at=to_db_time(next_poll_at),
            last_status="ok",
            last_http_status=http_status,
            last_error=None,
            error_count=0,
            etag=etag,
            last_modified=last_modified,
            items_last=items,
            problems_last=len(problems),
            last_problem=problems[0] if problems else None,
        )

    def record_feed_not_modified(self, name: str, *, at: datetime, next_poll_at: datetime) -> None:
        self._update_feed(
            name,
            last_fetch_at=to_db_time(at),
            next_poll_at=to_db_time(next_poll_at),
            last_status="not-modified",
            last_http_status=304,
            last_error=None,
            error_count=0,
        )

    def record_feed_error(
        self,
        name: str,
        error: str,
        *,
        at: datetime,
        next_poll_at: datetime,
        http_status: int | None = None,
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                """UPDATE feeds SET last_fetch_at = ?, next_poll_at = ?, last_status = 'error',
                    last_http_status = ?, last_error = ?, error_count = error_count + 1
                WHERE name = ?""",
                (to_db_time(at), to_db_time(next_poll_at), http_status, error, name),
            )

    def _update_feed(self, name: str, **values: object) -> None:
        columns = ", ".join(f"{column} = ?" for column in values)
        with self.transaction() as conn:
            conn.execute(f"UPDATE feeds SET {columns} WHERE name = ?", (*values.values(), name))


def _feed_state(row: dict) -> FeedState:
    return FeedState(
        name=row["name"],
        url=row["url"],
        language=row["language"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_fetch_at=from_db_time(row["last_fetch_at"]),
        last_status=row["last_status"],
        last_http_status=row["last_http_status"],
        last_error=row["last_error"],
        error_count=row["error_count"],
        next_poll_at=from_db_time(row["next_poll_at"]),
        items_last=row["items_last"],
        articles_total=row["articles_total"],
        problems_last=row["problems_last"],
        last_problem=row["last_problem"],
    )
