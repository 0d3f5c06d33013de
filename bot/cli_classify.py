"""`repostwatch train`, `evaluate` and `classify`: the relevance classifier from the shell."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click

from bot.cli_options import database_paths, db_option
from bot.settings import Settings
from classifiers.batch import LineError, classify_lines
from classifiers.corpus import SEED_DIR, CorpusError, TrainingError, read_examples
from classifiers.evaluation import evaluate as evaluate_model
from classifiers.registry import RegistryError
from classifiers.report import render_evaluation
from poller.scoring import ensure_model
from storage import Store

DATA_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@contextmanager
def opened(settings: Settings, db_path: Path | None) -> Iterator[tuple[Store, Path]]:
    """The store and its models directory; library errors become clear CLI errors."""
    db_path, models_dir = database_paths(settings, db_path)
    store = Store(db_path)
    try:
        yield store, models_dir
    except (CorpusError, TrainingError, RegistryError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.close()


@click.command()
@click.option("--data", "data_files", multiple=True, type=DATA_FILE, help="Extra labelled JSONL.")
@click.option("--force", is_flag=True, help="Activate the new model even if it is worse.")
@click.option(
    "--seed",
    "seed_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=SEED_DIR,
    show_default="the bundled corpus",
    help="Directory of *.jsonl seed files to train on instead of the bundled corpus.",
)
@db_option
@click.pass_obj
def train(
    settings: Settings,
    data_files: tuple[Path, ...],
    force: bool,
    seed_dir: Path,
    db_path: Path | None,
) -> None:
    """Train on the seed corpus, moderator labels and any --data files.

    Prints cross-validated precision, recall and F1 per language. The new model becomes active
    unless it is worse than the active one on the same folds (exit status 1); --force
    activates it anyway.

    \b
    Example:
        repostwatch train --data more-labels.jsonl
    """
    # Imported here: every command's module loads with `repostwatch run`, which never trains.
    from poller.training import retrain

    with opened(settings, db_path) as (store, models_dir):
        report = retrain(store, models_dir, data_files, force, seed_dir=seed_dir)
    click.echo(report.render())
    if report.refused:
        sys.exit(1)


@click.command()
@click.option("--data", "data_file", required=True, type=DATA_FILE, help="Labelled JSONL.")
@db_option
@click.pass_obj
def evaluate(settings: Settings, data_file: Path, db_path: Path | None) -> None:
    """Score labelled data with the active model, beside a keyword baseline.

    Lines need id, lang, title, text and label (1, 0, or null to skip as ambiguous).

    \b
    Example:
        repostwatch evaluate --data labelled.jsonl
    """
    with opened(settings, db_path) as (store, models_dir):
        examples = read_examples(data_file, allow_unlabelled=True)
        model = ensure_model(store, models_dir)
    click.echo(render_evaluation(evaluate_model(model, examples)))


@click.command()
@click.argument("input_file", default="-", type=click.File("r", encoding="utf-8"))
@click.option("--explain", is_flag=True, help="Add the terms that moved each score most.")
@db_option
@click.pass_obj
def classify(settings: Settings, input_file: TextIO, explain: bool, db_path: Path | None) -> None:
    """Score JSONL documents (id, title, text, optional lang) from FILE or standard input.

    Writes one line per document: id, lang, score (0-1) and relevant (score at or above the
    model's threshold). Bad lines are reported on standard error and skipped; the exit status
    is then 1.

    \b
    Example:
        repostwatch classify articles.jsonl --explain
    """
    name = "<stdin>" if input_file.name == "-" else input_file.name
    with opened(settings, db_path) as (store, models_dir):
        model = ensure_model(store, models_dir)
    errors = 0
    for result in classify_lines(model, input_file, name, explain=explain):
        if isinstance(result, LineError):
            errors += 1
            click.echo(str(result), err=True)
        else:
            click.echo(json.dumps(result, ensure_ascii=False))
    if errors:
        sys.exit(1)
