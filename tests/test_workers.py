"""The extraction pool: let go when idle, back on the next job."""

from __future__ import annotations

import asyncio
import os

from poller.work import Workers


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_an_idle_pool_is_let_go_and_the_next_job_starts_a_new_one() -> None:
    workers = Workers(1, idle_seconds=0.2)
    try:
        first = await workers.run(os.getpid)
        assert first != os.getpid() and workers.started
        for _ in range(100):
            if not workers.started and not alive(first):
                break
            await asyncio.sleep(0.05)
        assert not workers.started
        assert not alive(first)
        second = await workers.run(os.getpid)
        assert second not in (first, os.getpid())
    finally:
        workers.close()


async def test_a_busy_pool_is_kept() -> None:
    workers = Workers(1, idle_seconds=1.0)
    try:
        pids = []
        for _ in range(4):
            pids.append(await workers.run(os.getpid))
            await asyncio.sleep(0.3)  # less than the idle time between jobs
        assert len(set(pids)) == 1 and workers.started
    finally:
        workers.close()


async def test_without_an_idle_time_the_pool_stays() -> None:
    workers = Workers(1, idle_seconds=None)
    try:
        first = await workers.run(os.getpid)
        await asyncio.sleep(0.3)
        assert workers.started and await workers.run(os.getpid) == first
    finally:
        workers.close()
