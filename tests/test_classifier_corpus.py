from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.corpus import (
    SEED_DIR,
    CorpusError,
    Example,
    merge,
    read_corpus,
    read_examples,
)
from classifiers.text import normalise
from tests.conftest import FIXTURES

SEED = FIXTURES / "classifier" / "seed"
GOOD = {"id": "1", "lang": "ru", "title": "Заголовок", "text": "Текст", "label": 1, "kind": "case"}


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def line(**changes: object) -> str:
    record = {**GOOD, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not ...}, ensure_ascii=False)


def test_the_fixture_seed_reads_as_examples() -> None:
    examples = read_corpus(SEED)
    assert len(examples) == 96
    assert {e.lang for e in examples} == {"ru", "en"}
    assert sum(e.label for e in examples) == 48
    assert all(isinstance(e, Example) for e in examples)


def test_the_bundled_seed_corpus_is_valid_and_balanced() -> None:
    examples = read_corpus(SEED_DIR)
    langs = [e.lang for e in examples]
    assert len(examples) >= 800
    assert min(langs.count("ru"), langs.count("en")) >= 0.4 * len(examples)
    positives = sum(e.label for e in examples)
    assert 0.25 <= positives / len(examples) <= 0.45
    hard = sum(1 for e in examples if e.label == 0 and e.kind.startswith("hard-neg"))
    assert hard >= 0.4 * (len(examples) - positives)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ('{"id": "2", "lang": "ru", "title": "x"', "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (line(label=...), "missing key(s) label"),
        (line(title=..., text=...), "missing key(s) title, text"),
        (line(label=2), "label must be 0, 1 or null"),
        (line(label=True), "label must be 0, 1 or null"),
        (line(label="1"), "label must be 0, 1 or null"),
        (line(label=None), "label is null"),
        (line(title=5), "'title' must be a string"),
        (line(title="", text="  "), "both 'title' and 'text' are empty"),
        (line(id="0"), "id '0' already used on line 1"),
    ],
)
def test_a_bad_line_is_named_by_file_and_line(tmp_path: Path, bad: str, message: str) -> None:
    path = write_lines(tmp_path / "data.jsonl", line(id="0"), "", bad, line(id="9"))
    with pytest.raises(CorpusError) as error:
        read_examples(path)
    assert str(error.value).startswith(f"{path}:3: ")
    assert message in str(error.value)


def test_null_labels_are_allowed_where_asked(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "dev.jsonl", line(id="a", label=None), line(id="b"))
    examples = read_examples(path, allow_unlabelled=True)
    assert [e.label for e in examples] == [None, 1]


def test_an_empty_corpus_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"no \*\.jsonl files"):
        read_corpus(tmp_path)


def example(id: str, title: str, text: str, label: int | None, lang: str = "ru") -> Example:
    return Example(id=id, lang=lang, title=title, text=text, label=label, kind="case")


def test_a_later_label_of_the_same_text_overrides_the_earlier() -> None:
    seed = [example("s1", "Суд оштрафовал блогера", "За пост в Telegram.", 0)]
    # Same words: case, ё, punctuation and spacing do not make it another text.
    moderator = [example("m1", "СУД оштрафовал  блогера!", "«За пост» в telegram", 1)]
    training = merge(seed, moderator)
    assert [(e.id, e.label) for e in training.examples] == [("m1", 1)]
    assert training.overridden == 1


def test_unlabelled_examples_are_left_out_of_training() -> None:
    training = merge([example("a", "A", "x", 1), example("b", "B", "y", None)])
    assert [e.id for e in training.examples] == ["a"]


def test_the_data_hash_ignores_order_but_not_labels() -> None:
    first = [example("a", "A", "x", 1), example("b", "B", "y", 0)]
    assert merge(first).data_hash == merge(list(reversed(first))).data_hash
    assert merge(first).examples == merge(list(reversed(first))).examples
    flipped = [example("a", "A", "x", 0), example("b", "B", "y", 0)]
    assert merge(first).data_hash != merge(flipped).data_hash


def test_counts_per_language_and_label() -> None:
    training = merge(read_corpus(SEED))
    assert training.counts() == {"en": {"0": 24, "1": 24}, "ru": {"0": 24, "1": 24}}


def test_normalisation_keeps_article_numbers_whole() -> None:
    text = "Суд (ч.1 ст. 20.3.3 КоАП) и ст.280.3, 207.3 УК: «Ёлка» — 1.5 млн."
    assert normalise(text) == "суд ч 1 ст 20.3.3 коап и ст 280.3 207.3 ук елка 1.5 млн"
