"""Classifier throughput and retraining time, on documents synthesised from the seed corpus.

    python -m bench.classify [--documents 20000] [--chars 3000] [--train-items 10000]

Scoring: distinct documents of extracted-article length (sentences of the corpus, shuffled),
scored in batches as `repostwatch classify` does, by a freshly loaded model (cold caches).
Retraining: what `repostwatch train` does (cross-validation, threshold, final fit) on
labelled items made by recombining sentences of corpus items of the same language and label.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections import defaultdict
from dataclasses import replace

from bench.report import Figure, at_least, info
from classifiers.batch import BATCH_SIZE
from classifiers.corpus import Document, Example, merge, read_corpus
from classifiers.pipeline import prepare
from classifiers.training import cross_validate, train

SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def sentences_of(examples: list[Example]) -> list[str]:
    return [s for example in examples for s in SENTENCE_END.split(example.text) if s]


def synthetic_documents(examples: list[Example], count: int, chars: int) -> list[Document]:
    """Distinct documents: a corpus headline and shuffled corpus sentences up to `chars`."""
    rng = random.Random(20181008)
    by_lang: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        by_lang[example.lang].extend(sentences_of([example]))
    documents = []
    for _ in range(count):
        example = rng.choice(examples)
        pool, parts, length = by_lang[example.lang], [], 0
        while length < chars:
            sentence = rng.choice(pool)
            parts.append(sentence)
            length += len(sentence) + 1
        documents.append(Document(example.title, " ".join(parts)[:chars], example.lang))
    return documents


def synthetic_labelled(examples: list[Example], count: int) -> list[Example]:
    """Variations that keep their label: an item's sentences shuffled, plus one sentence of
    another item of the same language, label and kind."""
    rng = random.Random(1)
    groups: dict[tuple, list[Example]] = defaultdict(list)
    for example in examples:
        groups[(example.lang, example.label, example.kind)].append(example)
    varied = []
    for number in range(count):
        example = examples[number % len(examples)]
        own = SENTENCE_END.split(example.text)
        rng.shuffle(own)
        other = rng.choice(groups[(example.lang, example.label, example.kind)])
        extra = rng.choice(SENTENCE_END.split(other.text))
        text = " ".join([*own, extra])
        varied.append(replace(example, id=f"{example.id}-v{number}", text=text))
    return varied


class Clock:
    """Wall and CPU seconds of a block: on a busy machine the CPU figure says more."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def rate(self, count: int) -> str:
        return f"{count / self.wall:,.0f}/s wall, {count / self.cpu:,.0f}/s CPU"


def bench_scoring(documents: list[Document]) -> None:
    model = train(merge(read_corpus())).model
    with Clock() as clock:
        for start in range(0, len(documents), BATCH_SIZE):
            model.scores(documents[start : start + BATCH_SIZE])
    print(
        f"classify: {len(documents)} distinct documents of {len(documents[0].text)} chars "
        f"(the model reads the headline and the first {model.config.max_chars}), batches of "
        f"{BATCH_SIZE}, cold caches: {clock.rate(len(documents))} documents"
    )
    sample = documents[:BATCH_SIZE]
    with Clock() as clock:
        model.pipeline.predict_proba([prepare(d, model.config) for d in sample])
    print(f"  scikit-learn's own pipeline on the first {len(sample)}: {clock.rate(len(sample))}")


def bench_training(items: int) -> None:
    training = merge(synthetic_labelled(read_corpus(), items))
    with Clock() as clock:
        trained = train(training)
    print(
        f"train: {len(training.examples)} labelled items, cross-validation + threshold + final "
        f"fit: {clock.wall:.1f} s wall, {clock.cpu:.1f} s CPU (CV mean F1 {trained.cv.quality:.3f})"
    )
    with Clock() as clock:
        cross_validate(training, *trained.model.blueprint())
    print(
        f"  comparing with the active pipeline on the same folds adds {clock.wall:.1f} s wall, "
        f"{clock.cpu:.1f} s CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--chars", type=int, default=3000, help="length of each document's text")
    parser.add_argument("--train-items", type=int, default=10_000, help="0: skip retraining")
    arguments = parser.parse_args()
    documents = synthetic_documents(read_corpus(), arguments.documents, arguments.chars)
    bench_scoring(documents)
    if arguments.train_items:
        bench_training(arguments.train_items)


if __name__ == "__main__":
    main()


SCORING_FLOOR = 5_000  # documents/s, DESIGN.md


def figures(
    documents: int = 20_000, chars: int = 3000, train_items: int = 10_000, *, quick: bool = False
) -> list[Figure]:
    """Scoring throughput and retraining time, for the runner (python -m bench)."""
    corpus = read_corpus()
    if quick:  # every corpus item once: fewer would leave out whole labels
        documents, train_items = 400, len(corpus)
    texts = synthetic_documents(corpus, documents, chars)
    model = train(merge(corpus)).model
    with Clock() as scoring:
        for start in range(0, len(texts), BATCH_SIZE):
            model.scores(texts[start : start + BATCH_SIZE])
    training = merge(synthetic_labelled(corpus, train_items))
    with Clock() as retraining:
        trained = train(training)
    return [
        at_least(
            "classify",
            "scoring throughput on extracted text",
            len(texts) / scoring.wall,
            SCORING_FLOOR,
            "documents/s",
            f"{len(texts):,} distinct documents of {chars} chars, batches of {BATCH_SIZE}, "
            f"cold caches; {len(texts) / scoring.cpu:,.0f} per CPU second (a busy machine "
            "lowers the first, BLAS threads the second)",
        ),
        info(
            "classify",
            f"retraining on {len(training.examples):,} labelled items",
            retraining.wall,
            "s",
            f"cross-validation + threshold + final fit; {retraining.cpu:.1f} s CPU; "
            f"CV mean F1 {trained.cv.quality:.3f}",
        ),
    ]
