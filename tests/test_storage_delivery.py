"""Subscribers and the outbox: idempotent enqueueing and the status machine that prevents resends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from storage import Store

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def test_subscribing_twice_keeps_one_row_and_the_first_settings(store: Store) -> None:
    first, started = store.subscribe(100, user_id=100, ui_lang="ru", at=NOW)
    assert started and first.active and first.story_langs == "both"
    store.update_subscriber(100, at=NOW, story_langs="ru", digest_time=time(8, 30))
    again, started_again = store.subscribe(100, user_id=100, ui_lang="en", at=NOW)
    assert not started_again
    assert (again.ui_lang, again.story_langs, again.digest_time) == ("ru", "ru", time(8, 30))


def test_a_returning_subscriber_starts_from_now(store: Store) -> None:
    store.subscribe(7, user_id=7, ui_lang="en", at=NOW)
    assert store.deactivate_subscriber(7, reason="/stop", at=NOW)
    later = NOW + timedelta(days=3)
    back, started = store.subscribe(7, user_id=7, ui_lang="en", at=later)
    assert started and back.active and back.subscribed_at == later


def test_alert_recipients_follow_languages_settings_and_subscription_time(store: Store) -> None:
    store.subscribe(1, user_id=1, ui_lang="ru", at=NOW)  # both languages
    store.subscribe(2, user_id=2, ui_lang="ru", at=NOW)
    store.update_subscriber(2, at=NOW, story_langs="ru")
    store.subscribe(3, user_id=3, ui_lang="en", at=NOW)
    store.update_subscriber(3, at=NOW, story_langs="en")
    store.subscribe(4, user_id=4, ui_lang="en", at=NOW)
    store.update_subscriber(4, at=NOW, alerts=False)
    store.subscribe(5, user_id=5, ui_lang="en", at=NOW + timedelta(hours=1))
    store.subscribe(6, user_id=6, ui_lang="en", at=NOW)
    store.deactivate_subscriber(6, reason="blocked", at=NOW)

    story_time = NOW + timedelta(minutes=30)
    assert store.alert_recipients(["ru"], story_time) == [1, 2]
    assert store.alert_recipients(["en"], story_time) == [1, 3]
    assert store.alert_recipients(["ru", "en"], story_time) == [1, 2, 3]


def test_fan_out_is_once_per_story_and_language(store: Store) -> None:
    assert store.fan_out_alert(42, [1, 2, 3], ["ru"], at=NOW) == 3
    assert store.fan_out_alert(42, [1, 2, 3, 4], ["ru"], at=NOW) == 0
    assert store.fanned_out([41, 42]) == {42: {"ru"}}
    # An English report joined: English readers now, and no chat twice.
    assert store.fan_out_alert(42, [2, 5], ["en"], at=NOW) == 1
    assert store.fanned_out([42]) == {42: {"ru", "en"}}
    assert store.fan_out_alert(42, [6], ["en", "ru"], at=NOW) == 0
    assert [item.chat_id for item in store.outbox_items(kind="alert")] == [1, 2, 3, 5]


def test_enqueue_is_idempotent_per_kind_reference_and_chat(store: Store) -> None:
    assert store.enqueue("alert", "9", 1, at=NOW)
    assert not store.enqueue("alert", "9", 1, at=NOW)
    assert store.enqueue("alert", "9", 2, at=NOW)
    assert len(store.outbox_items()) == 2


def test_a_digest_is_enqueued_once_per_day_whatever_its_parts(store: Store) -> None:
    day = date(2026, 11, 21)
    assert store.enqueue_digest(5, day, ["part one", "part two"], at=NOW)
    assert not store.enqueue_digest(5, day, ["one", "two", "three"], at=NOW)
    items = store.outbox_items(kind="digest")
    assert [(item.ref, item.payload) for item in items] == [
        ("2026-11-21/1", "part one"),
        ("2026-11-21/2", "part two"),
    ]
    assert store.digest_days(day) == {5}


def test_the_outbox_status_machine(store: Store) -> None:
    store.enqueue("alert", "1", 10, at=NOW)
    store.enqueue("alert", "1", 11, at=NOW)
    store.enqueue("alert", "1", 12, at=NOW)
    first, second, third = store.due_outbox(now=NOW)

    claimed = store.claim(first.id, at=NOW)
    assert claimed.status == "sending" and claimed.attempts == 1
    assert store.claim(first.id, at=NOW) is None  # nobody claims a row twice
    store.mark_sent(first.id, message_id=77, at=NOW, rendered_sources=2)

    store.claim(second.id, at=NOW)
    store.release(second.id, "retry after 3 s", at=NOW, not_before=NOW + timedelta(seconds=2.5))
    assert [item.id for item in store.due_outbox(now=NOW)] == [third.id]
    assert store.outbox_item(second.id).not_before == NOW + timedelta(seconds=3)
    assert second.id in [item.id for item in store.due_outbox(now=NOW + timedelta(seconds=3))]

    store.claim(third.id, at=NOW)
    assert store.recover_outbox(at=NOW) == 1
    recovered = store.outbox_item(third.id)
    assert recovered.status == "uncertain" and "may have been delivered" in recovered.last_error
    sent = store.outbox_item(first.id)
    assert (sent.status, sent.message_id, sent.rendered_sources) == ("sent", 77, 2)
    assert store.outbox_counts() == {"sent": 1, "pending": 1, "uncertain": 1}


def test_deactivating_fails_the_chats_pending_messages(store: Store) -> None:
    store.subscribe(3, user_id=3, ui_lang="en", at=NOW)
    store.enqueue("alert", "1", 3, at=NOW)
    store.deactivate_subscriber(3, reason="Forbidden: bot was blocked by the user", at=NOW)
    (item,) = store.outbox_items(chat_id=3)
    assert item.status == "failed" and "blocked" in item.last_error
    assert store.due_outbox(now=NOW) == []


def test_a_migrated_chat_keeps_its_subscription_and_messages(store: Store) -> None:
    store.subscribe(-100, user_id=None, ui_lang="ru", at=NOW)
    store.enqueue("alert", "1", -100, at=NOW)
    store.migrate_chat(-100, -1009, at=NOW)
    assert store.subscriber(-100) is None
    assert store.subscriber(-1009).active
    assert [item.chat_id for item in store.due_outbox(now=NOW)] == [-1009]


def test_bad_languages_are_refused_with_the_field_named(store: Store) -> None:
    with pytest.raises(ValueError, match="story_langs"):
        store.subscribe(1, user_id=1, ui_lang="en", at=NOW)
        store.update_subscriber(1, at=NOW, story_langs="de")
