"""Which faults are transient (retried later, never a permanent failure) and which are not."""

import errno
import threading
from pathlib import Path

import pytest

from agents.ingest.errors import MalformedError, MemoryLimitError, ParserKilledError
from storage.crypto import random_key
from storage.database import Database, DatabaseOptions
from storage.errors import (
    DatabaseBusyError,
    DiskIOError,
    InsufficientStorageError,
    transient_fault,
)


def test_a_database_locked_past_its_busy_timeout_is_a_transient_busy_error(
    tmp_path: Path,
) -> None:
    # GIVEN two handles on one file, the first holding the write lock
    key = random_key()
    first = Database(tmp_path / "t.db", key, DatabaseOptions())
    second = Database(tmp_path / "t.db", key, DatabaseOptions(busy_timeout_ms=100))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with first.write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS t (v)")
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(10)
        # WHEN the second writes THEN it gets 503 database_busy, a transient fault
        with pytest.raises(DatabaseBusyError) as caught, second.write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS u (v)")
        assert caught.value.status_code == 503 and transient_fault(caught.value)
    finally:
        release.set()
        holder.join()
        second.close()
        first.close()


@pytest.mark.parametrize(
    "fault",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EIO, "Input/output error"),
        InsufficientStorageError(),
        DiskIOError(),
        ParserKilledError(),
        Exception("database or disk is full"),
        Exception("disk I/O error"),
    ],
)
def test_machine_faults_are_transient(fault: BaseException) -> None:
    assert transient_fault(fault)


@pytest.mark.parametrize(
    "fault", [MalformedError(), MemoryLimitError(), ValueError("bad"), OSError(errno.ENOENT, "x")]
)
def test_faults_of_the_input_or_bugs_are_not_transient(fault: BaseException) -> None:
    assert not transient_fault(fault)
