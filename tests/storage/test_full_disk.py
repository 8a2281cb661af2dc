"""A full disk is a clear refusal (507 insufficient_storage), and leaves nothing half-written.

Runs on a real, small tmpfs mounted by the test (root is needed to mount; CI runs as root).
"""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.blobs import BlobStore
from storage.crypto import random_key
from storage.database import Database, DatabaseOptions
from storage.errors import InsufficientStorageError, describe


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs; skipped outside CI when this user may not mount."""
    mount = tmp_path / "volume"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs in CI: {done.stderr.decode()}")
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(volume: Path) -> None:
    fd = os.open(volume / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def test_a_blob_on_a_full_disk_is_refused_as_insufficient_storage(small_volume: Path) -> None:
    # GIVEN a blob store on a volume that is full
    store = BlobStore(small_volume / "blobs", random_key())
    kept = store.put(b"written while there was room")
    _fill(small_volume)
    # WHEN another blob is stored
    with pytest.raises(InsufficientStorageError) as caught:
        store.put(os.urandom(512 * 1024))
    # THEN the refusal says 507 insufficient_storage, no temp file is left, and the
    # blob stored before is intact
    described = describe(caught.value)
    assert (described.status_code, described.code) == (507, "insufficient_storage")
    assert not [p for p in (small_volume / "blobs").rglob(".*.tmp")]
    assert store.get(kept) == b"written while there was room"


def test_a_database_write_on_a_full_disk_is_refused_as_insufficient_storage(
    small_volume: Path,
) -> None:
    # GIVEN an encrypted database with a row, on a volume that is then filled
    db = Database(small_volume / "t.db", random_key(), DatabaseOptions())
    try:
        with db.write() as conn:
            conn.execute("CREATE TABLE t (v BLOB)")
            conn.execute("INSERT INTO t VALUES (x'00')")
        _fill(small_volume)
        # WHEN a large write is attempted THEN it is refused with 507 and rolled back
        with pytest.raises(InsufficientStorageError), db.write() as conn:
            for _ in range(64):
                conn.execute("INSERT INTO t VALUES (randomblob(65536))")
        with db.read() as conn:
            assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    finally:
        db.close()
