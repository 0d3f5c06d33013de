"""Returning freed heap memory after a poll cycle: found on glibc, harmless anywhere."""

from __future__ import annotations

import platform
import sys

import pytest

from poller.memory import _malloc_trim, memory_releaser


def test_the_releaser_runs_and_returns_nothing() -> None:
    release = memory_releaser()
    blocks = [bytes(100_000) for _ in range(200)]  # 20 MB allocated, then freed
    del blocks
    assert release() is None


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="malloc_trim is glibc's",
)
def test_on_glibc_it_is_malloc_trim() -> None:
    trim = _malloc_trim()
    assert trim is not None
    assert trim(0) in (0, 1)  # 1 when memory was released, 0 when there was none to give
