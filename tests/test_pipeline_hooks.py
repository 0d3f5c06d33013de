"""The scoring hook is called one batch at a time, even when feeds finish together."""

from __future__ import annotations

import threading
import time

from pytest_httpserver import HTTPServer

from poller.pipeline import poll_once
from storage import NewArticle, Store
from tests.test_pipeline import LOOPBACK, feed, serve_fixtures


class OneAtATime:
    """A scorer that notices when it is entered by two threads at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.batches = 0
        self.lock = threading.Lock()

    def __call__(self, articles: list[NewArticle]) -> list[NewArticle]:
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.batches += 1
        time.sleep(0.05)  # long enough for other feeds' batches to arrive meanwhile
        with self.lock:
            self.inside -= 1
        return articles


async def test_scoring_batches_never_overlap(httpserver: HTTPServer, store: Store) -> None:
    base = serve_fixtures(httpserver)
    feeds = [
        feed(base, "meduza-ru", "meduza-ru.xml"),
        feed(base, "meduza-en", "meduza-en.xml", "en"),
        feed(base, "tass-ru", "tass-ru.xml"),
        feed(base, "tass-en", "tass-en.xml", "en"),
        feed(base, "ovdinfo-ru", "ovdinfo-ru.atom"),
        feed(base, "moscowtimes-en", "moscowtimes-en.xml", "en"),
    ]
    scorer = OneAtATime()
    report = await poll_once(store, feeds, LOOPBACK, score=scorer)
    assert report.new_articles > 0 and scorer.batches == len(feeds)
    assert scorer.most_inside == 1
