"""The database: WAL and foreign keys, migrations from every earlier schema version, backups.

The migration tests are generic over `storage.store.MIGRATIONS`: a database is built at every
prefix of the list (every schema a user of an earlier RepostWatch can have), every table
gets rows, and opening it with the current `Store` must keep those rows and end with the
same schema as a new database. A new migration is covered by adding it to the list. If a
table has a CHECK constraint the row filler cannot satisfy, name a value in SAMPLE_VALUES.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from storage import NewArticle, Store, StoreError
from storage.migrations import Migration, apply, migration
from storage.store import MIGRATIONS

SAMPLE_VALUES: dict[tuple[str, str], object] = {}
"""(table, column) -> a value to write there, for constraints the filler cannot guess."""

TIME = "2026-11-20T12:00:00+00:00"
_CHECK_IN = re.compile(r"CHECK\s*\(\s*\"?(\w+)\"?\s+IN\s*\(([^)]*)\)\s*\)", re.IGNORECASE)


# --- WAL and foreign keys ----------------------------------------------------------------------


def test_every_store_connection_is_wal_with_foreign_keys_enforced(tmp_path: Path) -> None:
    path = tmp_path / "rw.db"
    for store in (Store(path), Store(path)):  # a new database, then an existing one
        assert store.scalar("PRAGMA journal_mode") == "wal"
        assert store.scalar("PRAGMA foreign_keys") == 1
        assert int(store.scalar("PRAGMA busy_timeout")) >= 5000
        # Enforced, not just set: a child row pointing nowhere is refused.
        store.conn.execute("CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY)")
        store.conn.execute("CREATE TEMP TABLE child (parent_id INTEGER REFERENCES parent (id))")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            store.conn.execute("INSERT INTO child (parent_id) VALUES (42)")
        store.close()


# --- migrations ----------------------------------------------------------------------------------


def test_migration_names_are_unique_and_domain_named() -> None:
    names = [step.name for step in MIGRATIONS]
    assert len(names) == len(set(names))
    for name in names[1:]:
        assert re.fullmatch(r"[a-z]+_\d{4}_\w+", name), name


@pytest.mark.parametrize(
    "version", range(len(MIGRATIONS) + 1), ids=lambda n: f"after-{n}-migrations"
)
def test_a_database_from_every_schema_version_is_brought_up_to_date(
    tmp_path: Path, version: int
) -> None:
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    apply(conn, MIGRATIONS[:version])
    written = fill_every_table(conn)
    conn.close()

    store = Store(old)
    assert store.schema_versions() == [step.name for step in MIGRATIONS]
    for table, rows in written.items():
        for row in rows:
            assert row_exists(store.conn, table, row), (table, row)
    fresh = Store(tmp_path / "fresh.db")
    assert schema(store.conn) == schema(fresh.conn)
    assert store.scalar("PRAGMA integrity_check") == "ok"
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    # What every version could store reads back through the current Store.
    if written.get("feeds"):
        assert len(store.feed_states()) == len(written["feeds"])
    if written.get("articles"):
        assert len(store.articles_since(datetime(2000, 1, 1, tzinfo=UTC))) == len(
            written["articles"]
        )
    # Idempotent: nothing more to apply, and opening again changes nothing.
    assert apply(store.conn, MIGRATIONS) == []
    store.close()
    again = Store(old)
    assert schema(again.conn) == schema(fresh.conn)
    assert again.schema_versions() == [step.name for step in MIGRATIONS]
    again.close()
    fresh.close()


def test_stores_opening_a_new_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    """`repostwatch run` and a cron job starting together on a new (or older) database: each
    must find the migrations the other applied, not apply them again and fail."""
    for trial in range(10):
        path = tmp_path / f"race-{trial}.db"
        ready = threading.Barrier(4)
        errors: list[BaseException] = []

        def open_store(
            path: Path = path, ready: threading.Barrier = ready, errors: list = errors
        ) -> None:
            ready.wait()
            try:
                Store(path).close()
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=open_store) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        store = Store(path)
        assert store.schema_versions() == [step.name for step in MIGRATIONS]
        store.close()


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "rw.db", isolation_level=None)
    good = migration("test_0001_notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    broken = migration(
        "test_0002_tags",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY)",
        "ALTER TABLE notes ADD COLUMN tag INTEGER NOT NULL",  # not allowed: no default
    )
    assert apply(conn, [good]) == ["test_0001_notes"]
    conn.execute("INSERT INTO notes (body) VALUES ('kept')")
    with pytest.raises(sqlite3.OperationalError):
        apply(conn, [good, broken])
    # All of the broken migration was rolled back: no half-made table, not marked applied.
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "tags" not in tables
    assert [row[0] for row in conn.execute("SELECT name FROM _migrations")] == ["test_0001_notes"]
    assert conn.execute("SELECT body FROM notes").fetchall() == [("kept",)]
    fixed = Migration("test_0002_tags", ("CREATE TABLE tags (id INTEGER PRIMARY KEY)",))
    assert apply(conn, [good, fixed]) == ["test_0002_tags"]
    conn.close()


def fill_every_table(conn: sqlite3.Connection, rows_per_table: int = 2) -> dict[str, list[dict]]:
    """Insert rows into every ordinary table, parents before children; returns what went in."""
    written: dict[str, list[dict]] = {}
    for table in tables_parents_first(conn):
        written[table] = []
        for number in range(1, rows_per_table + 1):
            row = sample_row(conn, table, number, written)
            marks = ", ".join("?" * len(row))
            columns = ", ".join(f'"{name}"' for name in row)
            try:
                conn.execute(
                    f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', tuple(row.values())
                )
            except sqlite3.IntegrityError as error:
                pytest.fail(f"cannot fill table {table} ({error}); add its values to SAMPLE_VALUES")
            written[table].append(row)
    return written


def tables_parents_first(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    virtual = [name for name, sql in rows if sql.upper().startswith("CREATE VIRTUAL")]
    tables = [
        name
        for name, _ in rows
        if name != "_migrations"
        and name not in virtual
        and not any(name.startswith(f"{v}_") for v in virtual)  # FTS shadow tables
    ]
    ordered: list[str] = []
    while len(ordered) < len(tables):
        progressed = False
        for table in tables:
            # Only required references order the tables; a nullable one (articles.story_id
            # against stories.first_article_id) points at its parent's rows if there are any.
            required = {
                column[1] for column in conn.execute(f'PRAGMA table_info("{table}")') if column[3]
            }
            parents = {
                fk[2]
                for fk in conn.execute(f'PRAGMA foreign_key_list("{table}")')
                if fk[3] in required or _is_rowid(conn, table, fk[3])
            }
            if table not in ordered and parents - {table} <= set(ordered):
                ordered.append(table)
                progressed = True
        assert progressed, f"foreign keys form a cycle among {set(tables) - set(ordered)}"
    return ordered


def sample_row(
    conn: sqlite3.Connection, table: str, number: int, written: dict[str, list[dict]]
) -> dict[str, object]:
    """Values for every column that needs one: distinct per `number`, valid for the schema."""
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    allowed = {
        column: [value.strip().strip("'") for value in values.split(",")]
        for column, values in _CHECK_IN.findall(sql)
    }
    references = {
        fk[3]: (fk[2], fk[4]) for fk in conn.execute(f'PRAGMA foreign_key_list("{table}")')
    }
    row: dict[str, object] = {}
    for _, name, declared, _, _, _, hidden in conn.execute(f'PRAGMA table_xinfo("{table}")'):
        affinity = declared.upper()
        if hidden:
            continue  # a generated column
        if (table, name) in SAMPLE_VALUES:
            row[name] = SAMPLE_VALUES[(table, name)]
        elif name in references:
            parent, parent_column = references[name]
            value = _parent_value(conn, parent, parent_column, number)
            if value is not None:
                row[name] = value
        elif _is_rowid(conn, table, name):
            continue  # SQLite numbers it
        elif name in allowed:
            row[name] = allowed[name][number % len(allowed[name])]
        elif name.endswith("_at") or name in ("published", "not_before"):
            row[name] = TIME
        elif "INT" in affinity:
            row[name] = number
        elif any(kind in affinity for kind in ("REAL", "FLOA", "DOUB")):
            row[name] = number + 0.5
        elif "BLOB" in affinity:
            row[name] = f"{table}.{name}.{number}".encode()
        else:
            row[name] = f"{table}.{name}.{number}"
    return row


def _is_rowid(conn: sqlite3.Connection, table: str, column: str) -> bool:
    """Whether `column` is the table's INTEGER PRIMARY KEY (an alias of the rowid)."""
    keys = [c for c in conn.execute(f'PRAGMA table_info("{table}")') if c[5]]
    return len(keys) == 1 and keys[0][1] == column and keys[0][2].upper() == "INTEGER"


