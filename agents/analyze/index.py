"""The chunk index of one tenant: `chunks` rows, their FTS5 index and their vec0 vectors.

Tables (schema version 3 of the tenant database, plus one table made at run time):
- `chunks`: one immutable row per chunk; ids are never reused.
- `chunks_fts`: FTS5 over `heading` and `text` (external content; triggers keep it in step).
- `index_meta`: the tenant's embedding model and dimension, and a write counter.
- `chunk_vectors`: `vec0(chunk_id, embedding float[DIM] cosine, document_id)`, created
  when a model is first recorded (its width depends on the model), with a trigger that
  deletes a chunk's vector with the chunk, so a ledger delete (FK cascade) leaves no
  stray vectors either.

One tenant never mixes vector spaces: `ensure_model` refuses a different model than the
one recorded, and `reset_for_model` empties the index for a new model and names the
documents to index again.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from agents.analyze.chunking import Chunk
from agents.analyze.vector_cache import VectorCache, read_state
from storage.clock import now_iso
from storage.database import Database
from storage.errors import ApplianceError, StorageError

_VECTOR_TRIGGER = "chunks_after_delete_vectors"


class AnalyzeError(ApplianceError):
    """Base of the index and search errors; carries an HTTP status and a stable code."""

    status_code = 500
    code = "analyze_error"


class IndexModelChangedError(AnalyzeError):
    """The configured embedding model differs from the one the tenant's vectors came from."""

    status_code = 409
    code = "index_model_changed"

    def __init__(self, recorded: "IndexModel", configured: "IndexModel") -> None:
        super().__init__(
            f"this tenant's index was built with {recorded.name} ({recorded.dimension} "
            f"dimensions) but {configured.name} ({configured.dimension}) is configured; "
            "the documents must be indexed again"
        )
        self.recorded = recorded
        self.configured = configured


@dataclass(frozen=True)
class IndexModel:
    name: str
    dimension: int


@dataclass(frozen=True)
class StoredChunk:
    id: int
    document_id: str
    position: int
    page: int
    char_start: int
    char_end: int
    heading: str | None
    token_count: int
    text: str


_CHUNK_COLUMNS = "id, document_id, position, page, char_start, char_end, heading, token_count, text"


