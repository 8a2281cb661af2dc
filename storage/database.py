"""One encrypted database file: a single writer, pooled readers, migrations on open.

Following Datasette's habits: all writes go through one connection guarded by a lock,
reads use their own connections (WAL lets them run beside the writer), and every
statement is bounded by a time limit.
"""

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlcipher3

from storage.connection import DatabaseOptions, open_connection, translate_error
from storage.migrations import MigrationSet
from storage.wal_bound import fold_wal_if_over

__all__ = ["Database", "DatabaseOptions"]

# Reads run in the web server's worker threads (up to 40 at a time). An idle reader is
# cheap, opening one is not (key set-up, schema parse, a cold page cache), so enough are
# kept for a busy API; the page cache of each grows only with what it reads.
_MAX_IDLE_READERS = 16

T = TypeVar("T")

log = logging.getLogger("appliance.storage")


class _Queued:
    """One caller's part of a shared transaction (Database.write_together)."""

    __slots__ = ("error", "settled", "value", "work")

    def __init__(self, work: Callable[[Any], Any]) -> None:
        self.work = work
        self.value: Any = None
        self.error: BaseException | None = None
        self.settled = False


class Database:
    """An open SQLCipher database; `write()` and `read()` hand out connections."""

    def __init__(
        self,
        path: Path,
        key: bytes | None,
        options: DatabaseOptions,
        migrations: MigrationSet | None = None,
        label: str | None = None,
    ) -> None:
        self.path = path
        self.label = label or path.name
        self._key = key
        self._options = options
        self._write_lock = threading.RLock()
        self._readers: list[Any] = []
        self._readers_lock = threading.Lock()
        self._queued: dict[bool, list[_Queued]] = {True: [], False: []}
        self._queue_lock = threading.Lock()
        self._closed = False
        self._writer = open_connection(path, key, options)
        if migrations is not None:
            try:
                migrations.apply(self._writer, self.label)
            except BaseException:
                self._writer.close()
                raise

    @contextmanager
    def write(self, timeout_ms: int | None = None, *, durable: bool = True) -> Iterator[Any]:
        """A transaction on the single writer connection; commits on success.

        `durable=False` is for state that can be derived again (parsed text, index
        entries): the commit skips the WAL fsync when `synchronous` is FULL. A crash
        loses nothing; a power cut may roll back that commit, never corrupt the file, and
        the next durable commit makes it durable too.
        """
        with self._write_lock:
            conn = self._writer
            if conn.in_transaction:
                # nested use from the same thread joins the outer transaction
                yield conn
                return
            relaxed = not durable and self._options.synchronous.upper() in {"FULL", "EXTRA"}
            self._arm(conn, timeout_ms)
            try:
                if relaxed:
                    conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
                self._bound_wal(conn)
            except sqlcipher3.DatabaseError as exc:
                self._rollback(conn)
                raise translate_error(exc, self.label) from exc
            except BaseException:
                self._rollback(conn)
                raise
            finally:
                conn.appliance_deadline.until = None
                if relaxed:
                    conn.execute(f"PRAGMA synchronous = {self._options.synchronous.upper()}")

    def write_together(self, work: Callable[[Any], T], *, durable: bool = True) -> T:
        """Run `work(conn)` in a write transaction shared with the work other threads
        queued meanwhile: one commit (one fsync when durable) for all of them.

        Group commit: whoever holds the writer runs everything queued so far; the others
        find their work done when their turn comes. Each work runs in a savepoint of its
        own, so one that raises is undone alone and its error is raised in its own thread.
        Returns once the commit holding `work` is done. `durable` as for `write`; durable
        and relaxed work are grouped separately.
        """
        item = _Queued(work)
        with self._queue_lock:
            self._queued[durable].append(item)
        with self._write_lock:
            if not item.settled:
                with self._queue_lock:
                    batch, self._queued[durable] = self._queued[durable], []
                self._run_together(batch, durable)
        if item.error is not None:
            raise item.error
        return item.value

    def _run_together(self, batch: list[_Queued], durable: bool) -> None:
        try:
            with self.write(durable=durable) as conn:
                for item in batch:
                    conn.execute("SAVEPOINT together")
                    try:
                        item.value = item.work(conn)
                    except Exception as exc:  # noqa: BLE001 - raised again in its own thread
                        conn.execute("ROLLBACK TO together")
                        item.error = (
                            translate_error(exc, self.label)
                            if isinstance(exc, sqlcipher3.DatabaseError)
                            else exc
                        )
                    finally:
                        conn.execute("RELEASE together")
        except BaseException as exc:  # noqa: BLE001 - raised again in every caller's thread
            # the commit failed: nothing of this batch is durable, so every part fails
            for item in batch:
                item.error = item.error or exc
        finally:
            for item in batch:
                item.settled = True

    @contextmanager
    def read(self, timeout_ms: int | None = None) -> Iterator[Any]:
        """A reader connection of its own; sees the last committed state."""
        conn = self._take_reader()
        self._arm(conn, timeout_ms)
        try:
            yield conn
        except sqlcipher3.DatabaseError as exc:
            raise translate_error(exc, self.label) from exc
        finally:
            conn.appliance_deadline.until = None
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._give_back(conn)

    def _arm(self, conn: Any, timeout_ms: int | None) -> None:
        limit = self._options.query_timeout_ms if timeout_ms is None else timeout_ms
        conn.appliance_deadline.until = time.monotonic() + limit / 1000 if limit > 0 else None

    @staticmethod
    def _rollback(conn: Any) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")

    def open_watch_connection(self) -> Any:
        """A connection of the caller's own (for `PRAGMA data_version`); caller closes it."""
        return open_connection(self.path, self._key, self._options)

    def _take_reader(self) -> Any:
        with self._readers_lock:
            if self._closed:
                raise RuntimeError(f"{self.label} is closed")
            if self._readers:
                return self._readers.pop()
        return open_connection(self.path, self._key, self._options)

    def _give_back(self, conn: Any) -> None:
        with self._readers_lock:
            if not self._closed and len(self._readers) < _MAX_IDLE_READERS:
                self._readers.append(conn)
                return
        conn.close()

    def rekey(self, new_key: bytes) -> None:
        """Re-encrypt the whole file under `new_key` (used by master key rotation)."""
        from storage.crypto import sqlcipher_key_pragma

        with self._write_lock:
            self._drop_readers()
            self._writer.execute(f"PRAGMA rekey = {sqlcipher_key_pragma(new_key)}")
            self._key = new_key

    def _bound_wal(self, conn: Any) -> None:
        """After a commit: fold the WAL back once it outgrew its bound (storage/wal_bound.py)."""
        fold_wal_if_over(conn, str(self.path), self._options.wal_max_bytes, self.label)

    @property
    def _wal_path(self) -> str:
        return f"{self.path}-wal"

    def wal_bytes(self) -> int:
        """The WAL file's size now (0 when there is none)."""
        try:
            return os.stat(self._wal_path).st_size
        except OSError:
            return 0

    def checkpoint(self) -> None:
        """Fold the WAL back into the main file."""
        with self._write_lock:
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _drop_readers(self) -> None:
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for conn in readers:
            conn.close()

    def close(self) -> None:
        """Checkpoint and close every connection; safe to call twice."""
        with self._write_lock:
            if self._closed:
                return
            with self._readers_lock:
                self._closed = True
            self._drop_readers()
            try:
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlcipher3.Error as exc:
                # e.g. a full disk: the WAL stays and is folded in at the next open
                log.warning("%s: no checkpoint at close (%s)", self.label, exc)
            finally:
                self._writer.close()
