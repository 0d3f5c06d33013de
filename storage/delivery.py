"""Subscribers and the delivery outbox: one message per (kind, reference, chat), at most.

An outbox row moves pending → sending → sent | uncertain | failed. It is committed as
`sending` before the API call, so a crash mid-call leaves evidence: such rows become
`uncertain` at the next start and are never resent blindly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from storage.base import StoreBase, from_db_time, to_db_time
from storage.migrations import Migration, migration
from storage.records import OutboxItem, Subscriber

MIGRATIONS: list[Migration] = [
    migration(
        "delivery_0001_subscribers_outbox",
        """CREATE TABLE subscribers (
            chat_id INTEGER PRIMARY KEY,
            user_id INTEGER,
            ui_lang TEXT NOT NULL DEFAULT 'en' CHECK (ui_lang IN ('ru', 'en')),
            story_langs TEXT NOT NULL DEFAULT 'both' CHECK (story_langs IN ('ru', 'en', 'both')),
            alerts INTEGER NOT NULL DEFAULT 1,
            digest INTEGER NOT NULL DEFAULT 1,
            digest_time TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            subscribed_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            deactivated_reason TEXT
        )""",
        "CREATE INDEX subscribers_active ON subscribers (active, subscribed_at)",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            chat_id INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'uncertain', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            payload TEXT,
            message_id INTEGER,
            last_error TEXT,
            not_before TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            sent_at TEXT,
            rendered_sources INTEGER NOT NULL DEFAULT 0,
            UNIQUE (kind, ref, chat_id)
        )""",
        "CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending'",
        "CREATE INDEX outbox_sending ON outbox (id) WHERE status = 'sending'",
        "CREATE INDEX outbox_chat ON outbox (chat_id)",
        "CREATE INDEX outbox_sent_kind ON outbox (kind, status, sent_at)",
        # A story is fanned out once: the rows for every recipient and this mark share a
        # transaction, so a later cycle never re-reads 10,000 subscribers for the same story.
        """CREATE TABLE delivery_fanout (
            story_id INTEGER PRIMARY KEY,
            recipients INTEGER NOT NULL,
            at TEXT NOT NULL
        )""",
        # One daily digest per chat and local day, whatever number of messages it takes.
        """CREATE TABLE delivery_digest_days (
            chat_id INTEGER NOT NULL,
            day TEXT NOT NULL,
            parts INTEGER NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (chat_id, day)
        )""",
    ),
    # A story fanned out in Russian that gains an English report is news for English
    # readers: the mark records the languages fanned out so far (rows from before: both).
    migration(
        "delivery_0002_fanout_languages",
        "ALTER TABLE delivery_fanout ADD COLUMN langs TEXT NOT NULL DEFAULT 'en,ru'",
    ),
]

UI_LANGS = ("ru", "en")
STORY_LANGS = ("ru", "en", "both")


