"""The WAL is checkpointed (TRUNCATE) when it outgrows its bound, not only on a timer."""

from pathlib import Path

from storage.crypto import random_key
from storage.database import Database, DatabaseOptions


def test_a_commit_that_grows_the_wal_past_its_bound_truncates_it(tmp_path: Path) -> None:
    # GIVEN a database whose WAL may hold at most 256 KiB
    db = Database(tmp_path / "t.db", random_key(), DatabaseOptions(wal_max_bytes=256 * 1024))
    try:
        with db.write() as conn:
            conn.execute("CREATE TABLE t (v BLOB)")
        # WHEN a commit writes far more than that
        with db.write() as conn:
            for _ in range(64):
                conn.execute("INSERT INTO t VALUES (randomblob(32768))")
        # THEN the WAL is folded back right after it, and the data is all there
        assert db.wal_bytes() <= 256 * 1024
        with db.read() as conn:
            assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 64
    finally:
        db.close()


def test_without_a_bound_the_wal_keeps_its_size_until_the_timer(tmp_path: Path) -> None:
    # GIVEN no bound WHEN the same commit runs THEN the WAL keeps the pages (the old way)
    db = Database(tmp_path / "t.db", random_key(), DatabaseOptions())
    try:
        with db.write() as conn:
            conn.execute("CREATE TABLE t (v BLOB)")
            for _ in range(64):
                conn.execute("INSERT INTO t VALUES (randomblob(32768))")
        assert db.wal_bytes() > 1024 * 1024
    finally:
        db.close()
