"""Huey's SQLite storage, opened through SQLCipher so queued task payloads are encrypted."""

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlcipher3
from huey import Huey
from huey.storage import SqliteStorage

from storage.crypto import apply_key
from storage.errors import WrongKeyError
from storage.wal_bound import fold_wal_if_over


class EncryptedSqliteStorage(SqliteStorage):
    """`SqliteStorage` whose connections are SQLCipher connections keyed with a raw key."""

    integrity_error = sqlcipher3.IntegrityError
    operational_error = sqlcipher3.OperationalError

    def __init__(
        self, name: str = "huey", *, key: bytes, wal_max_bytes: int = 0, **kwargs: Any
    ) -> None:
        # huey creates its tables inside super().__init__, so the key must be set first
        self._sqlcipher_key = key
        self._wal_max_bytes = wal_max_bytes
        super().__init__(name=name, **kwargs)

    def _create_connection(self) -> Any:
        conn = sqlcipher3.connect(
            self.filename, timeout=self._timeout, check_same_thread=False, **self._conn_kwargs
        )
        conn.isolation_level = None
        apply_key(conn, self._sqlcipher_key)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            conn.close()
            raise WrongKeyError("cannot open queue.db: wrong key") from exc
        self._set_journal_mode(conn)
        if self._cache_mb:
            conn.execute(f"PRAGMA cache_size = {-1000 * int(self._cache_mb)}")
        # NORMAL in WAL mode survives a crash of the process; after a power cut the ledger,
        # not the queue, is the truth, and the start-up reconciler re-queues from it
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @contextlib.contextmanager
    def db(self, commit: bool = False, close: bool = False) -> Iterator[Any]:
        """Huey's transaction; after a write, the WAL is kept within `wal_max_bytes`."""
        with super().db(commit, close) as cursor:
            yield cursor
        if commit and not close and self._wal_max_bytes > 0:
            with self.lock:
                fold_wal_if_over(self.conn, self.filename, self._wal_max_bytes, "queue.db")


class EncryptedHuey(Huey):
    """A Huey instance backed by `EncryptedSqliteStorage`."""

    storage_class = EncryptedSqliteStorage
