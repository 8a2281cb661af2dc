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
        return self.view().get(key, load)

    def view(self) -> "CacheView":
        """Asks once whether the database changed; the view answers from that state.

        One API request makes several lookups; a view lets them share one check."""
        with self._lock:
            version = self._current_version()
            if version != self._version:
                self._entries.clear()
                self._version = version
        return CacheView(self, version)

    def _cached(self, version: int, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            if self._version == version and key in self._entries:
                return True, self._entries[key]
        return False, None

    def _store(self, version: int, key: Hashable, value: Any) -> None:
        with self._lock:
            # a commit seen since the view was taken makes this value stale: not kept
            if self._version == version:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = value

    def _current_version(self) -> int:
        # caller holds the lock
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


class CacheView:
    """Lookups against one check of the database's version (see CommitAwareCache.view)."""

    __slots__ = ("_cache", "_version")

    def __init__(self, cache: CommitAwareCache, version: int) -> None:
        self._cache = cache
        self._version = version

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value for `key`, or `load()` (cached unless it raises)."""
        found, value = self._cache._cached(self._version, key)
        if found:
            return value
        # read after the version check: a commit in between only makes the next view reload
        value = load()
        self._cache._store(self._version, key, value)
        return value
