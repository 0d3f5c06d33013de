"""Benchmark commands: each prints figures; none is a test."""
