"""Opening one SQLCipher connection with the appliance's pragmas and a query time limit."""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlcipher3
import sqlite_vec

from storage.crypto import CIPHER_PAGE_SIZE, apply_key
from storage.errors import (
    CorruptDatabaseError,
    DatabaseBusyError,
    DiskIOError,
    InsufficientStorageError,
    QueryTimeoutError,
    StorageError,
    WrongKeyError,
    disk_io_failure,
    full_disk,
)

# How many SQLite VM steps between checks of the deadline: cheap, still fine-grained.
_PROGRESS_STEPS = 20_000


@dataclass(frozen=True)
class DatabaseOptions:
    """Per-connection tuning; the app builds this from its settings."""

    busy_timeout_ms: int = 5_000
    query_timeout_ms: int = 10_000
    cache_size_kib: int = 65_536
    synchronous: str = "FULL"
    load_vec: bool = False
    # checkpoint(TRUNCATE) after a commit that left the WAL bigger than this (0: never)
    wal_max_bytes: int = 0


class ApplianceConnection(sqlcipher3.Connection):
    """A SQLCipher connection that carries its own query deadline."""

    appliance_deadline: "Deadline"


class Deadline:
    """Progress handler that interrupts a statement once its time limit has passed."""

    def __init__(self) -> None:
        self.until: float | None = None

    def __call__(self) -> int:
        return 1 if self.until is not None and time.monotonic() > self.until else 0


def open_connection(path: Path, key: bytes | None, options: DatabaseOptions) -> Any:
    """Open `path` (created if absent) and verify the key by reading the schema."""
    conn = sqlcipher3.connect(
        str(path),
        timeout=options.busy_timeout_ms / 1000,
        check_same_thread=False,
        isolation_level=None,
        factory=ApplianceConnection,
    )
    try:
        if key is not None:
            apply_key(conn, key)
        else:
            # unkeyed files (tests, benchmarks) keep the encrypted files' page layout
            conn.execute(f"PRAGMA page_size = {CIPHER_PAGE_SIZE}")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            raise WrongKeyError(
                f"cannot open {path.name}: wrong key, or not an appliance database"
            ) from exc
        conn.execute(f"PRAGMA busy_timeout = {int(options.busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode = WAL")
        if options.synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise StorageError(f"invalid synchronous mode {options.synchronous!r}")
        conn.execute(f"PRAGMA synchronous = {options.synchronous.upper()}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA cache_size = -{int(options.cache_size_kib)}")
        conn.execute("PRAGMA temp_store = MEMORY")
        if options.load_vec:
            conn.enable_load_extension(True)
            sqlite_vec.load(conn)
            conn.enable_load_extension(False)
    except BaseException:
        conn.close()
        raise
    deadline = Deadline()
    conn.set_progress_handler(deadline, _PROGRESS_STEPS)
    conn.appliance_deadline = deadline
    return conn


def translate_error(exc: Exception, label: str) -> Exception:
    """Map low-level SQLite failures to the storage errors callers can act on."""
    message = str(exc).lower()
    if "interrupted" in message:
        return QueryTimeoutError(f"query on {label} ran past its time limit")
    if full_disk(exc):
        return InsufficientStorageError(detail=f"{label}: {message}")
    if disk_io_failure(exc):
        return DiskIOError(detail=f"{label}: {message}")
    if "database is locked" in message or "database is busy" in message:
        return DatabaseBusyError(detail=f"{label}: {message}")
    if "not a database" in message or "malformed" in message or "hmac" in message:
        return CorruptDatabaseError(f"{label} is damaged or was opened with the wrong key")
    return exc
