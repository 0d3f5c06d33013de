from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import Article, NewArticle, Store

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def stored(store: Store, url: str, *, lang: str = "ru", score: float | None = None,
           minutes: int = 0, feed: str = "tass-ru") -> Article:  # fmt: skip
    article = store.add_article(
        NewArticle(url=url, feed=feed, title=f"Заголовок {url}", text="Текст.", lang=lang,
                   source="page", score=score, published=NOW + timedelta(minutes=minutes)),
        fetched_at=NOW + timedelta(minutes=minutes),
    )  # fmt: skip
    assert article is not None
    return article


def test_a_story_keeps_its_sources_in_order_and_the_highest_score(store: Store) -> None:
    first = stored(store, "https://tass.ru/1", score=0.4)
    story_id = store.create_story(first.id, relevant=False, summary="Первое сообщение.")
    second = stored(store, "https://meduza.io/en/2", lang="en", score=0.9, minutes=30,
                    feed="meduza-en")  # fmt: skip
    store.attach_article(story_id, second.id, relevant=True, summary="First report.")
    third = stored(store, "https://ovd.info/3", score=0.7, minutes=60, feed="ovd-info")
    store.attach_article(story_id, third.id, relevant=True, summary="Другая сводка.")

    story = store.story(story_id)
    assert [source.url for source in story.sources] == [
        "https://tass.ru/1",
        "https://meduza.io/en/2",
        "https://ovd.info/3",
    ]
    assert [(s.feed, s.lang) for s in story.sources] == [
        ("tass-ru", "ru"),
        ("meduza-en", "en"),
        ("ovd-info", "ru"),
    ]
    assert story.score == 0.9
    assert story.relevant
    # the first relevant article is the story's face; the first summary per language stays
    assert (story.first_article_id, story.url, story.lang) == (second.id, second.url, "en")
    assert story.summaries == {"ru": "Первое сообщение.", "en": "First report."}
    assert story.created_at == NOW and story.updated_at == NOW + timedelta(minutes=60)
    assert store.article(third.id).story_id == story_id


def test_becoming_relevant_replaces_the_summary_in_that_language(store: Store) -> None:
    first = stored(store, "https://tass.ru/1")
    story_id = store.create_story(first.id, relevant=False, summary="Случайная сводка.")
    second = stored(store, "https://ovd.info/2", minutes=5, feed="ovd-info")
    store.attach_article(story_id, second.id, relevant=True, summary="Сводка о деле.")
    assert store.story(story_id).summaries == {"ru": "Сводка о деле."}


def test_stories_since_lists_recent_relevant_stories_newest_first(store: Store) -> None:
    old = stored(store, "https://tass.ru/old", minutes=-3 * 24 * 60)
    store.create_story(old.id, relevant=True)
    quiet = stored(store, "https://tass.ru/quiet")
    store.create_story(quiet.id, relevant=False)
    loud = stored(store, "https://tass.ru/loud", minutes=10)
    loud_id = store.create_story(loud.id, relevant=True, parent_id=1)

    recent = store.stories_since(NOW - timedelta(hours=24))
    assert [story.id for story in recent] == [loud_id]
    assert recent[0].parent_id == 1
    everything = store.stories_since(NOW - timedelta(days=7), relevant_only=False)
    assert [story.title for story in everything] == [
        "Заголовок https://tass.ru/loud",
        "Заголовок https://tass.ru/quiet",
        "Заголовок https://tass.ru/old",
    ]
    assert store.count_stories() == 3


def test_signatures_come_back_as_they_were_saved(store: Store) -> None:
    article = stored(store, "https://tass.ru/1", score=0.8)
    story_id = store.create_story(article.id, relevant=True)
    store.save_story_signature(
        article.id, at=NOW, minhash=b"\x01\x02\x03\x04", keys=["nm:brnl", "law:282"],
        lead_keys=["nm:brnl"],
    )  # fmt: skip
    [signature] = store.story_signatures_since(NOW - timedelta(days=1))
    assert (signature.article_id, signature.story_id, signature.feed, signature.lang) == (
        article.id,
        story_id,
        "tass-ru",
        "ru",
    )
    assert signature.minhash == b"\x01\x02\x03\x04"
    assert signature.keys == ("nm:brnl", "law:282") and signature.lead_keys == ("nm:brnl",)
    assert store.latest_signature_at() == NOW
    assert store.story_signatures_since(NOW + timedelta(seconds=1)) == []
    assert len(store.story_signatures_since(NOW, first_only=True, relevant_only=True)) == 1


def test_unassigned_articles_are_found_for_catching_up(store: Store) -> None:
    assigned = stored(store, "https://tass.ru/1")
    store.create_story(assigned.id, relevant=False)
    waiting = stored(store, "https://tass.ru/2", minutes=1)
    assert [a.id for a in store.unassigned_articles_since(NOW - timedelta(hours=1))] == [waiting.id]


def test_the_story_migrations_run_once_on_an_existing_database(tmp_path) -> None:
    path = tmp_path / "rw.db"
    first = Store(path)
    article = stored(first, "https://tass.ru/1")
    first.create_story(article.id, relevant=True, summary="Сводка.")
    versions = first.schema_versions()
    first.close()
    again = Store(path)
    assert again.schema_versions() == versions
    assert "stories_0001_stories" in versions and "stories_0002_signatures" in versions
    assert again.story(1).summaries == {"ru": "Сводка."}
    again.close()


def test_signatures_read_a_page_at_a_time_are_all_there_once_in_order(store: Store) -> None:
    """Pages of two over seven signatures, three of them at the same moment."""
    saved = []
    for number, minutes in enumerate([0, 5, 5, 5, 9, 12, 30]):
        article = stored(store, f"https://tass.ru/{number}", minutes=minutes)
        store.create_story(article.id, relevant=number % 2 == 0)
        at = NOW + timedelta(minutes=minutes)
        store.save_story_signature(article.id, at=at, minhash=b"m", keys=["k"], lead_keys=[])
        saved.append((at, article.id))
    paged = store.iter_story_signatures_since(NOW + timedelta(minutes=5), page=2)
    assert [(s.at, s.article_id) for s in paged] == saved[1:]
    relevant = store.iter_story_signatures_since(NOW, first_only=True, relevant_only=True, page=1)
    assert [s.article_id for s in relevant] == [article_id for _, article_id in saved[::2]]
    assert list(store.iter_story_signatures_since(NOW, page=3)) == store.story_signatures_since(NOW)
