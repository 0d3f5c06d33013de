"""Moderator labels and the registry of trained relevance models."""

from __future__ import annotations

from storage.base import StoreBase
from storage.migrations import Migration

MIGRATIONS: list[Migration] = []


class ModelStore(StoreBase):
    pass