def _parent_value(conn: sqlite3.Connection, parent: str, column: str | None, number: int) -> object:
    """A value of the referenced column from one of the parent's rows; None if it has none."""
    key = column or "rowid"
    rows = conn.execute(f'SELECT "{key}" FROM "{parent}" ORDER BY rowid').fetchall()
    return rows[(number - 1) % len(rows)][0] if rows else None


def row_exists(conn: sqlite3.Connection, table: str, row: dict[str, object]) -> bool:
    """Whether a row with these values (in the columns the table still has) is there."""
    columns = {column[1] for column in conn.execute(f'PRAGMA table_xinfo("{table}")')}
    assert columns, f"table {table} is gone, and its rows with it"
    kept = {name: value for name, value in row.items() if name in columns}
    where = " AND ".join(f'"{name}" IS ?' for name in kept) or "1"
    found = conn.execute(f'SELECT count(*) FROM "{table}" WHERE {where}', tuple(kept.values()))
    return found.fetchone()[0] >= 1


def schema(conn: sqlite3.Connection) -> list[tuple]:
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return sorted(
        (kind, name, table, " ".join((sql or "").split())) for kind, name, table, sql in rows
    )


# --- backup ----------------------------------------------------------------------------------


def article(number: int, feed: str = "tass-ru") -> NewArticle:
    return NewArticle(
        url=f"https://tass.ru/proisshestviya/{number}",
        feed=feed,
        title=f"Суд вынес приговор по делу №{number}",
        text=f"Текст заметки номер {number}. " * 20,
        lang="ru",
        source="page",
    )


