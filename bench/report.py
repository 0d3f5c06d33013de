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
    limit: float | None = None  # the target's bound, for saying by how much it was missed
    higher_is_better: bool = False

    def value_text(self) -> str:
        return "—" if self.value is None else f"{number(self.value)} {self.unit}".strip()

    def miss_text(self) -> str:
        """By how much the target was missed ("" when it was met or has none)."""
        if self.passed is not False or self.value is None or self.limit is None:
            return ""
        gap = abs(self.value - self.limit)
        share = f" ({gap / self.limit:.0%})" if self.limit else ""
        side = "short of" if self.higher_is_better else "over"
        return f"{number(gap)} {self.unit}{share} {side} the target".replace("  ", " ")

    def line(self) -> str:
        verdict = {True: "pass", False: "MISS", None: ""}[self.passed]
        target = f"  (target {self.target}: {verdict})" if self.target else ""
        miss = f" {self.miss_text()}" if self.miss_text() else ""
        note = f"  [{self.note}]" if self.note else ""
        return f"{self.name}: {self.value_text()}{target}{miss}{note}"


def at_most(bench: str, name: str, value: float, limit: float, unit: str, note: str = "") -> Figure:
    target = f"≤ {number(limit)} {unit}".strip()
    return Figure(bench, name, value, unit, target, value <= limit, note, limit)


def at_least(
    bench: str, name: str, value: float, floor: float, unit: str, note: str = ""
) -> Figure:
    target = f"≥ {number(floor)} {unit}".strip()
    return Figure(bench, name, value, unit, target, value >= floor, note, floor, True)


def info(bench: str, name: str, value: float | None, unit: str, note: str = "") -> Figure:
    return Figure(bench, name, value, unit, note=note)


def unavailable(bench: str, name: str, why: str) -> Figure:
    return Figure(bench, name, None, "", note=why)


def print_figures(figures: list[Figure]) -> None:
    for figure in figures:
        print(figure.line())


def number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"
