"""Plain-text tables and times for the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.base import utcnow


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, max_cell: int = 60) -> str:
    """Left-aligned columns separated by two spaces; numbers right-aligned; long cells cut."""
    cells = [[_cut(_text(value), max_cell) for value in row] for row in rows]
    widths = [
        max([len(header), *(len(row[column]) for row in cells)])
        for column, header in enumerate(headers)
    ]
    numeric = [
        bool(rows) and all(isinstance(row[column], int | float) for row in rows)
        for column in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if is_number else value.ljust(width)
            for value, width, is_number in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in cells)])


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'3m ago', 'in 12m', '-' for None."""
    if moment is None:
        return "-"
    seconds = ((now or utcnow()) - moment).total_seconds()
    span = _span(abs(seconds))
    if span == "now":
        return "now"
    return f"{span} ago" if seconds >= 0 else f"in {span}"


def _span(seconds: float) -> str:
    if seconds < 1:
        return "now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _text(value: object) -> str:
    if value is None:
        return "-"
    return " ".join(str(value).split())


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
