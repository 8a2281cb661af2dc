"""Values read from one database, kept until anyone commits a change to that file.

SQLite's `PRAGMA data_version` on a connection changes whenever another connection, in
this process or any other (an `appliance` CLI command beside the server), has committed
to the file since it was last asked. Checking it is one cheap statement, so hot
lookups that every API request repeats (the caller's user row, a tenant and the
caller's role in it) are answered from memory while nothing changed, and read again
after any commit. A logout, a password change or a removed membership is a commit, so
it takes effect on the very next request, as without the cache.
"""

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import sqlcipher3

from storage.database import Database

T = TypeVar("T")
_MAX_ENTRIES = 10_000


class CommitAwareCache:
    """A cache over `db` that empties itself whenever the database has changed."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._watch: Any = None
        self._lock = threading.Lock()
        self._version: int | None = None
        self._entries: dict[Hashable, Any] = {}

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value for `key`, or `load()` (cached unless it raises)."""
        version = self._current_version()
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._version = version
            elif key in self._entries:
                return self._entries[key]
        # read after the version: a commit in between only makes the next call reload
        value = load()
        with self._lock:
            if self._version == version:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = value
        return value

    def _current_version(self) -> int:
        with self._lock:
            try:
                return self._ask_version()
            except sqlcipher3.DatabaseError:
                # e.g. the file was re-keyed since the watch connection opened: one retry
                # on a fresh connection, after which a failure is real
                self._drop_watch()
                return self._ask_version()

    def _ask_version(self) -> int:
        if self._watch is None:
            self._watch = self._db.open_watch_connection()
        return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def _drop_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self._watch = None
        self._version = None
        self._entries.clear()

    def close(self) -> None:
        with self._lock:
            self._drop_watch()
