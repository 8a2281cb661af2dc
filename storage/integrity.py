"""Integrity checks of an encrypted database file and of blob files."""

from pathlib import Path

import sqlcipher3

from storage.blobs import BlobStore
from storage.crypto import apply_key
from storage.errors import StorageError


def check_database(path: Path, key: bytes) -> list[str]:
    """Problems found by `cipher_integrity_check` (page HMACs) and `integrity_check`."""
    problems: list[str] = []
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    try:
        apply_key(conn, key)
        try:
            for (message,) in conn.execute("PRAGMA cipher_integrity_check"):
                problems.append(str(message))
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            if rows != ["ok"]:
                problems.extend(str(r) for r in rows)
        except sqlcipher3.DatabaseError as exc:
            problems.append(f"cannot read: {exc}")
    finally:
        conn.close()
    return problems


def check_blobs(store: BlobStore) -> list[str]:
    """Decrypt every blob fully; any authentication failure is a problem."""
    problems: list[str] = []
    for blob_id in store.ids():
        try:
            for _ in store.iter_plaintext(blob_id):
                pass
        except StorageError as exc:
            problems.append(str(exc))
    return problems
