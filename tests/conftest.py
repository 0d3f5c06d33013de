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
