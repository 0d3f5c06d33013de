"""Options and paths shared by several commands."""

from __future__ import annotations

from pathlib import Path

import click

from bot.settings import Settings

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Database file (default: $REPOSTWATCH_DATA/repostwatch.db); models live beside it.",
)


def database_paths(settings: Settings, db_path: Path | None) -> tuple[Path, Path]:
    """The database and the models folder: the configured ones, or those of `--db`."""
    if db_path is None:
        return settings.db_path, settings.models_dir
    return db_path, db_path.parent / "models"
