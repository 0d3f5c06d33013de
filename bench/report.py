"""What every benchmark hands the runner: figures, each with its target and verdict."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured figure. `passed` is None when the figure has no target (context only)."""

    bench: str  # which benchmark measured it, e.g. "poll"
    name: str
    value: float | None  # None: not measured (see note)
    unit: str
    target: str = ""
    passed: bool | None = None
    note: str = ""

    def line(self) -> str:
        value = "—" if self.value is None else f"{_number(self.value)} {self.unit}".strip()
        verdict = {True: "pass", False: "MISS", None: ""}[self.passed]
        target = f"  (target {self.target}: {verdict})" if self.target else ""
        note = f"  [{self.note}]" if self.note else ""
        return f"{self.name}: {value}{target}{note}"


def at_most(bench: str, name: str, value: float, limit: float, unit: str, note: str = "") -> Figure:
    return Figure(
        bench, name, value, unit, f"≤ {_number(limit)} {unit}".strip(), value <= limit, note
    )


def at_least(
    bench: str, name: str, value: float, floor: float, unit: str, note: str = ""
) -> Figure:
    return Figure(
        bench, name, value, unit, f"≥ {_number(floor)} {unit}".strip(), value >= floor, note
    )


def info(bench: str, name: str, value: float | None, unit: str, note: str = "") -> Figure:
    return Figure(bench, name, value, unit, note=note)


def unavailable(bench: str, name: str, why: str) -> Figure:
    return Figure(bench, name, None, "", note=why)


def print_figures(figures: list[Figure]) -> None:
    for figure in figures:
        print(figure.line())


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"
