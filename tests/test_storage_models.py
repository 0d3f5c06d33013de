from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import NewArticle, Store

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def record(store: Store, version: str, created: datetime = NOW):
    return store.record_model(
        version,
        data_hash="ab" * 32,
        threshold=0.42,
        examples=990,
        metrics={"quality": 0.96, "languages": {"ru": {"f1": 0.95}}},
        created_at=created,
    )


def add_article(store: Store, url: str, title: str = "Заголовок", text: str = "Текст"):
    return store.add_article(
        NewArticle(url=url, feed="ovd-ru", title=title, text=text, lang="ru", source="page")
    )


def test_models_are_recorded_inactive_and_one_is_active_at_a_time(store: Store) -> None:
    first = record(store, "v1")
    assert (first.active, first.threshold, first.metrics["quality"]) == (False, 0.42, 0.96)
    assert store.active_model() is None
    store.activate_model("v1", at=NOW)
    record(store, "v2", NOW + timedelta(hours=1))
    active = store.activate_model("v2", at=NOW + timedelta(hours=1))
    assert (active.version, active.active, active.activated_at) == (
        "v2",
        True,
        NOW + timedelta(hours=1),
    )
    assert store.active_model().version == "v2"
    assert [m.version for m in store.model_records()] == ["v2", "v1"]
    assert store.model_record("v1").active is False


def test_unknown_or_repeated_versions_are_errors(store: Store) -> None:
    record(store, "v1")
    with pytest.raises(ValueError, match="already recorded"):
        record(store, "v1")
    with pytest.raises(LookupError, match="not recorded"):
        store.activate_model("v9")


def test_a_second_label_of_an_article_replaces_the_first(store: Store) -> None:
    article = add_article(store, "https://ovd.info/news/1")
    store.set_label(article.id, 1, moderator=111, at=NOW)
    store.set_label(article.id, 0, moderator=222, at=NOW + timedelta(minutes=5))
    labels = store.labels()
    assert len(labels) == 1
    assert (labels[0].label, labels[0].moderator, labels[0].labelled_at) == (
        0,
        222,
        NOW + timedelta(minutes=5),
    )


def test_labelled_examples_carry_the_article_text(store: Store) -> None:
    first = add_article(store, "https://ovd.info/news/1", "Суд оштрафовал блогера", "За пост.")
    add_article(store, "https://ovd.info/news/2")
    store.set_label(first.id, 1, moderator=111, at=NOW)
    [example] = store.labelled_examples()
    assert (example.article_id, example.title, example.text, example.lang, example.label) == (
        first.id,
        "Суд оштрафовал блогера",
        "За пост.",
        "ru",
        1,
    )


def test_labels_need_an_article_and_a_binary_label(store: Store) -> None:
    article = add_article(store, "https://ovd.info/news/1")
    with pytest.raises(LookupError, match="no article with id 999"):
        store.set_label(999, 1, moderator=111)
    for bad in (2, -1, True):
        with pytest.raises(ValueError, match="label must be 0 or 1"):
            store.set_label(article.id, bad, moderator=111)
    assert store.labels() == []


def test_model_migrations_are_named_and_applied_once(tmp_path) -> None:
    store = Store(tmp_path / "rw.db")
    assert {"models_0001_registry", "models_0002_labels"} <= set(store.schema_versions())
    store.close()
