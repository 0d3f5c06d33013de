"""Labelled examples: reading JSONL files with clear errors, merging sources, hashing content."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from classifiers.text import guess_lang, normalise

SEED_DIR = Path(__file__).parent / "data"
REQUIRED_KEYS = ("id", "lang", "title", "text", "label")


class CorpusError(ValueError):
    """A bad data file or line; the message starts with `file:line:` when a line is at fault."""


class TrainingError(ValueError):
    """The data cannot train a model (too small, one class only)."""


@dataclass(frozen=True)
class Document:
    """What the classifier reads: a headline and its text. lang=None means "guess it"."""

    title: str
    text: str
    lang: str | None = None

    @property
    def language(self) -> str:
        return self.lang or guess_lang(f"{self.title} {self.text}")


@dataclass(frozen=True)
class Example:
    """A labelled document; label is 1 (relevant), 0 (not) or None (ambiguous, not scored)."""

    id: str
    lang: str
    title: str
    text: str
    label: int | None
    kind: str = ""

    @property
    def document(self) -> Document:
        return Document(title=self.title, text=self.text, lang=self.lang)

    @property
    def key(self) -> str:
        """Two examples with the same key are the same text; the later source's label wins."""
        return f"{normalise(self.title)}\n{normalise(self.text)}"


@dataclass(frozen=True)
class TrainingSet:
    """Merged, de-duplicated, labelled examples in a fixed order, with where they came from."""

    examples: tuple[Example, ...]
    overridden: int  # examples whose label was replaced by a later source's label of the same text
    data_hash: str

    @property
    def labels(self) -> list[int]:
        return [example.label for example in self.examples]

    def counts(self) -> dict[str, dict[str, int]]:
        """{"ru": {"1": 330, "0": 660}, ...} — JSON-ready."""
        counts: dict[str, Counter[str]] = {}
        for example in self.examples:
            counts.setdefault(example.lang, Counter())[str(example.label)] += 1
        return {lang: dict(sorted(counter.items())) for lang, counter in sorted(counts.items())}


def parse_example(line: str, where: str, *, allow_unlabelled: bool = False) -> Example:
    """One JSONL line as an Example; `where` ("file:line") prefixes every error."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise CorpusError(
            f"{where}: not valid JSON ({error.msg} at column {error.colno})"
        ) from None
    if not isinstance(record, dict):
        raise CorpusError(f"{where}: expected a JSON object, got {type(record).__name__}")
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise CorpusError(f"{where}: missing key(s) {', '.join(missing)}")
    for key in ("id", "lang", "title", "text"):
        if not isinstance(record[key], str):
            raise CorpusError(f"{where}: {key!r} must be a string, got {record[key]!r:.40}")
    label = record["label"]
    if label is None and not allow_unlabelled:
        raise CorpusError(f"{where}: label is null; training data needs 0 or 1")
    if label is not None and (isinstance(label, bool) or label not in (0, 1)):
        raise CorpusError(f"{where}: label must be 0, 1 or null, got {label!r:.40}")
    if not record["lang"].strip():
        raise CorpusError(f"{where}: 'lang' is empty")
    if not (record["title"].strip() or record["text"].strip()):
        raise CorpusError(f"{where}: both 'title' and 'text' are empty")
    kind = record.get("kind") or ""
    return Example(
        id=record["id"],
        lang=record["lang"].strip().lower(),
        title=record["title"],
        text=record["text"],
        label=label,
        kind=str(kind),
    )


def read_examples(path: Path, *, allow_unlabelled: bool = False) -> list[Example]:
    """Every example of a JSONL file; blank lines are skipped, anything else bad is an error."""
    examples: list[Example] = []
    seen: dict[str, int] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CorpusError(f"{path}: cannot read: {error}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        example = parse_example(line, where, allow_unlabelled=allow_unlabelled)
        if example.id in seen:
            raise CorpusError(f"{where}: id {example.id!r} already used on line {seen[example.id]}")
        seen[example.id] = number
        examples.append(example)
    return examples


def read_corpus(directory: Path = SEED_DIR) -> list[Example]:
    """Every `*.jsonl` file of a directory, in name order."""
    paths = sorted(directory.glob("*.jsonl"))
    if not paths:
        raise CorpusError(f"{directory}: no *.jsonl files")
    return [example for path in paths for example in read_examples(path)]


def merge(*sources: Iterable[Example]) -> TrainingSet:
    """One labelled example per text; a later source overrides an earlier one's label.

    Unlabelled examples are left out. The result is sorted by text, so neither file order nor
    line order changes the model or the hash.
    """
    by_key: dict[str, Example] = {}
    overridden = 0
    for source in sources:
        for example in source:
            if example.label is None:
                continue
            previous = by_key.get(example.key)
            if previous is not None and previous.label != example.label:
                overridden += 1
            by_key[example.key] = example
    ordered = tuple(by_key[key] for key in sorted(by_key))
    return TrainingSet(examples=ordered, overridden=overridden, data_hash=content_hash(ordered))


def content_hash(examples: Sequence[Example]) -> str:
    """SHA-256 of what training sees (language, title, text, label), independent of order."""
    lines = sorted(
        json.dumps([e.lang, e.title, e.text, e.label], ensure_ascii=False) for e in examples
    )
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
