"""`repostwatch backup PATH`: a consistent copy of the database, taken while it is in use."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli_options import db_option
from bot.settings import Settings
from storage import Store, StoreError


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@db_option
@click.pass_obj
def backup_command(settings: Settings, path: Path, db_path: Path | None) -> None:
    """Copy the database to PATH, safely, even while RepostWatch is running.

    Uses SQLite's online backup: PATH gets one consistent snapshot (including what is still
    in the write-ahead log) as a single self-contained file, written beside PATH and renamed
    into place, so PATH is never half-written. An existing PATH is replaced. To restore,
    stop RepostWatch, delete repostwatch.db-wal and repostwatch.db-shm, and copy the backup
    over repostwatch.db.

    \b
    Example:
        repostwatch backup backups/repostwatch-$(date +%F).db
    """
    db = db_path or settings.db_path
    if not db.is_file():
        click.echo(f"Error: no database at {db}", err=True)
        sys.exit(1)
    store = Store(db)
    try:
        copied = store.backup(path)
        articles = store.count_articles()
    except StoreError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    finally:
        store.close()
    size = copied.stat().st_size / (1024 * 1024)
    click.echo(f"Backed up {db} to {copied} ({size:.1f} MB, {articles} articles).")
