"""Plain-text tables of cross-validated and evaluated figures, for the CLI and the bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from classifiers.evaluation import Evaluation
from classifiers.metrics import Scores

if TYPE_CHECKING:
    from classifiers.training import CrossValidation


def scores_table(columns: dict[str, dict[str, Scores]]) -> list[str]:
    """Precision, recall and F1 per language, one column group per named set of scores."""
    names = list(columns)
    langs = list(next(iter(columns.values())))
    header = f"{'lang':<5} {'items':>5} {'relevant':>8}  " + "  ".join(
        f"{name + ' P':>10} {'R':>5} {'F1':>5}" for name in names
    )
    lines = [header]
    for lang in langs:
        first = columns[names[0]][lang]
        cells = "  ".join(
            f"{columns[name][lang].precision:>10.3f} {columns[name][lang].recall:>5.3f} "
            f"{columns[name][lang].f1:>5.3f}"
            for name in names
        )
        lines.append(f"{lang:<5} {first.total:>5} {first.tp + first.fn:>8}  {cells}")
    return lines


def confusion_lines(name: str, lang: str, scores: Scores) -> list[str]:
    return [
        f"  {lang} {name}: true 1 -> predicted 1: {scores.tp:>4}, predicted 0: {scores.fn:>4}",
        f"  {' ' * len(lang)} {' ' * len(name)}  true 0 -> predicted 1: {scores.fp:>4}, "
        f"predicted 0: {scores.tn:>4}",
    ]


def render_cv(cv: CrossValidation, title: str = "Cross-validated") -> str:
    lines = [
        f"{title} ({cv.folds} folds), threshold {cv.threshold:.3f} "
        f"({cv.threshold_rule}), mean F1 over languages {cv.quality:.3f}",
        *scores_table({"model": cv.languages}),
    ]
    if cv.kinds:
        lines.append(
            "errors by kind: " + ", ".join(f"{k} {w}/{t}" for k, (w, t) in cv.kinds.items())
        )
    return "\n".join(lines)


def render_evaluation(evaluation: Evaluation) -> str:
    lines = [
        f"model {evaluation.version} at threshold {evaluation.threshold:.3f}; "
        f"{evaluation.scored} labelled items scored, {evaluation.skipped} with label null skipped",
        *scores_table({"model": evaluation.model, "keywords": evaluation.baseline}),
        "confusion matrices:",
    ]
    for lang in evaluation.model:
        lines += confusion_lines("model   ", lang, evaluation.model[lang])
        lines += confusion_lines("keywords", lang, evaluation.baseline[lang])
    if evaluation.kinds:
        kinds = ", ".join(f"{k} {w}/{t}" for k, (w, t) in evaluation.kinds.items())
        lines.append(f"model errors by kind: {kinds}")
    return "\n".join(lines)
