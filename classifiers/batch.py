"""Classifying JSONL lines in batches: one model, many documents, bad lines reported apart."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from classifiers.corpus import Document
from classifiers.scorer import Scorer

BATCH_SIZE = 2000
EXPLAIN_TERMS = 5


@dataclass(frozen=True)
class LineError:
    where: str  # "file:line"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def parse_document(line: str) -> tuple[object, Document]:
    """(id, Document) from a line with id, title, text and optional lang; ValueError if bad."""
    try:
        record = json.loads(line.rstrip("\r\n"))
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    missing = [key for key in ("id", "title", "text") if key not in record]
    if missing:
        raise ValueError(f"missing key(s) {', '.join(missing)}")
    title, text, lang = record["title"], record["text"], record.get("lang")
    if not isinstance(title, str) or not isinstance(text, str):
        raise ValueError("'title' and 'text' must be strings")
    if lang is not None and (not isinstance(lang, str) or not lang.strip()):
        raise ValueError(f"'lang' must be a language code or absent, got {lang!r:.40}")
    if isinstance(record["id"], (dict, list)):
        raise ValueError("'id' must be a string or a number")
    return record["id"], Document(
        title=title, text=text, lang=lang.strip().lower() if lang else None
    )


def classify_lines(
    model: Scorer,
    lines: Iterable[str],
    source: str,
    *,
    explain: bool = False,
    batch_size: int = BATCH_SIZE,
) -> Iterator[dict | LineError]:
    """An output record per good line, in input order, and a LineError per bad one."""
    pending: list[tuple[object, Document]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            pending.append(parse_document(line))
        except ValueError as error:
            yield LineError(f"{source}:{number}", str(error))
            continue
        if len(pending) >= batch_size:
            yield from _classified(model, pending, explain)
            pending = []
    yield from _classified(model, pending, explain)


def _classified(
    model: Scorer, batch: list[tuple[object, Document]], explain: bool
) -> Iterator[dict]:
    predictions = model.predict(
        [document for _, document in batch], explain=EXPLAIN_TERMS if explain else 0
    )
    for (identifier, _), prediction in zip(batch, predictions, strict=True):
        record = {
            "id": identifier,
            "lang": prediction.lang,
            "score": round(prediction.score, 4),
            "relevant": prediction.relevant,
        }
        if explain:
            record["terms"] = [[term.term, term.weight] for term in prediction.terms]
        yield record