def test_a_backup_taken_while_another_connection_writes_is_consistent(tmp_path: Path) -> None:
    db = tmp_path / "rw.db"
    main = Store(db)
    main.sync_feeds([("tass-ru", "https://tass.ru/rss/v2.xml", "ru")])
    for number in range(200):
        main.add_article(article(number))
    writer = Store(db)  # another connection, as the running bot would be
    stop = threading.Event()
    written = [200]

    def keep_writing() -> None:
        while not stop.is_set():
            writer.add_article(article(written[0]))
            written[0] += 1

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        while written[0] < 300:  # the writer is well under way
            pass
        copies = [main.backup(tmp_path / "backups" / f"copy-{n}.db") for n in range(3)]
    finally:
        stop.set()
        thread.join()
    assert written[0] > 300
    for copy in copies:
        assert not Path(f"{copy}-wal").exists()  # one self-contained file
        restored = Store(copy)
        assert restored.scalar("PRAGMA integrity_check") == "ok"
        count = restored.count_articles()
        assert 300 <= count <= written[0]
        # A snapshot, not a smear: each article and its feed's count went in together.
        assert restored.feed_state("tass-ru").articles_total == count
        assert restored.article_by_url(article(count - 1).url).title.endswith(f"№{count - 1}")
        restored.close()
    writer.close()
    main.close()


def test_a_backup_includes_what_is_only_in_the_write_ahead_log(tmp_path: Path) -> None:
    db = tmp_path / "rw.db"
    store = Store(db)
    store.conn.execute("PRAGMA wal_autocheckpoint = 0")  # keep every change in the -wal file
    for number in range(50):
        store.add_article(article(number))
    assert Path(f"{db}-wal").stat().st_size > 0
    naive = tmp_path / "file-copy.db"
    shutil.copyfile(db, naive)  # what copying the file would give
    copy = store.backup(tmp_path / "backup.db")
    store.close()
    assert Store(copy).count_articles() == 50
    assert Store(naive).count_articles() < 50


def test_a_restored_backup_is_a_working_database(tmp_path: Path) -> None:
    db = tmp_path / "data" / "repostwatch.db"
    store = Store(db)
    for number in range(10):
        store.add_article(article(number))
    backup = store.backup(tmp_path / "backup.db")
    store.add_article(article(99))  # written after the backup: gone after the restore
    store.close()
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(backup, db)
    restored = Store(db)
    assert restored.count_articles() == 10
    assert restored.add_article(article(10)) is not None
    assert restored.scalar("PRAGMA journal_mode") == "wal"
    restored.close()


def test_backing_up_onto_the_database_itself_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "rw.db")
    with pytest.raises(StoreError, match="is the database itself"):
        store.backup(tmp_path / "rw.db")
    store.close()


def test_the_backup_command(tmp_path: Path) -> None:
    db = tmp_path / "rw.db"
    store = Store(db)
    for number in range(5):
        store.add_article(article(number))
    store.close()
    target = tmp_path / "backups" / "rw-2026-11-21.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["backup", str(target), "--db", str(db)], env={})
    assert result.exit_code == 0, result.output
    assert (
        result.output.startswith(f"Backed up {db} to {target} (") and "5 articles" in result.output
    )
    assert Store(target).count_articles() == 5

    missing = runner.invoke(cli, ["backup", str(target), "--db", str(tmp_path / "none.db")], env={})
    assert missing.exit_code == 1 and "no database at" in missing.output
    assert not (tmp_path / "none.db").exists()
    onto_itself = runner.invoke(cli, ["backup", str(db), "--db", str(db)], env={})
    assert onto_itself.exit_code == 1 and "is the database itself" in onto_itself.output
    helped = runner.invoke(cli, ["backup", "--help"], env={})
    assert "Example:" in helped.output and "repostwatch backup " in helped.output
