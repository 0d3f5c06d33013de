"""Stories: one event reported by one or more outlets, in one or more languages."""

from __future__ import annotations

from storage.base import StoreBase
from storage.migrations import Migration

MIGRATIONS: list[Migration] = []


class StoryStore(StoreBase):
    pass