class ChunkIndex:
    """Index writes and reads for one tenant database (cheap to make; the vector cache is
    shared by every ChunkIndex of the same Database)."""

    def __init__(self, db: Database, *, cache_max_bytes: int | None = None) -> None:
        self.db = db
        self.cache = VectorCache.for_database(db, max_bytes=cache_max_bytes)

    # ---- the vector space ----------------------------------------------------------------

    def model(self) -> IndexModel | None:
        """The recorded model, or None before anything was indexed."""
        with self.db.read() as conn:
            state = read_state(conn)
        if state.model is None or state.dimension is None:
            return None
        return IndexModel(state.model, state.dimension)

    def ensure_model(self, name: str, dimension: int) -> IndexModel:
        """Record `name`/`dimension` on first use; raise `IndexModelChangedError` when the
        tenant's vectors come from another model (call `reset_for_model` then)."""
        configured = IndexModel(name, int(dimension))
        if configured.dimension <= 0:
            raise ValueError("the embedding dimension must be positive")
        recorded = self.model()
        if recorded == configured:
            return recorded
        with self.db.write() as conn:
            state = read_state(conn)
            if state.model is not None and state.dimension is not None:
                recorded = IndexModel(state.model, state.dimension)
                if recorded != configured:
                    raise IndexModelChangedError(recorded, configured)
            else:
                conn.execute(
                    "UPDATE index_meta SET embedding_model = ?, dimension = ?, updated_at = ? "
                    "WHERE id = 1",
                    (name, configured.dimension, now_iso()),
                )
            _create_vector_table(conn, configured.dimension)
        return configured

    def reset_for_model(self, name: str, dimension: int) -> list[str]:
        """Switch the tenant to another model in one transaction: drop every vector and
        chunk, record the model, and move indexed documents back to `parsed`. Returns
        the ids of the documents to index again (oldest first)."""
        if int(dimension) <= 0:
            raise ValueError("the embedding dimension must be positive")
        with self.db.write() as conn:
            ids = [
                str(r[0])
                for r in conn.execute(
                    "SELECT id FROM documents WHERE state IN ('indexing', 'indexed') "
                    "OR id IN (SELECT document_id FROM chunks) ORDER BY created_at, id"
                )
            ]
            conn.execute(f"DROP TRIGGER IF EXISTS {_VECTOR_TRIGGER}")
            conn.execute("DROP TABLE IF EXISTS chunk_vectors")
            conn.execute("DELETE FROM chunks")
            conn.execute(
                "UPDATE index_meta SET embedding_model = ?, dimension = ?, "
                "version = version + 1, updated_at = ? WHERE id = 1",
                (name, int(dimension), now_iso()),
            )
            _create_vector_table(conn, int(dimension))
            conn.executemany(
                "UPDATE documents SET state = 'parsed', updated_at = ? "
                "WHERE id = ? AND state IN ('indexing', 'indexed')",
                [(now_iso(), i) for i in ids],
            )
        self.cache.invalidate()
        return ids

    def adopt_model(self, name: str, dimension: int) -> list[str]:
        """`ensure_model`, resetting on a model change; the ids to index again (or [])."""
        try:
            self.ensure_model(name, dimension)
        except IndexModelChangedError:
            return self.reset_for_model(name, dimension)
        return []

    # ---- writes ---------------------------------------------------------------------------

    def replace_document(
        self,
        document_id: str,
        chunks: Sequence[Chunk],
        vectors: npt.NDArray[np.float32],
        *,
        model: str | None = None,
    ) -> list[int]:
        """Replace the document's chunks, text index and vectors in one transaction.

        `vectors[i]` belongs to `chunks[i]`; `model` (when given) must be the recorded
        one, checked inside the transaction. Returns the new chunk ids in order.
        """
        matrix = _unit_rows(vectors, len(chunks))
        with self.db.write() as conn:
            state = read_state(conn)
            if state.model is None or state.dimension is None:
                raise AnalyzeError("no embedding model recorded yet: call ensure_model first")
            recorded = IndexModel(state.model, state.dimension)
            if model is not None and model != recorded.name:
                raise IndexModelChangedError(recorded, IndexModel(model, matrix.shape[1]))
            if len(chunks) and matrix.shape[1] != recorded.dimension:
                raise ValueError(
                    f"vectors have {matrix.shape[1]} dimensions, the index {recorded.dimension}"
                )
            conn.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
            conn.executemany(
                "INSERT INTO chunks (document_id, position, page, char_start, char_end, "
                "heading, token_count, text) VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        document_id,
                        c.position,
                        c.page,
                        c.char_start,
                        c.char_end,
                        c.heading,
                        c.token_count,
                        c.text,
                    )
                    for c in chunks
                ],
            )
            ids = [
                int(r[0])
                for r in conn.execute(
                    "SELECT id FROM chunks WHERE document_id = ? ORDER BY position",
                    (document_id,),
                )
            ]
            conn.executemany(
                "INSERT INTO chunk_vectors (chunk_id, embedding, document_id) VALUES (?,?,?)",
                [(i, matrix[n].tobytes(), document_id) for n, i in enumerate(ids)],
            )
            after = read_state(conn).version
        self._publish(state.version, after, document_id, ids, matrix)
        return ids

    def delete_document(self, document_id: str) -> int:
        """Remove the document's chunks from all three indexes; how many were removed."""
        with self.db.write() as conn:
            before = read_state(conn).version
            removed = conn.execute(
                "DELETE FROM chunks WHERE document_id = ?", (document_id,)
            ).rowcount
            after = read_state(conn).version
        self._publish(before, after, document_id, [], np.zeros((0, 0), dtype=np.float32))
        return int(removed)

    def _publish(
        self, before: int, after: int, document_id: str, ids: list[int], vectors: Any
    ) -> None:
        """Tell the cache about a write once it is committed; a write nested in a caller's
        transaction is not yet, and the cache then catches up on its next search."""
        try:
            with self.db.read() as conn:
                committed = read_state(conn).version
        except StorageError:
            return
        if committed >= after:
            self.cache.apply(before, after, document_id, np.asarray(ids, dtype=np.int64), vectors)

    # ---- reads ----------------------------------------------------------------------------

    def count(self, document_id: str | None = None) -> int:
        """Chunks in the index (of one document when given)."""
        with self.db.read() as conn:
            if document_id is None:
                row = conn.execute("SELECT count(*) FROM chunks").fetchone()
            else:
                row = conn.execute(
                    "SELECT count(*) FROM chunks WHERE document_id = ?", (document_id,)
                ).fetchone()
        return int(row[0])

    def chunks(self, document_id: str) -> list[StoredChunk]:
        """A document's chunks in reading order."""
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE document_id = ? ORDER BY position",
                (document_id,),
            ).fetchall()
        return [StoredChunk(*row) for row in rows]

    def vectors(self, chunk_ids: Sequence[int]) -> npt.NDArray[np.float32]:
        """Stored vectors of `chunk_ids` (rows of zeros for unknown ids)."""
        model = self.model()
        out = np.zeros((len(chunk_ids), model.dimension if model else 0), dtype=np.float32)
        with self.db.read() as conn:
            for n, chunk_id in enumerate(chunk_ids):
                row = conn.execute(
                    "SELECT embedding FROM chunk_vectors WHERE chunk_id = ?", (int(chunk_id),)
                ).fetchone()
                if row is not None:
                    out[n] = np.frombuffer(row[0], dtype=np.float32)
        return out

    def verify(self) -> list[str]:
        """Problems found between chunks, the FTS index and the vectors ([] when none)."""
        problems: list[str] = []
        with self.db.write() as conn:  # FTS5's integrity-check is a write statement
            try:
                conn.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')")
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                problems.append(f"full-text index: {exc}")
            if read_state(conn).dimension is None:
                return problems
            missing = conn.execute(
                "SELECT count(*) FROM chunks WHERE id NOT IN (SELECT chunk_id FROM chunk_vectors)"
            ).fetchone()[0]
            stray = conn.execute(
                "SELECT count(*) FROM chunk_vectors WHERE chunk_id NOT IN (SELECT id FROM chunks)"
            ).fetchone()[0]
        if missing:
            problems.append(f"{missing} chunks have no vector")
        if stray:
            problems.append(f"{stray} vectors belong to no chunk")
        return problems


def _create_vector_table(conn: Any, dimension: int) -> None:
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vectors USING vec0("
        f"chunk_id integer primary key, embedding float[{int(dimension)}] "
        "distance_metric=cosine, document_id text)"
    )
    conn.execute(
        f"CREATE TRIGGER IF NOT EXISTS {_VECTOR_TRIGGER} AFTER DELETE ON chunks BEGIN "
        "DELETE FROM chunk_vectors WHERE chunk_id = old.id; END"
    )


def _unit_rows(vectors: Any, rows: int) -> npt.NDArray[np.float32]:
    """Float32, C-contiguous, one unit-length row per chunk (cosine = dot product)."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if rows == 0:
        return matrix.reshape(0, matrix.shape[1] if matrix.ndim == 2 else 0)
    if matrix.ndim != 2 or matrix.shape[0] != rows:
        raise ValueError(f"expected {rows} vectors, got an array of shape {matrix.shape}")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if not np.all(np.isfinite(matrix)) or np.any(norms == 0):
        raise ValueError("vectors must be finite and non-zero")
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)
