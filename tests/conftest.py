from __future__ import annotations

from pathlib import Path

import pytest

from storage import Store

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db = Store(tmp_path / "repostwatch.db")
    yield db
    db.close()


@pytest.fixture(scope="session")
def workers():
    """One extraction process pool for the whole session: starting one costs a second."""
    from poller.work import Workers

    pool = Workers(2)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def threaded_httpserver():
    """A loopback HTTP server that answers each request in its own thread, so a handler that
    stalls does not hold up the others; cleared between tests by the fixtures using it."""
    from pytest_httpserver import HTTPServer

    with HTTPServer(threaded=True) as server:
        yield server


@pytest.fixture
def web(threaded_httpserver, workers):
    """The hostile suite's loopback web (tests/hostile.py)."""
    from tests.hostile import Web

    threaded_httpserver.clear()
    site = Web(threaded_httpserver, workers)
    yield site
    site.release.set()  # let handlers that stall finish
    threaded_httpserver.clear()


@pytest.fixture(scope="session")
def trained_data(tmp_path_factory) -> Path:
    """A data folder (repostwatch.db, models/) whose model is trained: the first start of a
    fresh install trains one, which tests that start RepostWatch many times copy instead."""
    from poller.scoring import ensure_model

    data = tmp_path_factory.mktemp("trained") / "data"
    store = Store(data / "repostwatch.db")
    ensure_model(store, data / "models")
    store.close()
    return data
