"""A real encrypted tenant database with its ledger, and helpers to look into its index."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agents.analyze.chunking import Chunk
from agents.analyze.index import ChunkIndex
from agents.documents.ledger import DocumentLedger
from agents.ingest.sandbox.document import single_page
from storage import crypto
from storage.blobs import BlobStore
from storage.database import Database, DatabaseOptions
from storage.tenant_schema import tenant_migrations

DIM = 16


class Tenant:
    """A real tenant database with its ledger, as the app opens it."""

    def __init__(self, root: Path, key: bytes | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.key = key or crypto.random_key()
        self.db = Database(
            root / "tenant.db", self.key, DatabaseOptions(load_vec=True), tenant_migrations
        )
        self.ledger = DocumentLedger(self.db, BlobStore(root / "blobs", self.key))

    def add(
        self,
        text: str,
        *,
        filename: str = "doc.txt",
        source: str = "upload",
        fmt: str = "txt",
        metadata: dict[str, object] | None = None,
    ) -> str:
        """A document in state `parsed`, as ingestion leaves it."""
        received = self.ledger.receive(
            text.encode(), filename=filename, source=source, metadata=metadata
        )
        self.ledger.save_parsed(received.document.id, single_page(fmt, text))
        return received.document.id

    def reopen(self) -> Database:
        """A second handle on the same file (what another process would have)."""
        return Database(
            self.root / "tenant.db", self.key, DatabaseOptions(load_vec=True), tenant_migrations
        )


def chunks_of(*texts: str) -> list[Chunk]:
    chunks, offset = [], 0
    for position, text in enumerate(texts):
        chunks.append(Chunk(position, 1, offset, offset + len(text), None, len(text.split()), text))
        offset += len(text) + 2
    return chunks


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fts_ids(db: Database, word: str) -> set[int]:
    with db.read() as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", (f'"{word}"',)
            )
        }


def vector_ids(db: Database) -> set[int]:
    with db.read() as conn:
        return {r[0] for r in conn.execute("SELECT chunk_id FROM chunk_vectors")}


def chunk_ids(db: Database) -> set[int]:
    with db.read() as conn:
        return {r[0] for r in conn.execute("SELECT id FROM chunks")}


def exact_top(index: ChunkIndex, query: np.ndarray, k: int) -> list[int]:
    """Brute force over what the database holds, independent of the cache."""
    ids = sorted(chunk_ids(index.db))
    if not ids:
        return []
    scores = index.vectors(ids) @ query
    order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))
    return [ids[i] for i in order[:k]]


def cache_top(index: ChunkIndex, query: np.ndarray, k: int) -> list[int]:
    assert index.cache.refresh()
    return [chunk_id for chunk_id, _ in index.cache.search(query, k)]
