"""Database: raw-key SQLCipher, WAL, sqlite-vec, readers beside one writer, time limits."""

import threading
import time
from pathlib import Path

import pytest

from storage.crypto import random_key
from storage.database import Database, DatabaseOptions
from storage.errors import QueryTimeoutError, WrongKeyError


def test_file_is_encrypted_and_opens_only_with_its_key(tmp_path: Path) -> None:
    # GIVEN a database written with one key
    key = random_key()
    db = Database(tmp_path / "x.db", key, DatabaseOptions())
    with db.write() as conn:
        conn.execute("CREATE TABLE t (v)")
        conn.execute("INSERT INTO t VALUES ('hello-canary')")
    db.close()
    raw = (tmp_path / "x.db").read_bytes()
    # THEN the file has no SQLite header and no plaintext
    assert not raw.startswith(b"SQLite format 3")
    assert b"hello-canary" not in raw
    # AND another key gets a clear error
    with pytest.raises(WrongKeyError, match="wrong key"):
        Database(tmp_path / "x.db", random_key(), DatabaseOptions())


def test_connections_use_wal_and_load_sqlite_vec(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db", random_key(), DatabaseOptions(load_vec=True))
    with db.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT vec_version()").fetchone()[0].startswith("v")
    db.close()


def test_reader_sees_only_committed_rows_while_writer_is_busy(tmp_path: Path) -> None:
    # GIVEN a writer holding an open transaction
    db = Database(tmp_path / "x.db", random_key(), DatabaseOptions())
    with db.write() as conn:
        conn.execute("CREATE TABLE t (v)")
    inside = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with db.write() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(5)
    # WHEN a reader looks meanwhile
    with db.read() as conn:
        during = conn.execute("SELECT count(*) FROM t").fetchone()[0]
    release.set()
    thread.join(5)
    with db.read() as conn:
        after = conn.execute("SELECT count(*) FROM t").fetchone()[0]
    # THEN it is not blocked and sees the last committed state
    assert (during, after) == (0, 1)
    db.close()


def test_failed_write_rolls_back(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db", random_key(), DatabaseOptions())
    with db.write() as conn:
        conn.execute("CREATE TABLE t (v)")
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("abort")
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    db.close()


def test_a_relaxed_commit_is_visible_and_leaves_full_sync_for_the_next(tmp_path: Path) -> None:
    # GIVEN a database with synchronous = FULL (the default)
    db = Database(tmp_path / "x.db", random_key(), DatabaseOptions(synchronous="FULL"))
    with db.write() as conn:
        conn.execute("CREATE TABLE t (v)")
    # WHEN derived state is written without the fsync, and then a fact with it
    with db.write(durable=False) as conn:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        conn.execute("INSERT INTO t VALUES ('derived')")
    with db.write() as conn:
        # THEN the next ordinary commit is FULL again
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        conn.execute("INSERT INTO t VALUES ('fact')")
    # AND both rows are committed
    with db.read() as conn:
        assert [r[0] for r in conn.execute("SELECT v FROM t ORDER BY rowid")] == ["derived", "fact"]
    db.close()


def test_runaway_query_is_interrupted_at_the_time_limit(tmp_path: Path) -> None:
    # GIVEN a 100 ms query time limit
    db = Database(tmp_path / "x.db", random_key(), DatabaseOptions(query_timeout_ms=100))
    endless = (
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"
    )
    # WHEN a query would run forever
    with pytest.raises(QueryTimeoutError, match="time limit"), db.read() as conn:
        conn.execute(endless).fetchone()
    # THEN the connection still works afterwards
    with db.read() as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1
    db.close()


def test_work_from_many_threads_shares_commits_and_a_failure_stays_its_own(
    tmp_path: Path,
) -> None:
    # GIVEN a table with a unique column, and 40 threads each inserting one row together,
    # one of them a duplicate of another's value
    db = Database(tmp_path / "g.db", random_key(), DatabaseOptions())
    with db.write() as conn:
        conn.execute("CREATE TABLE t (v INTEGER UNIQUE)")
    commits: list[str] = []
    db._writer.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    values = [*range(39), 7]
    outcomes: dict[int, object] = {}

    def insert(index: int, value: int) -> None:
        try:
            outcomes[index] = db.write_together(
                lambda conn: conn.execute("INSERT INTO t (v) VALUES (?)", (value,)).lastrowid
            )
        except Exception as exc:  # noqa: BLE001 - recorded for the assertions
            outcomes[index] = exc

    threads = [threading.Thread(target=insert, args=item) for item in enumerate(values)]
    # WHEN they all arrive while another write holds the writer
    with db.write() as conn:
        conn.execute("INSERT INTO t (v) VALUES (1000)")
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(db._queued[True]) < len(values) and time.monotonic() < deadline:
            time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=60)
    # THEN every distinct value is committed, in one commit after the one holding the
    # writer, and exactly one caller got the uniqueness error, in its own thread
    with db.read() as conn:
        stored = sorted(row[0] for row in conn.execute("SELECT v FROM t"))
    assert stored == [*range(39), 1000]
    assert len(commits) == 2
    errors = [o for o in outcomes.values() if isinstance(o, Exception)]
    assert len(errors) == 1 and "UNIQUE" in str(errors[0])
    db.close()


def test_work_done_together_inside_a_write_joins_that_transaction(tmp_path: Path) -> None:
    # GIVEN a write transaction in progress on this thread
    db = Database(tmp_path / "n.db", random_key(), DatabaseOptions())
    with db.write() as conn:
        conn.execute("CREATE TABLE t (v INTEGER)")
    with pytest.raises(RuntimeError):
        with db.write() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
            # WHEN work is done together from inside it
            db.write_together(lambda c: c.execute("INSERT INTO t VALUES (2)"))
            # AND the outer transaction then fails
            raise RuntimeError("abandon")
    # THEN both were rolled back with it
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    db.close()
