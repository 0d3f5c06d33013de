"""Moderator labels and the registry of trained relevance models."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from storage.base import StoreBase, from_db_time, to_db_time, utcnow
from storage.migrations import Migration, migration
from storage.records import Label, LabelledArticle, ModelRecord

MIGRATIONS: list[Migration] = [
    migration(
        "models_0001_registry",
        """CREATE TABLE models (
            version TEXT PRIMARY KEY,
            data_hash TEXT NOT NULL,
            threshold REAL NOT NULL,
            examples INTEGER NOT NULL,
            metrics TEXT NOT NULL,
            created_at TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
            activated_at TEXT
        )""",
        # At most one active model, enforced by the database itself.
        "CREATE UNIQUE INDEX models_one_active ON models (active) WHERE active = 1",
    ),
    migration(
        "models_0002_labels",
        """CREATE TABLE labels (
            article_id INTEGER NOT NULL UNIQUE REFERENCES articles (id),
            label INTEGER NOT NULL CHECK (label IN (0, 1)),
            moderator INTEGER NOT NULL,
            labelled_at TEXT NOT NULL
        )""",
    ),
]


class ModelStore(StoreBase):
    def record_model(
        self,
        version: str,
        *,
        data_hash: str,
        threshold: float,
        examples: int,
        metrics: dict,
        created_at: datetime,
    ) -> ModelRecord:
        """Add a trained model to the registry, inactive. A version is recorded once."""
        try:
            with self.transaction() as conn:
                conn.execute(
                    """INSERT INTO models (version, data_hash, threshold, examples, metrics,
                        created_at) VALUES (?, ?, ?, ?, ?, ?)""",
                    (
                        version,
                        data_hash,
                        threshold,
                        examples,
                        json.dumps(metrics, ensure_ascii=False, sort_keys=True),
                        to_db_time(created_at),
                    ),
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"model version {version!r} is already recorded") from None
        return self.model_record(version)

    def activate_model(self, version: str, *, at: datetime | None = None) -> ModelRecord:
        """Make this recorded model the one that scores; the previous one steps down."""
        with self.transaction() as conn:
            if (
                conn.execute("SELECT 1 FROM models WHERE version = ?", (version,)).fetchone()
                is None
            ):
                raise LookupError(f"model version {version!r} is not recorded")
            conn.execute("UPDATE models SET active = 0 WHERE active = 1")
            conn.execute(
                "UPDATE models SET active = 1, activated_at = ? WHERE version = ?",
                (to_db_time(at or utcnow()), version),
            )
        return self.model_record(version)

    def active_model(self) -> ModelRecord | None:
        rows = self.query("SELECT * FROM models WHERE active = 1")
        return _model(rows[0]) if rows else None

    def model_record(self, version: str) -> ModelRecord | None:
        rows = self.query("SELECT * FROM models WHERE version = ?", (version,))
        return _model(rows[0]) if rows else None

    def model_records(self) -> list[ModelRecord]:
        """Every recorded model, newest first."""
        rows = self.query("SELECT * FROM models ORDER BY created_at DESC, version DESC")
        return [_model(row) for row in rows]

    def set_label(
        self, article_id: int, label: int, moderator: int, *, at: datetime | None = None
    ) -> Label:
        """Record a moderator's label; a second label of the same article replaces the first."""
        if label not in (0, 1) or isinstance(label, bool):
            raise ValueError(f"label must be 0 or 1, got {label!r}")
        try:
            with self.transaction() as conn:
                conn.execute(
                    """INSERT INTO labels (article_id, label, moderator, labelled_at)
                    VALUES (?, ?, ?, ?)
                    ON CONFLICT (article_id) DO UPDATE SET label = excluded.label,
                        moderator = excluded.moderator, labelled_at = excluded.labelled_at""",
                    (article_id, label, moderator, to_db_time(at or utcnow())),
                )
        except sqlite3.IntegrityError:
            raise LookupError(f"no article with id {article_id}") from None
        return self.label(article_id)

    def label(self, article_id: int) -> Label | None:
        rows = self.query("SELECT * FROM labels WHERE article_id = ?", (article_id,))
        return _label(rows[0]) if rows else None

    def labels(self) -> list[Label]:
        rows = self.query("SELECT * FROM labels ORDER BY labelled_at, article_id")
        return [_label(row) for row in rows]

    def labelled_examples(self) -> list[LabelledArticle]:
        """Every labelled article with its text, oldest label first."""
        rows = self.query(
            """SELECT labels.*, articles.title, articles.text, articles.lang
            FROM labels JOIN articles ON articles.id = labels.article_id
            ORDER BY labels.labelled_at, labels.article_id"""
        )
        return [
            LabelledArticle(
                article_id=row["article_id"],
                title=row["title"],
                text=row["text"],
                lang=row["lang"],
                label=row["label"],
                moderator=row["moderator"],
                labelled_at=from_db_time(row["labelled_at"]),
            )
            for row in rows
        ]


def _model(row: dict) -> ModelRecord:
    return ModelRecord(
        version=row["version"],
        data_hash=row["data_hash"],
        threshold=row["threshold"],
        examples=row["examples"],
        metrics=json.loads(row["metrics"]),
        created_at=from_db_time(row["created_at"]),
        active=bool(row["active"]),
        activated_at=from_db_time(row["activated_at"]),
    )


def _label(row: dict) -> Label:
    return Label(
        article_id=row["article_id"],
        label=row["label"],
        moderator=row["moderator"],
        labelled_at=from_db_time(row["labelled_at"]),
    )
