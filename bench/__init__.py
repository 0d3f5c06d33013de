"""Benchmark commands: each prints figures (`python -m bench.<name>`); none is a timed test."""
