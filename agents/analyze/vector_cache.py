"""An in-memory float32 copy of one tenant's vectors, for exact dense search at numpy speed.

sqlite-vec's brute force under SQLCipher is slow at 100k vectors (hundreds of ms with
the default page cache), so each tenant's vectors are also held as one matrix:
`matrix @ query` then `argpartition` is exact and fast. The copy is loaded lazily from
`chunk_vectors` and kept in step two ways:

- same process: `ChunkIndex` applies each committed write as a delta (`apply`);
- anything else (ledger cascades, another process, a rolled-back write): every chunk
  insert or delete bumps `index_meta.version` by trigger, each search compares it, and
  a mismatch is repaired by comparing id sets. Chunk ids are never reused and chunks
  never change, so equal ids mean equal vectors.

Rows of deleted chunks are tombstoned and compacted away later; readers take a snapshot
(array views that later writes never touch), so searches need no lock while scoring.
"""

import threading
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from storage.database import Database

Vectors = npt.NDArray[np.float32]
DEFAULT_MAX_BYTES = 1 << 30  # about 700k chunks of 384 dimensions
_MIN_CAPACITY = 1024
_POINT_LOOKUPS = 256  # fewer new vectors than this are read by id, more by one scan


@dataclass(frozen=True)
class IndexState:
    """The `index_meta` row: which vector space the tenant uses, and its write counter."""

    version: int
    model: str | None
    dimension: int | None


def read_state(conn: Any) -> IndexState:
    row = conn.execute(
        "SELECT version, embedding_model, dimension FROM index_meta WHERE id = 1"
    ).fetchone()
    return IndexState(int(row[0]), row[1], None if row[2] is None else int(row[2]))


@dataclass(frozen=True)
class _Snapshot:
    ids: npt.NDArray[np.int64]
    matrix: Vectors
    codes: npt.NDArray[np.int32]
    alive: npt.NDArray[np.bool_] | None  # None: every row is live
    allowed: npt.NDArray[np.bool_] | None  # per document code; None: no filter


