"""queue.db's WAL shrinks back to its bound after a burst, instead of keeping its peak."""

import os
from pathlib import Path

import pytest

from storage.crypto import random_key
from storage.queue_storage import EncryptedSqliteStorage

BOUND = 256 * 1024


def _burst_then_drain(path: Path, wal_max_bytes: int) -> tuple[int, int]:
    """Queue 3,000 tasks while a reader holds its snapshot (so no checkpoint can start
    the WAL over), then take them all; the WAL file's size at its peak and at the end."""
    storage = EncryptedSqliteStorage(
        "q", filename=str(path), key=random_key(), wal_max_bytes=wal_max_bytes
    )
    reader = storage._create_connection()
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM task").fetchone()
        for n in range(3000):
            storage.enqueue(f"task {n}".encode() * 40)
        peak = os.path.getsize(f"{path}-wal")
        reader.execute("COMMIT")
        while storage.dequeue() is not None:
            pass
        return peak, os.path.getsize(f"{path}-wal")
    finally:
        reader.close()
        storage.close()


@pytest.mark.parametrize("bounded", [True, False])
def test_the_queue_wal_shrinks_back_after_a_burst_only_with_a_bound(
    tmp_path: Path, bounded: bool
) -> None:
    # GIVEN a queue.db with (or without) a WAL bound
    # WHEN a burst of tasks lands while a reader blocks checkpoints, and is then drained
    peak, end = _burst_then_drain(tmp_path / "queue.db", BOUND if bounded else 0)
    # THEN the WAL grew well past SQLite's own checkpoint interval (1,000 pages) ...
    assert peak > 8 * 2**20
    if bounded:
        # ... and shrank back once checkpoints could run again: at most one interval
        assert end <= 5 * 2**20
    else:
        # ... and, without a bound, the file keeps its peak size for good
        assert end >= peak
