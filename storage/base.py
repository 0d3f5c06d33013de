"""Connection handling shared by every part of the `Store`."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 30_000


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def from_db_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the database to WAL. The switch needs the database to itself and SQLite does not
    wait for that (no busy handler), so another process opening a new database at the same
    moment is waited for here."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class StoreError(Exception):
    """A storage operation that cannot be done; the message says why."""


class StoreBase:
    """One SQLite connection in WAL mode, shared by threads under a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on error; re-entrant within one thread."""
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict]:
        with self._lock:
            return list(self.db.query(sql, params))

    def scalar(self, sql: str, params: tuple | dict = ()) -> object:
        with self._lock:
            row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def backup(self, target: str | Path) -> Path:
        """Copy the database to `target` with SQLite's online backup API.

        The copy is one consistent snapshot, taken in a single read transaction on a
        connection of its own, so it neither waits for nor blocks writers (WAL), and it
        includes what is still only in the write-ahead log. It is written beside `target`,
        checked, made a self-contained file (no -wal/-shm) and renamed into place, so
        `target` is never a half-written database.
        """
        target = Path(target)
        if str(self.path) == ":memory:":
            raise StoreError("an in-memory database cannot be backed up")
        if target.exists() and target.resolve() == self.path.resolve():
            raise StoreError(f"{target} is the database itself; back up to another file")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.unlink(missing_ok=True)
        source = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000)
        copy = sqlite3.connect(str(partial), isolation_level=None)
        try:
            source.backup(copy)  # every page in one step: one snapshot
            copy.execute("PRAGMA journal_mode = DELETE")
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
            source.close()
        if check != "ok":
            partial.unlink(missing_ok=True)
            raise StoreError(f"the backup failed its integrity check: {check}")
        os.replace(partial, target)
        return target

    def close(self) -> None:
        with self._lock:
            self.conn.close()