class VectorCache:
    """The matrix of one tenant database; get the shared one with `for_database`."""

    _registry: "weakref.WeakKeyDictionary[Database, VectorCache]" = weakref.WeakKeyDictionary()
    _registry_lock = threading.Lock()

    def __init__(self, db: Database, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        # weak, so the registry entry (and the matrix) goes when the Database does
        self._db = weakref.ref(db)
        self.max_bytes = max_bytes
        self.loads = 0  # full loads from the database (for tests and benchmarks)
        self.repairs = 0  # catch-ups by id comparison
        self._lock = threading.RLock()
        self._clear(IndexState(-1, None, None))

    @classmethod
    def for_database(cls, db: Database, *, max_bytes: int | None = None) -> "VectorCache":
        """The process-wide cache of `db` (one per open Database)."""
        with cls._registry_lock:
            cache = cls._registry.get(db)
            if cache is None:
                cache = cls(db, max_bytes=DEFAULT_MAX_BYTES if max_bytes is None else max_bytes)
                cls._registry[db] = cache
            elif max_bytes is not None:
                cache.max_bytes = max_bytes
            return cache

    @property
    def db(self) -> Database:
        db = self._db()
        if db is None:
            raise RuntimeError("the database of this vector cache is gone")
        return db

    # ---- state -------------------------------------------------------------------------

    def _clear(self, state: IndexState) -> None:
        self._state = state
        self._oversized = False
        dim = state.dimension or 0
        self._matrix: Vectors = np.zeros((0, dim), dtype=np.float32)
        self._ids: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._codes: npt.NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self._alive: npt.NDArray[np.bool_] | None = None
        self._n = 0
        self._dead = 0
        self._doc_ids: list[str] = []
        self._doc_code: dict[str, int] = {}

    @property
    def version(self) -> int:
        return self._state.version

    def __len__(self) -> int:
        """Live rows."""
        return self._n - self._dead

    def invalidate(self) -> None:
        """Forget everything; the next search reloads."""
        with self._lock:
            self._clear(IndexState(-1, None, None))

    def refresh(self, timeout_ms: int | None = None) -> bool:
        """Catch up with the committed index; False when it is too big to hold in memory."""
        with self.db.read(timeout_ms) as conn:
            state = read_state(conn)
        with self._lock:
            if state == self._state:
                return not self._oversized
            with self.db.read(0) as conn:  # loading is not bounded by one query's limit
                conn.execute("BEGIN")  # one snapshot for the counter, ids and vectors
                self._sync(conn, read_state(conn))
            return not self._oversized

    def _sync(self, conn: Any, state: IndexState) -> None:
        if state.dimension is None:
            self._clear(state)
            return
        same_space = (state.model, state.dimension) == (self._state.model, self._state.dimension)
        rows = conn.execute("SELECT id, document_id FROM chunks ORDER BY id").fetchall()
        if len(rows) * state.dimension * 4 > self.max_bytes:
            self._clear(state)
            self._oversized = True
            return
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if not same_space or self._oversized or self._state.version < 0:
            self._clear(state)
            self.loads += 1
            self._append(ids, [r[1] for r in rows], _read_vectors(conn, ids, state.dimension))
        else:
            self.repairs += 1
            known = self._ids[: self._n]
            live = known if self._alive is None else known[self._alive]
            gone = np.setdiff1d(live, ids, assume_unique=True)
            if len(gone):
                self._tombstone(np.isin(known, gone))
            new = ~np.isin(ids, known)
            if new.any():
                new_ids = ids[new]
                docs = [r[1] for r, keep in zip(rows, new, strict=True) if keep]
                self._append(new_ids, docs, _read_vectors(conn, new_ids, state.dimension))
        self._state = state
        self._maybe_compact()

    def apply(
        self,
        before: int,
        after: int,
        document_id: str,
        ids: npt.NDArray[np.int64],
        vectors: Vectors,
    ) -> None:
        """A committed write (the document's rows replaced by `ids`); skipped unless the
        cache was exactly at `before`, in which case the next search repairs it."""
        with self._lock:
            if self._state.version != before or self._oversized:
                return
            code = self._doc_code.get(document_id)
            if code is not None and self._n:
                self._tombstone(self._codes[: self._n] == code)
            if len(ids):
                if (self._n - self._dead + len(ids)) * vectors.shape[1] * 4 > self.max_bytes:
                    self._clear(IndexState(-1, None, None))
                    return
                self._append(ids, [document_id] * len(ids), vectors)
            self._state = IndexState(after, self._state.model, self._state.dimension)
            self._maybe_compact()

    def _tombstone(self, rows: npt.NDArray[np.bool_]) -> None:
        alive = np.ones(self._n, dtype=np.bool_) if self._alive is None else self._alive.copy()
        newly = rows & alive
        alive[newly] = False
        self._dead += int(newly.sum())
        self._alive = alive  # copy-on-write: snapshots keep the old mask

    def _append(self, ids: npt.NDArray[np.int64], docs: list[str], vectors: Vectors) -> None:
        count = len(ids)
        if count == 0:
            return
        codes = np.fromiter((self._code(d) for d in docs), dtype=np.int32, count=count)
        start, end = self._n, self._n + count
        if end > len(self._ids):
            self._grow(end)
        # rows past self._n are in no snapshot, so they can be written in place
        self._matrix[start:end] = vectors
        self._ids[start:end] = ids
        self._codes[start:end] = codes
        if self._alive is not None:
            self._alive = np.concatenate([self._alive, np.ones(count, dtype=np.bool_)])
        self._n = end
        ordered = bool(np.all(ids[1:] > ids[:-1])) and (
            start == 0 or int(ids[0]) > int(self._ids[start - 1])
        )
        if not ordered:  # ids only grow, so this is rare; lookups need them sorted
            self._compact()

    def _code(self, document_id: str) -> int:
        code = self._doc_code.get(document_id)
        if code is None:
            code = self._doc_code[document_id] = len(self._doc_ids)
            self._doc_ids.append(document_id)
        return code

    def _grow(self, needed: int) -> None:
        capacity = max(_MIN_CAPACITY, needed, int(len(self._ids) * 1.5))
        dim = self._state.dimension or self._matrix.shape[1]
        matrix = np.empty((capacity, dim), dtype=np.float32)
        matrix[: self._n] = self._matrix[: self._n]
        ids = np.empty(capacity, dtype=np.int64)
        ids[: self._n] = self._ids[: self._n]
        codes = np.empty(capacity, dtype=np.int32)
        codes[: self._n] = self._codes[: self._n]
        self._matrix, self._ids, self._codes = matrix, ids, codes

    def _maybe_compact(self) -> None:
        if self._dead > max(_MIN_CAPACITY, self._n // 4):
            self._compact()

    def _compact(self, extra: int = 0) -> None:
        """Fresh arrays holding only live rows, sorted by id (old snapshots keep theirs)."""
        keep = np.arange(self._n) if self._alive is None else np.flatnonzero(self._alive)
        keep = keep[np.argsort(self._ids[keep], kind="stable")]
        n = len(keep)
        capacity = max(_MIN_CAPACITY, n + extra)
        dim = self._matrix.shape[1]
        matrix = np.empty((capacity, dim), dtype=np.float32)
        matrix[:n] = self._matrix[keep]
        ids = np.empty(capacity, dtype=np.int64)
        ids[:n] = self._ids[keep]
        codes = np.empty(capacity, dtype=np.int32)
        codes[:n] = self._codes[keep]
        self._matrix, self._ids, self._codes = matrix, ids, codes
        self._n, self._dead, self._alive = n, 0, None

    # ---- search ------------------------------------------------------------------------

    def _snapshot(self, documents: Collection[str] | None) -> _Snapshot:
        with self._lock:
            n = self._n
            allowed = None
            if documents is not None:
                allowed = np.zeros(len(self._doc_ids) + 1, dtype=np.bool_)
                codes = [self._doc_code[d] for d in documents if d in self._doc_code]
                allowed[codes] = True
            return _Snapshot(self._ids[:n], self._matrix[:n], self._codes[:n], self._alive, allowed)

    def search(
        self, query: Vectors, k: int, documents: Collection[str] | None = None
    ) -> list[tuple[int, float]]:
        """The exact top `k` (chunk id, cosine) among live rows of the allowed documents.

        Call `refresh()` first; `query` must be L2-normalised.
        """
        snap = self._snapshot(documents)
        valid = snap.alive
        if snap.allowed is not None:
            in_docs = snap.allowed[snap.codes]
            valid = in_docs if valid is None else valid & in_docs
        if valid is None:
            rows = None
            scores = snap.matrix @ query
        else:
            rows = np.flatnonzero(valid)
            if len(rows) * 4 < len(valid):  # a narrow filter: score only its rows
                scores = snap.matrix[rows] @ query
            else:
                scores = np.where(valid, snap.matrix @ query, -np.inf)
                rows = None
        count = len(scores) if valid is None or rows is not None else int(valid.sum())
        k = min(k, count)
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        picked = top if rows is None else rows[top]
        order = np.lexsort((snap.ids[picked], -scores[top]))
        return [(int(snap.ids[picked[i]]), float(scores[top[i]])) for i in order]

    def similarities(self, query: Vectors, chunk_ids: Collection[int]) -> dict[int, float]:
        """Cosine of `query` with each of `chunk_ids` that the cache holds."""
        snap = self._snapshot(None)
        wanted = np.fromiter(chunk_ids, dtype=np.int64, count=len(chunk_ids))
        if not len(wanted) or not len(snap.ids):
            return {}
        rows = np.minimum(np.searchsorted(snap.ids, wanted), len(snap.ids) - 1)
        found = snap.ids[rows] == wanted
        if snap.alive is not None:
            found &= snap.alive[rows]
        rows = rows[found]
        scores = snap.matrix[rows] @ query
        return {int(snap.ids[r]): float(s) for r, s in zip(rows, scores, strict=True)}


def _read_vectors(conn: Any, ids: npt.NDArray[np.int64], dimension: int) -> Vectors:
    """The vectors of `ids` (sorted) from `chunk_vectors`, in the same order."""
    out = np.zeros((len(ids), dimension), dtype=np.float32)
    if not len(ids):
        return out
    if len(ids) <= _POINT_LOOKUPS:
        for i, chunk_id in enumerate(ids.tolist()):
            row = conn.execute(
                "SELECT embedding FROM chunk_vectors WHERE chunk_id = ?", (chunk_id,)
            ).fetchone()
            if row is not None:
                out[i] = np.frombuffer(row[0], dtype=np.float32)
        return out
    cursor = conn.execute("SELECT chunk_id, embedding FROM chunk_vectors")
    while batch := cursor.fetchmany(4096):
        found = np.fromiter((r[0] for r in batch), dtype=np.int64, count=len(batch))
        positions = np.minimum(np.searchsorted(ids, found), len(ids) - 1)
        hit = ids[positions] == found
        matrix = np.frombuffer(b"".join(r[1] for r in batch), dtype=np.float32)
        out[positions[hit]] = matrix.reshape(len(batch), dimension)[hit]
    return out
