from __future__ import annotations

from pathlib import Path

import pytest

from classifiers import registry
from classifiers.corpus import Document
from classifiers.pipeline import PipelineConfig
from poller.scoring import ensure_model, score_articles
from poller.training import retrain
from storage import NewArticle, Store
from tests.conftest import FIXTURES

SEED = FIXTURES / "classifier" / "seed"
# Reads almost nothing (no headline, ten characters of text): worse on any folds.
BLIND = PipelineConfig(title_repeat=0, max_chars=10)


def new_article(url: str, title: str, text: str, lang: str = "ru") -> NewArticle:
    return NewArticle(url=url, feed="ovd-ru", title=title, text=text, lang=lang, source="page")


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def active(store: Store, models_dir: Path):
    return ensure_model(store, models_dir, seed_dir=SEED)


def test_a_fresh_install_trains_records_and_activates_a_model(store, models_dir, active) -> None:
    record = store.active_model()
    assert record is not None and record.version == active.version
    assert (models_dir / f"{active.version}.skops").exists()
    assert record.threshold == active.threshold
    assert record.examples == 96
    again = ensure_model(store, models_dir, seed_dir=SEED)
    assert again.version == active.version
    assert len(store.model_records()) == 1


def test_two_fresh_installs_get_the_same_model(tmp_path: Path, store, active) -> None:
    other = Store(tmp_path / "other" / "rw.db")
    twin = ensure_model(other, tmp_path / "other" / "models", seed_dir=SEED)
    documents = [Document("Суд оштрафовал блогера", "За пост в Telegram о войне.", "ru")]
    assert twin.scores(documents) == active.scores(documents)
    assert twin.threshold == active.threshold
    assert other.active_model().data_hash == store.active_model().data_hash
    other.close()


def test_scoring_fills_score_and_model_version(active) -> None:
    articles = [
        new_article("https://a/1", "Пенсионерку оштрафовали за репост", "Суд счел репост фейком."),
        new_article("https://a/2", "Snow closes the airport", "Flights were delayed.", "en"),
    ]
    scored = score_articles(active, articles)
    assert [a.url for a in scored] == ["https://a/1", "https://a/2"]
    assert all(a.model_version == active.version for a in scored)
    assert scored[0].score > active.threshold > scored[1].score
    assert scored[0].score == round(
        active.scores([Document(articles[0].title, articles[0].text, "ru")])[0], 4
    )
    assert score_articles(active, []) == []


def test_retraining_on_unchanged_data_keeps_the_active_model(store, models_dir, active) -> None:
    report = retrain(store, models_dir, seed_dir=SEED)
    assert (report.activated, report.refused) == (False, False)
    assert report.reason.startswith("unchanged")
    assert store.active_model().version == active.version


def test_a_worse_model_is_refused_unless_forced(store, models_dir, active) -> None:
    refused = retrain(store, models_dir, config=BLIND, seed_dir=SEED, force=False)
    assert (refused.activated, refused.refused, refused.version) == (False, True, None)
    assert refused.cv.quality < refused.previous_cv.quality
    assert "refused, worse than the active model" in refused.reason
    assert store.active_model().version == active.version
    assert len(list(models_dir.glob("*.skops"))) == 1

    forced = retrain(store, models_dir, config=BLIND, seed_dir=SEED, force=True)
    assert (forced.activated, forced.refused) == (True, False)
    assert forced.reason.startswith("forced, although worse")
    assert store.active_model().version == forced.version != active.version


def test_a_better_model_replaces_a_worse_active_one(store, models_dir) -> None:
    retrain(store, models_dir, config=BLIND, seed_dir=SEED)
    report = retrain(store, models_dir, seed_dir=SEED)
    assert report.activated and report.cv.quality > report.previous_cv.quality


def test_a_moderator_label_flips_a_borderline_item(store, models_dir, active) -> None:
    # A traffic offence the driver filmed himself: online words, no prosecution for speech.
    article = store.add_article(
        new_article(
            "https://a/driver",
            "Суд оштрафовал водителя за видео в соцсети",
            "Водителя оштрафовали за нарушение ПДД, которое он сам снял на видео и выложил.",
        )
    )
    document = Document(article.title, article.text, article.lang)
    before = active.scores([document])[0]
    assert before >= active.threshold
    store.set_label(article.id, 0, moderator=111)
    report = retrain(store, models_dir, seed_dir=SEED)
    assert report.activated and report.sources["moderators"] == 1
    after = ensure_model(store, models_dir, seed_dir=SEED)
    assert after.version == report.version
    assert after.scores([document])[0] < after.threshold


def test_a_moderator_label_overrides_the_seed_label_of_the_same_text(
    store, models_dir, active
) -> None:
    # The fixture seed says this story (t-ru-n10, a meme) is not relevant.
    article = store.add_article(
        new_article(
            "https://a/meme",
            "Мем со спящим котом захватил соцсети!",
            "Мем с котом, уснувшим за рабочим столом, собрал миллионы лайков во «ВКонтакте» и "
            "TikTok. Бренды поспешили повторить его в своих постах.",
        )
    )
    document = Document(article.title, article.text, "ru")
    store.set_label(article.id, 1, moderator=111)
    report = retrain(store, models_dir, seed_dir=SEED)
    assert report.overridden == 1 and report.examples == 96
    assert ensure_model(store, models_dir).scores([document])[0] > active.scores([document])[0]


def test_extra_files_add_labelled_items_and_skip_null_labels(store, models_dir, active) -> None:
    report = retrain(store, models_dir, [FIXTURES / "classifier" / "extra.jsonl"], seed_dir=SEED)
    assert report.sources == {"seed": 96, "files": 2, "moderators": 0}
    assert report.skipped_unlabelled == 1
    assert report.examples == 98 and report.activated


def test_missing_model_files_are_trained_again_the_same_way(store, models_dir, active) -> None:
    for path in models_dir.iterdir():
        path.unlink()
    again = ensure_model(store, models_dir, seed_dir=SEED)
    document = [Document("Блогера арестовали за пост", "Суд арестовал блогера.", "ru")]
    assert again.version != active.version
    assert again.scores(document) == active.scores(document)


def test_a_tampered_active_model_is_an_error_and_retraining_needs_force(
    store, models_dir, active
) -> None:
    for suffix in (".skops", ".scorer.npz"):  # what retraining reads, what scoring reads
        model_file = models_dir / f"{active.version}{suffix}"
        model_file.write_bytes(model_file.read_bytes()[:-10])
    with pytest.raises(registry.RegistryError, match="SHA-256"):
        ensure_model(store, models_dir, seed_dir=SEED)
    refused = retrain(store, models_dir, [FIXTURES / "classifier" / "extra.jsonl"], seed_dir=SEED)
    assert refused.refused and "cannot be compared" in refused.reason
    forced = retrain(store, models_dir, force=True, seed_dir=SEED)
    assert forced.activated
    assert ensure_model(store, models_dir).version == forced.version
