"""The poll's hooks in the running service: new articles are scored with the active model,
and each stored article is put into a story (a new one, or the one it reports on again)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from classifiers import registry
from classifiers.scorer import Scorer
from poller.scoring import ensure_model, score_articles
from poller.stories import StoryMatcher
from storage import Article, NewArticle, Store

log = logging.getLogger(__name__)


class RelevanceHooks:
    """Build it in a thread: the first start may train the model from the seed corpus."""

    def __init__(self, store: Store, models_dir: Path) -> None:
        self.store = store
        self.models_dir = models_dir
        self._lock = threading.Lock()
        # The model's scorer keeps a growing cache of the words it has seen; the poller
        # scores each feed's batch in its own thread, so batches take turns.
        self._scoring = threading.Lock()
        self.model: Scorer = ensure_model(store, models_dir)
        self.matcher = StoryMatcher(store)
        caught_up = self.matcher.catch_up(self.is_relevant)
        if caught_up:
            log.info("%d stored articles without a story were matched", len(caught_up))

    def current_model(self) -> Scorer:
        """The active model; a /retrain that activated another one is picked up here."""
        active = self.store.active_model()
        with self._lock:
            if active is not None and active.version != self.model.version:
                self.model = registry.load_scorer(self.models_dir, active.version)
                log.info("scoring with model %s now", active.version)
            return self.model

    def score(self, articles: list[NewArticle]) -> list[NewArticle]:
        model = self.current_model()
        with self._scoring:
            return score_articles(model, articles)

    def is_relevant(self, article: Article) -> bool:
        return article.score is not None and article.score >= self.model.threshold

    def on_stored(self, article: Article) -> None:
        self.matcher.assign(article, relevant=self.is_relevant(article))
