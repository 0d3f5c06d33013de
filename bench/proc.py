"""Process figures for the benchmarks: CPU seconds and resident memory, this process apart
from its children (the extraction workers), never counting the benchmark's own HTTP server."""

from __future__ import annotations

import psutil

SERVER_MARK = "bench.server"


def worker_processes() -> list[psutil.Process]:
    """This process's descendants other than the benchmark HTTP server."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if SERVER_MARK in " ".join(child.cmdline()):
                continue
        except psutil.Error:
            continue
        found.append(child)
    return found


def worker_cpu_seconds() -> float:
    total = 0.0
    for child in worker_processes():
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def rss_mb(process: psutil.Process | None = None) -> float:
    return (process or psutil.Process()).memory_info().rss / 2**20


def workers_rss_mb() -> list[float]:
    sizes = []
    for child in worker_processes():
        try:
            sizes.append(rss_mb(child))
        except psutil.Error:
            continue
    return sizes