class DeliveryStore(StoreBase):
    # -- subscribers ---------------------------------------------------------------------------

    def subscribe(
        self, chat_id: int, *, user_id: int | None, ui_lang: str, at: datetime
    ) -> tuple[Subscriber, bool]:
        """Subscribe a chat, or reactivate it; True when it was not active before.

        A returning chat keeps its settings but its subscription starts again now, so the
        stories it missed while away are not sent as alerts.
        """
        _check(ui_lang, UI_LANGS, "ui_lang")
        now = to_db_time(at)
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT active FROM subscribers WHERE chat_id = ?", (chat_id,)
            ).fetchone()
            if row is None:
                conn.execute(
                    """INSERT INTO subscribers (chat_id, user_id, ui_lang, subscribed_at, updated_at)
                    VALUES (?, ?, ?, ?, ?)""",
                    (chat_id, user_id, ui_lang, now, now),
                )
                started = True
            elif not row[0]:
                conn.execute(
                    """UPDATE subscribers SET active = 1, user_id = coalesce(?, user_id),
                        subscribed_at = ?, updated_at = ?, deactivated_reason = NULL
                    WHERE chat_id = ?""",
                    (user_id, now, now, chat_id),
                )
                started = True
            else:
                started = False
        return self.subscriber(chat_id), started

    def subscriber(self, chat_id: int) -> Subscriber | None:
        rows = self.query("SELECT * FROM subscribers WHERE chat_id = ?", (chat_id,))
        return _subscriber(rows[0]) if rows else None

    def update_subscriber(
        self,
        chat_id: int,
        *,
        at: datetime,
        ui_lang: str | None = None,
        story_langs: str | None = None,
        alerts: bool | None = None,
        digest: bool | None = None,
        digest_time: time | None = None,
    ) -> Subscriber | None:
        """Change the given settings of a known chat; None when the chat is unknown."""
        values: dict[str, object] = {}
        if ui_lang is not None:
            values["ui_lang"] = _check(ui_lang, UI_LANGS, "ui_lang")
        if story_langs is not None:
            values["story_langs"] = _check(story_langs, STORY_LANGS, "story_langs")
        if alerts is not None:
            values["alerts"] = int(alerts)
        if digest is not None:
            values["digest"] = int(digest)
        if digest_time is not None:
            values["digest_time"] = digest_time.strftime("%H:%M")
        values["updated_at"] = to_db_time(at)
        columns = ", ".join(f"{column} = ?" for column in values)
        with self.transaction() as conn:
            conn.execute(
                f"UPDATE subscribers SET {columns} WHERE chat_id = ?", (*values.values(), chat_id)
            )
        return self.subscriber(chat_id)

    def deactivate_subscriber(self, chat_id: int, *, reason: str, at: datetime) -> bool:
        """Stop sending to a chat (/stop, or Telegram said it is gone); True if it was active.

        Its pending messages fail with the reason, so nothing waits forever for a closed chat.
        """
        now = to_db_time(at)
        with self.transaction() as conn:
            changed = conn.execute(
                """UPDATE subscribers SET active = 0, deactivated_reason = ?, updated_at = ?
                WHERE chat_id = ? AND active = 1""",
                (reason, now, chat_id),
            ).rowcount
            conn.execute(
                """UPDATE outbox SET status = 'failed', last_error = ?, updated_at = ?
                WHERE chat_id = ? AND status = 'pending'""",
                (f"subscriber deactivated: {reason}", now, chat_id),
            )
        return bool(changed)

    def migrate_chat(self, old_chat_id: int, new_chat_id: int, *, at: datetime) -> None:
        """A group became a supergroup: its subscription and its messages move to the new id."""
        now = to_db_time(at)
        with self.transaction() as conn:
            taken = conn.execute(
                "SELECT 1 FROM subscribers WHERE chat_id = ?", (new_chat_id,)
            ).fetchone()
            if taken:
                conn.execute(
                    """UPDATE subscribers SET active = 0, updated_at = ?,
                        deactivated_reason = 'migrated to a chat already subscribed'
                    WHERE chat_id = ?""",
                    (now, old_chat_id),
                )
            else:
                conn.execute(
                    "UPDATE subscribers SET chat_id = ?, updated_at = ? WHERE chat_id = ?",
                    (new_chat_id, now, old_chat_id),
                )
            conn.execute(
                "UPDATE OR IGNORE outbox SET chat_id = ?, updated_at = ? WHERE chat_id = ?",
                (new_chat_id, now, old_chat_id),
            )
            # Rows the new chat already had a twin of stay behind; they must not go out.
            conn.execute(
                """UPDATE outbox SET status = 'failed', updated_at = ?,
                    last_error = 'chat migrated; the new chat has this message already'
                WHERE chat_id = ? AND status = 'pending'""",
                (now, old_chat_id),
            )
            conn.execute(
                "UPDATE OR IGNORE delivery_digest_days SET chat_id = ? WHERE chat_id = ?",
                (new_chat_id, old_chat_id),
            )

    def alert_recipients(self, languages: Iterable[str], created_at: datetime) -> list[int]:
        """Active chats with alerts on, reading one of these languages, subscribed by then."""
        langs = sorted(set(languages) & {"ru", "en"})
        marks = ",".join("?" * len(langs)) or "NULL"
        rows = self.conn_rows(
            f"""SELECT chat_id FROM subscribers
            WHERE active = 1 AND alerts = 1 AND subscribed_at <= ?
                AND (story_langs = 'both' OR story_langs IN ({marks}))
            ORDER BY chat_id""",
            (to_db_time(created_at), *langs),
        )
        return [row[0] for row in rows]

    def subscribers(self, chat_ids: Iterable[int]) -> dict[int, Subscriber]:
        wanted = list(dict.fromkeys(chat_ids))
        found: dict[int, Subscriber] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.query(
                f"SELECT * FROM subscribers WHERE chat_id IN ({marks})", tuple(chunk)
            ):
                found[row["chat_id"]] = _subscriber(row)
        return found

    def digest_subscribers(self) -> list[Subscriber]:
        rows = self.query(
            "SELECT * FROM subscribers WHERE active = 1 AND digest = 1 ORDER BY chat_id"
        )
        return [_subscriber(row) for row in rows]

    def subscriber_counts(self) -> dict[str, int]:
        row = self.conn_rows("SELECT count(*), coalesce(sum(active), 0) FROM subscribers", ())[0]
        return {"total": row[0], "active": row[1]}

    # -- fan-out -------------------------------------------------------------------------------

    def fanned_out(self, story_ids: Iterable[int]) -> dict[int, frozenset[str]]:
        """The languages in which each of these stories has had its alerts enqueued already."""
        wanted = list(dict.fromkeys(story_ids))
        found: dict[int, frozenset[str]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn_rows(
                f"SELECT story_id, langs FROM delivery_fanout WHERE story_id IN ({marks})",
                tuple(chunk),
            )
            found.update((row[0], _languages(row[1])) for row in rows)
        return found

    def fan_out_alert(
        self, story_id: int, chat_ids: Iterable[int], langs: Iterable[str], *, at: datetime
    ) -> int:
        """Enqueue the story's alert for these chats (readers of `langs`), once per chat and
        once per language; returns the rows added now."""
        now = to_db_time(at)
        ref = str(story_id)
        wanted = frozenset(langs)
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT langs FROM delivery_fanout WHERE story_id = ?", (story_id,)
            ).fetchone()
            done = _languages(row[0]) if row else frozenset()
            if row and wanted <= done:
                return 0
            before = conn.total_changes
            conn.executemany(
                """INSERT INTO outbox (kind, ref, chat_id, created_at, updated_at)
                VALUES ('alert', ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                ((ref, chat_id, now, now) for chat_id in chat_ids),
            )
            added = conn.total_changes - before
            conn.execute(
                """INSERT INTO delivery_fanout (story_id, recipients, at, langs)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (story_id) DO UPDATE SET recipients = recipients + excluded.recipients,
                    at = excluded.at, langs = excluded.langs""",
                (story_id, added, now, ",".join(sorted(done | wanted))),
            )
        return added

    def enqueue(
        self, kind: str, ref: str, chat_id: int, *, at: datetime, payload: str | None = None
    ) -> bool:
        """Add one message; False when (kind, ref, chat) is already in the outbox."""
        now = to_db_time(at)
        with self.transaction() as conn:
            return bool(
                conn.execute(
                    """INSERT INTO outbox (kind, ref, chat_id, payload, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                    (kind, ref, chat_id, payload, now, now),
                ).rowcount
            )

    def enqueue_digest(self, chat_id: int, day: date, parts: list[str], *, at: datetime) -> bool:
        """Enqueue a chat's digest for a day, all parts or none; False if that day has one."""
        now = to_db_time(at)
        with self.transaction() as conn:
            added = conn.execute(
                """INSERT INTO delivery_digest_days (chat_id, day, parts, at) VALUES (?, ?, ?, ?)
                ON CONFLICT DO NOTHING""",
                (chat_id, day.isoformat(), len(parts), now),
            ).rowcount
            if not added:
                return False
            conn.executemany(
                """INSERT INTO outbox (kind, ref, chat_id, payload, created_at, updated_at)
                VALUES ('digest', ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                (
                    (f"{day.isoformat()}/{number}", chat_id, text, now, now)
                    for number, text in enumerate(parts, start=1)
                ),
            )
        return True

    def digest_days(self, day: date) -> set[int]:
        """The chats whose digest for this day is enqueued (or sent) already."""
        rows = self.conn_rows(
            "SELECT chat_id FROM delivery_digest_days WHERE day = ?", (day.isoformat(),)
        )
        return {row[0] for row in rows}

    # -- the send cycle --------------------------------------------------------------------------

    def due_outbox(self, *, now: datetime, limit: int = 500, after_id: int = 0) -> list[OutboxItem]:
        """Pending rows whose wait (if any) is over, oldest first."""
        rows = self.query(
            """SELECT * FROM outbox WHERE status = 'pending' AND id > ?
                AND (not_before IS NULL OR not_before <= ?)
            ORDER BY id LIMIT ?""",
            (after_id, to_db_time(now), limit),
        )
        return [_item(row) for row in rows]

    def next_due_at(self) -> datetime | None:
        """When the earliest waiting pending row becomes due (None: nothing pending)."""
        value = self.scalar(
            "SELECT min(coalesce(not_before, created_at)) FROM outbox WHERE status = 'pending'"
        )
        return from_db_time(value) if value else None

    def claim(self, item_id: int, *, at: datetime) -> OutboxItem | None:
        """pending → sending, committed before the API call; None if the row is not pending."""
        with self.transaction() as conn:
            changed = conn.execute(
                """UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?
                WHERE id = ? AND status = 'pending'""",
                (to_db_time(at), item_id),
            ).rowcount
        return self.outbox_item(item_id) if changed else None

    def mark_sent(
        self, item_id: int, *, message_id: int, at: datetime, rendered_sources: int = 0
    ) -> None:
        now = to_db_time(at)
        self._finish(
            item_id,
            "status = 'sent', message_id = ?, sent_at = ?, last_error = NULL, "
            "rendered_sources = ?, payload = CASE WHEN kind = 'alert' THEN payload END",
            (message_id, now, rendered_sources),
            at,
        )

    def mark_uncertain(self, item_id: int, error: str, *, at: datetime) -> None:
        """The request may have reached Telegram: never resend this row by itself."""
        self._finish(item_id, "status = 'uncertain', last_error = ?", (error,), at)

    def mark_failed(self, item_id: int, error: str, *, at: datetime) -> None:
        self._finish(item_id, "status = 'failed', last_error = ?", (error,), at)

    def release(
        self, item_id: int, error: str, *, at: datetime, not_before: datetime | None = None
    ) -> None:
        """Back to pending: the request certainly did not deliver (RetryAfter, no connection)."""
        self._finish(
            item_id,
            "status = 'pending', last_error = ?, not_before = ?",
            (error, to_db_time(_whole_second_after(not_before))),
            at,
        )

    def recover_outbox(self, *, at: datetime) -> int:
        """At start-up: rows a crash left `sending` become `uncertain`; returns how many."""
        with self.transaction() as conn:
            return conn.execute(
                """UPDATE outbox SET status = 'uncertain', updated_at = ?,
                    last_error = 'interrupted while sending; it may have been delivered'
                WHERE status = 'sending'""",
                (to_db_time(at),),
            ).rowcount

    def outbox_item(self, item_id: int) -> OutboxItem | None:
        rows = self.query("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return _item(rows[0]) if rows else None

    def outbox_items(
        self, *, kind: str | None = None, chat_id: int | None = None
    ) -> list[OutboxItem]:
        clauses, params = [], []
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind)
        if chat_id is not None:
            clauses.append("chat_id = ?")
            params.append(chat_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return [
            _item(row)
            for row in self.query(f"SELECT * FROM outbox {where} ORDER BY id", tuple(params))
        ]

    def outbox_counts(self) -> dict[str, int]:
        rows = self.conn_rows("SELECT status, count(*) FROM outbox GROUP BY status", ())
        return {status: count for status, count in rows}

    def sent_alert_sources(self, since: datetime) -> dict[int, int]:
        """story id -> the fewest sources any of its alerts sent since then lists."""
        rows = self.conn_rows(
            """SELECT ref, min(rendered_sources) FROM outbox
            WHERE kind = 'alert' AND status = 'sent' AND sent_at >= ? GROUP BY ref""",
            (to_db_time(since),),
        )
        return {int(ref): count for ref, count in rows}

    def alerts_listing_fewer(self, story_id: int, sources: int) -> list[OutboxItem]:
        """The story's sent alerts that list fewer sources than it has now."""
        rows = self.query(
            """SELECT * FROM outbox WHERE kind = 'alert' AND ref = ? AND status = 'sent'
                AND rendered_sources < ? ORDER BY id""",
            (str(story_id), sources),
        )
        return [_item(row) for row in rows]

    def set_rendered_sources(self, item_id: int, count: int, *, at: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET rendered_sources = ?, updated_at = ? WHERE id = ?",
                (count, to_db_time(at), item_id),
            )

    # -- helpers ---------------------------------------------------------------------------------

    def conn_rows(self, sql: str, params: tuple) -> list[tuple]:
        """Plain tuples, for the hot paths that read one or two columns of many rows."""
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def _finish(self, item_id: int, assignments: str, params: tuple, at: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(
                f"UPDATE outbox SET {assignments}, updated_at = ? WHERE id = ?",
                (*params, to_db_time(at), item_id),
            )


def _whole_second_after(moment: datetime | None) -> datetime | None:
    """Times are stored to the second: round a wait up, so it is never cut short."""
    if moment is None or not moment.microsecond:
        return moment
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def _check(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _subscriber(row: dict) -> Subscriber:
    return Subscriber(
        chat_id=row["chat_id"],
        user_id=row["user_id"],
        ui_lang=row["ui_lang"],
        story_langs=row["story_langs"],
        alerts=bool(row["alerts"]),
        digest=bool(row["digest"]),
        digest_time=time.fromisoformat(row["digest_time"]) if row["digest_time"] else None,
        active=bool(row["active"]),
        subscribed_at=from_db_time(row["subscribed_at"]),
        updated_at=from_db_time(row["updated_at"]),
    )


def _item(row: dict) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        kind=row["kind"],
        ref=row["ref"],
        chat_id=row["chat_id"],
        status=row["status"],
        attempts=row["attempts"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        payload=row["payload"],
        message_id=row["message_id"],
        last_error=row["last_error"],
        not_before=from_db_time(row["not_before"]),
        sent_at=from_db_time(row["sent_at"]),
        rendered_sources=row["rendered_sources"],
    )


def _languages(stored: str) -> frozenset[str]:
    return frozenset(lang for lang in stored.split(",") if lang)
