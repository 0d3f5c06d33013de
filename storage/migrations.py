"""Named, ordered schema migrations; each runs once per database, inside a transaction.

A migration is applied when its name is missing from `_migrations`, so a database made by any
earlier version of RepostWatch is brought up to date by opening it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    name: str
    statements: tuple[str, ...]


def migration(name: str, *statements: str) -> Migration:
    return Migration(name, tuple(statements))


CORE = [
    migration(
        "0001_feeds_articles",
        """CREATE TABLE feeds (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            language TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            last_fetch_at TEXT,
            last_status TEXT,
            last_http_status INTEGER,
            last_error TEXT,
            error_count INTEGER NOT NULL DEFAULT 0,
            next_poll_at TEXT,
            items_last INTEGER NOT NULL DEFAULT 0,
            articles_total INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            feed TEXT NOT NULL,
            guid TEXT,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            lang TEXT NOT NULL,
            source TEXT NOT NULL,
            published TEXT,
            author TEXT,
            fetched_at TEXT NOT NULL,
            score REAL,
            model_version TEXT
        )""",
        "CREATE INDEX articles_fetched_at ON articles (fetched_at)",
        "CREATE INDEX articles_feed_guid ON articles (feed, guid)",
    ),
]


def apply(conn: sqlite3.Connection, migrations: list[Migration]) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied now."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for step in migrations:
        if step.name in done:
            continue
        with _transaction(conn):
            # Another process opening the same database may have applied it meanwhile: we hold
            # the write lock now, so what _migrations says is final.
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (step.name,)).fetchone():
                continue
            for statement in step.statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))",
                (step.name,),
            )
        applied.append(step.name)
    return applied


class _transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type | None, *_: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
