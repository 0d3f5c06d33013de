"""Precision, recall, F1 and confusion counts, overall and per language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Scores:
    """Binary classification figures for "relevant" as the positive class."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def to_dict(self) -> dict[str, float | int]:
        figures = {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }
        return {**figures, **asdict(self)}

    @classmethod
    def from_dict(cls, values: dict) -> Scores:
        return cls(tp=values["tp"], fp=values["fp"], fn=values["fn"], tn=values["tn"])


def score(labels: Sequence[int], predicted: Sequence[bool]) -> Scores:
    tp = fp = fn = tn = 0
    for label, guess in zip(labels, predicted, strict=True):
        if guess:
            tp, fp = (tp + 1, fp) if label == 1 else (tp, fp + 1)
        else:
            fn, tn = (fn + 1, tn) if label == 1 else (fn, tn + 1)
    return Scores(tp=tp, fp=fp, fn=fn, tn=tn)


def by_language(
    langs: Sequence[str], labels: Sequence[int], predicted: Sequence[bool]
) -> dict[str, Scores]:
    """Scores per language, plus "all"."""
    result = {}
    for lang in sorted(set(langs)):
        chosen = [i for i, item_lang in enumerate(langs) if item_lang == lang]
        result[lang] = score([labels[i] for i in chosen], [predicted[i] for i in chosen])
    result["all"] = score(labels, predicted)
    return result


def errors_by_kind(
    kinds: Sequence[str], labels: Sequence[int], predicted: Sequence[bool]
) -> dict[str, tuple[int, int]]:
    """kind -> (wrong, total); the kind "" is reported as "unknown"."""
    counts: dict[str, list[int]] = {}
    for kind, label, guess in zip(kinds, labels, predicted, strict=True):
        entry = counts.setdefault(kind or "unknown", [0, 0])
        entry[0] += int(bool(guess) != (label == 1))
        entry[1] += 1
    return {kind: (wrong, total) for kind, (wrong, total) in sorted(counts.items())}
