"""Subscribers and the delivery outbox: one message per (story, chat), at most."""

from __future__ import annotations

from storage.base import StoreBase
from storage.migrations import Migration

MIGRATIONS: list[Migration] = []


class DeliveryStore(StoreBase):
    pass
