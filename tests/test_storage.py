from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import NewArticle, Store

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def article(url: str, **changes: object) -> NewArticle:
    values = dict(
        url=url, feed="meduza-ru", title="Заголовок", text="Текст", lang="ru", source="page"
    )
    return NewArticle(**{**values, **changes})


def test_database_is_wal_with_foreign_keys(store: Store) -> None:
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA foreign_keys") == 1


def test_an_article_is_stored_once_per_url(store: Store) -> None:
    first = store.add_article(article("https://meduza.io/news/1"))
    again = store.add_article(article("https://meduza.io/news/1", title="Другой"))
    assert first is not None and first.title == "Заголовок"
    assert again is None
    assert store.count_articles() == 1
    assert store.stored_urls(["https://meduza.io/news/1", "https://meduza.io/news/2"]) == {
        "https://meduza.io/news/1"
    }


def test_feed_errors_count_up_and_reset_on_success(store: Store) -> None:
    store.sync_feeds([("tass-ru", "https://tass.ru/rss/v2.xml", "ru")])
    later = NOW + timedelta(minutes=5)
    store.record_feed_error("tass-ru", "timed out after 10 s", at=NOW, next_poll_at=later)
    store.record_feed_error("tass-ru", "HTTP 503", at=NOW, next_poll_at=later, http_status=503)
    state = store.feed_state("tass-ru")
    assert (state.error_count, state.last_error, state.last_status) == (2, "HTTP 503", "error")

    store.record_feed_ok(
        "tass-ru",
        at=later,
        next_poll_at=later,
        http_status=200,
        etag='"v1"',
        last_modified=None,
        items=30,
    )
    state = store.feed_state("tass-ru")
    assert (state.error_count, state.last_error, state.etag, state.items_last) == (
        0,
        None,
        '"v1"',
        30,
    )


def test_a_moved_feed_forgets_its_validators(store: Store) -> None:
    store.sync_feeds([("bbc-ru", "https://old.example/rss", "ru")])
    store.record_feed_ok(
        "bbc-ru", at=NOW, next_poll_at=NOW, http_status=200, etag='"e"', last_modified="x", items=1
    )
    store.sync_feeds([("bbc-ru", "https://new.example/rss", "ru")])
    state = store.feed_state("bbc-ru")
    assert (state.url, state.etag, state.last_modified) == ("https://new.example/rss", None, None)


def test_reopening_keeps_everything_and_migrates_nothing_twice(tmp_path) -> None:
    path = tmp_path / "rw.db"
    first = Store(path)
    first.add_article(article("https://tass.ru/1"))
    versions = first.schema_versions()
    first.close()
    second = Store(path)
    assert second.count_articles() == 1
    assert second.schema_versions() == versions
    second.close()
