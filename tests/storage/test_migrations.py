"""Migrations: registered in code, applied on open, a newer database refused."""

from pathlib import Path
from typing import Any

import pytest

from storage.crypto import random_key
from storage.database import Database, DatabaseOptions
from storage.errors import DatabaseTooNewError
from storage.migrations import MigrationSet


def _set(versions: int) -> MigrationSet:
    migrations = MigrationSet("test")
    for version in range(1, versions + 1):

        def step(conn: Any, v: int = version) -> None:
            conn.execute(f"CREATE TABLE t{v} (x)")

        migrations(version)(step)
    return migrations


def _tables(db: Database) -> set[str]:
    with db.read() as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_new_database_gets_every_step_and_reopening_applies_only_new_ones(tmp_path: Path) -> None:
    # GIVEN an encrypted database created at version 2
    key = random_key()
    db = Database(tmp_path / "x.db", key, DatabaseOptions(), _set(2))
    assert _tables(db) == {"t1", "t2"}
    db.close()
    # WHEN the code gains a third step and the file is reopened
    db = Database(tmp_path / "x.db", key, DatabaseOptions(), _set(3))
    # THEN only the new step ran and the version moved on
    assert _tables(db) == {"t1", "t2", "t3"}
    with db.read() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    db.close()


def test_database_newer_than_the_code_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    # GIVEN a database at version 3
    key = random_key()
    Database(tmp_path / "x.db", key, DatabaseOptions(), _set(3)).close()
    # WHEN older code (2 steps) opens it
    with pytest.raises(DatabaseTooNewError) as caught:
        Database(tmp_path / "x.db", key, DatabaseOptions(), _set(2), label="x.db")
    # THEN it refuses, naming both versions
    assert "schema version 3" in str(caught.value)
    assert "(2)" in str(caught.value)


def test_failed_step_rolls_back_and_leaves_the_version(tmp_path: Path) -> None:
    # GIVEN a second step that fails half-way
    migrations = _set(1)

    @migrations(2)
    def broken(conn: Any) -> None:
        conn.execute("CREATE TABLE half (x)")
        raise RuntimeError("boom")

    key = random_key()
    with pytest.raises(RuntimeError):
        Database(tmp_path / "x.db", key, DatabaseOptions(), migrations)
    # THEN the database stays at version 1 without the half-made table
    db = Database(tmp_path / "x.db", key, DatabaseOptions(), _set(1))
    assert _tables(db) == {"t1"}
    db.close()


def test_registering_a_version_twice_is_an_error() -> None:
    migrations = _set(1)
    with pytest.raises(ValueError, match="registered twice"):
        migrations(1)(lambda conn: None)
