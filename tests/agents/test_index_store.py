"""The chunk index in a real encrypted tenant database: chunks, FTS5, vec0 and the
in-memory vector cache always agree, whatever writes them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlcipher3

from agents.analyze.chunking import Chunk
from agents.analyze.index import AnalyzeError, ChunkIndex, IndexModel, IndexModelChangedError
from agents.analyze.vector_cache import VectorCache
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


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[Tenant]:
    opened = Tenant(tmp_path)
    yield opened
    opened.db.close()


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


def test_replace_keeps_text_index_vectors_and_cache_in_step(tenant: Tenant) -> None:
    # GIVEN two indexed documents, and a cache that has served a search
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    a, b = tenant.add("alpha"), tenant.add("beta")
    index.replace_document(a, chunks_of("apples grow", "apples fall"), unit_vectors(2, 1))
    index.replace_document(b, chunks_of("bananas ripen"), unit_vectors(1, 2))
    query = unit_vectors(1, 3)[0]
    assert len(cache_top(index, query, 10)) == 3
    # WHEN the first document is re-indexed with different chunks
    new_ids = index.replace_document(a, chunks_of("cherries bloom"), unit_vectors(1, 4))
    # THEN chunks, FTS5 and vec0 hold exactly the new rows, and the cache agrees
    assert index.count() == 2 and index.count(a) == 1
    assert fts_ids(tenant.db, "apples") == set()
    assert fts_ids(tenant.db, "cherries") == set(new_ids)
    assert vector_ids(tenant.db) == chunk_ids(tenant.db)
    assert cache_top(index, query, 10) == exact_top(index, query, 10)
    assert index.verify() == []
    # AND the cache followed by applying the write, without reloading or repairing
    assert (index.cache.loads, index.cache.repairs) == (1, 0)


def test_delete_document_removes_it_from_all_three_indexes(tenant: Tenant) -> None:
    # GIVEN two indexed documents
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    a, b = tenant.add("alpha"), tenant.add("beta")
    index.replace_document(a, chunks_of("apples grow", "apples fall"), unit_vectors(2, 1))
    kept = index.replace_document(b, chunks_of("bananas ripen"), unit_vectors(1, 2))
    query = unit_vectors(1, 3)[0]
    cache_top(index, query, 10)
    # WHEN the first one is deleted from the index
    removed = index.delete_document(a)
    # THEN its chunks, text and vectors are gone everywhere, the other's are intact
    assert removed == 2
    assert fts_ids(tenant.db, "apples") == set() and fts_ids(tenant.db, "bananas") == set(kept)
    assert vector_ids(tenant.db) == chunk_ids(tenant.db) == set(kept)
    assert cache_top(index, query, 10) == kept
    assert index.verify() == []


def test_ledger_delete_cascades_to_text_index_vectors_and_cache(tenant: Tenant) -> None:
    # GIVEN an indexed document whose vectors the cache holds
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    a, b = tenant.add("alpha"), tenant.add("beta")
    index.replace_document(a, chunks_of("apples grow", "apples fall"), unit_vectors(2, 1))
    kept = index.replace_document(b, chunks_of("bananas ripen"), unit_vectors(1, 2))
    query = unit_vectors(1, 3)[0]
    cache_top(index, query, 10)
    # WHEN the ledger deletes the document (FK cascade; the index is not told)
    tenant.ledger.delete(a)
    # THEN triggers removed its FTS rows and vectors, and the cache noticed on its own
    assert fts_ids(tenant.db, "apples") == set()
    assert vector_ids(tenant.db) == chunk_ids(tenant.db) == set(kept)
    assert cache_top(index, query, 10) == kept
    assert index.cache.repairs == 1 and index.verify() == []


def test_a_second_handle_sees_writes_made_through_the_first(tenant: Tenant) -> None:
    # GIVEN a second Database handle on the same file with its own warm cache
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    a = tenant.add("alpha")
    index.replace_document(a, chunks_of("apples grow"), unit_vectors(1, 1))
    other_db = tenant.reopen()
    try:
        other = ChunkIndex(other_db)
        query = unit_vectors(1, 3)[0]
        assert cache_top(other, query, 5) == exact_top(index, query, 5)
        assert other.cache is not index.cache
        # WHEN the first handle writes more documents and replaces one
        b = tenant.add("beta")
        index.replace_document(b, chunks_of("bananas", "berries"), unit_vectors(2, 5))
        index.replace_document(a, chunks_of("avocados"), unit_vectors(1, 6))
        # THEN the second handle's cache catches up by comparing ids, not reloading
        assert cache_top(other, query, 5) == exact_top(index, query, 5)
        assert (other.cache.loads, other.cache.repairs) == (1, 1)
    finally:
        other_db.close()


def test_a_rolled_back_replace_leaves_the_cache_true_to_the_database(tenant: Tenant) -> None:
    # GIVEN an indexed document and a warm cache
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    a = tenant.add("alpha")
    original = index.replace_document(a, chunks_of("apples grow"), unit_vectors(1, 1))
    query = unit_vectors(1, 1)[0]
    assert cache_top(index, query, 5) == original

    # WHEN a replace runs inside a caller's transaction that then fails
    class Abort(Exception):
        pass

    with pytest.raises(Abort), tenant.db.write():
        index.replace_document(a, chunks_of("phantom"), unit_vectors(1, 9))
        raise Abort
    # AND another write afterwards brings the counter to the value the phantom had
    # (the phantom deleted one chunk and inserted one; this inserts two)
    with tenant.db.read() as conn:
        counter = conn.execute("SELECT version FROM index_meta").fetchone()[0]
    b = tenant.add("beta")
    index.replace_document(b, chunks_of("bananas", "berries"), unit_vectors(2, 2))
    with tenant.db.read() as conn:
        assert conn.execute("SELECT version FROM index_meta").fetchone()[0] == counter + 2
    # THEN the cache holds exactly what the database holds, never the phantom
    assert cache_top(index, query, 5) == exact_top(index, query, 5)
    assert set(cache_top(index, query, 5)) == chunk_ids(tenant.db)
    assert fts_ids(tenant.db, "phantom") == set()


def test_a_changed_model_is_refused_until_the_index_is_reset(tenant: Tenant) -> None:
    # GIVEN documents indexed with one model
    index = ChunkIndex(tenant.db)
    assert index.model() is None
    index.ensure_model("model-a", DIM)
    a, b = tenant.add("alpha"), tenant.add("beta")
    for doc in (a, b):
        index.replace_document(doc, chunks_of("text"), unit_vectors(1, 1), model="model-a")
        tenant.ledger.set_state(doc, "indexed")
    unindexed = tenant.add("gamma")
    cache_top(index, unit_vectors(1, 2)[0], 5)
    # WHEN another model is configured
    with pytest.raises(IndexModelChangedError) as refused:
        index.ensure_model("model-b", 2 * DIM)
    # THEN it is refused, vectors of the new model cannot be written
    assert refused.value.recorded == IndexModel("model-a", DIM)
    with pytest.raises(IndexModelChangedError):
        index.replace_document(a, chunks_of("x"), unit_vectors(1, 1), model="model-b")
    # WHEN the index is reset for the new model
    again = index.reset_for_model("model-b", 2 * DIM)
    # THEN nothing of the old space is left, and the documents go back to `parsed`
    assert again == [a, b]
    assert index.model() == IndexModel("model-b", 2 * DIM)
    assert index.count() == 0 and vector_ids(tenant.db) == set()
    assert {tenant.ledger.get(d).state for d in (a, b, unindexed)} == {"parsed"}
    with pytest.raises(ValueError, match="dimensions"):
        index.replace_document(a, chunks_of("x"), unit_vectors(1, 1), model="model-b")
    wide = np.hstack([unit_vectors(1, 1), unit_vectors(1, 2)]) / np.sqrt(2)
    index.replace_document(a, chunks_of("x"), wide, model="model-b")
    assert cache_top(index, wide[0], 5) == [c.id for c in index.chunks(a)]
    assert index.adopt_model("model-b", 2 * DIM) == []


def test_adopt_model_resets_on_change_only(tenant: Tenant) -> None:
    # GIVEN an index built with one model
    index = ChunkIndex(tenant.db)
    assert index.adopt_model("model-a", DIM) == []
    a = tenant.add("alpha")
    index.replace_document(a, chunks_of("text"), unit_vectors(1, 1))
    tenant.ledger.set_state(a, "indexed")
    # WHEN the same model is adopted again THEN nothing happens
    assert index.adopt_model("model-a", DIM) == [] and index.count() == 1
    # WHEN another model is adopted THEN the index is emptied and the document named
    assert index.adopt_model("model-c", DIM) == [a] and index.count() == 0


def test_writes_before_a_model_is_recorded_are_refused(tenant: Tenant) -> None:
    # GIVEN a tenant with no model recorded WHEN chunks are written THEN a clear error
    a = tenant.add("alpha")
    with pytest.raises(AnalyzeError, match="ensure_model"):
        ChunkIndex(tenant.db).replace_document(a, chunks_of("x"), unit_vectors(1, 1))


def test_bad_vectors_are_refused_and_nothing_is_written(tenant: Tenant) -> None:
    # GIVEN an index WHEN vectors do not match the chunks THEN nothing is stored
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    a = tenant.add("alpha")
    with pytest.raises(ValueError):
        index.replace_document(a, chunks_of("x", "y"), unit_vectors(1, 1))
    with pytest.raises(ValueError):
        index.replace_document(a, chunks_of("x"), np.zeros((1, DIM), dtype=np.float32))
    assert index.count() == 0


def test_chunks_of_a_missing_document_are_refused(tenant: Tenant) -> None:
    # GIVEN an index WHEN chunks name a document that does not exist
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    # THEN the foreign key refuses them and nothing is left behind
    with pytest.raises(sqlcipher3.IntegrityError):
        index.replace_document("no-such-document", chunks_of("x"), unit_vectors(1, 1))
    assert index.count() == 0 and vector_ids(tenant.db) == set()


def test_chunks_are_immutable(tenant: Tenant) -> None:
    # GIVEN a stored chunk WHEN something tries to edit it in place THEN it is refused
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    a = tenant.add("alpha")
    index.replace_document(a, chunks_of("apples"), unit_vectors(1, 1))
    with pytest.raises(sqlcipher3.IntegrityError, match="immutable"), tenant.db.write() as conn:
        conn.execute("UPDATE chunks SET text = 'pears'")
    assert fts_ids(tenant.db, "apples") == {c.id for c in index.chunks(a)}


def test_many_replacements_compact_the_cache_and_stay_exact(tenant: Tenant) -> None:
    # GIVEN a cache over several documents
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    docs = [tenant.add(f"document {n}") for n in range(4)]
    texts = [f"chunk {n}" for n in range(300)]
    for n, doc in enumerate(docs):
        index.replace_document(doc, chunks_of(*texts), unit_vectors(300, n))
    query = unit_vectors(1, 99)[0]
    cache_top(index, query, 10)
    # WHEN documents are replaced again and again (tombstones pile up past compaction)
    for round_ in range(5):
        for n, doc in enumerate(docs):
            index.replace_document(doc, chunks_of(*texts), unit_vectors(300, 10 * round_ + n))
    # THEN the cache was compacted, never reloaded, and still gives the exact answer
    assert len(index.cache) == 1200 and index.cache.loads == 1
    assert cache_top(index, query, 20) == exact_top(index, query, 20)


def test_an_index_too_big_for_the_cache_falls_back_to_sqlite_vec(tenant: Tenant) -> None:
    # GIVEN an index whose cache may hold nothing, and a normal one on another handle
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    for n in range(3):
        doc = tenant.add(f"document {n}")
        index.replace_document(doc, chunks_of(*[f"c{i}" for i in range(50)]), unit_vectors(50, n))
    small_db = tenant.reopen()
    try:
        small = ChunkIndex(small_db, cache_max_bytes=0)
        # WHEN asked to refresh THEN it declines, and dense search uses sqlite-vec instead
        assert small.cache.refresh() is False
        from agents.analyze.search import dense_candidates

        query = unit_vectors(1, 7)[0]
        via_vec0 = dense_candidates(small, query, 10)
        via_cache = dense_candidates(index, query, 10)
        # THEN both give the same chunks with the same cosines
        assert [c for c, _ in via_vec0] == [c for c, _ in via_cache]
        assert np.allclose([s for _, s in via_vec0], [s for _, s in via_cache], atol=1e-5)
    finally:
        small_db.close()


def test_searches_during_writes_never_fail_and_end_exact(tenant: Tenant) -> None:
    # GIVEN an index with a warm cache
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    docs = [tenant.add(f"document {n}") for n in range(3)]
    for n, doc in enumerate(docs):
        index.replace_document(doc, chunks_of(*[f"c{i}" for i in range(40)]), unit_vectors(40, n))
    query = unit_vectors(1, 5)[0]
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher() -> None:
        try:
            while not stop.is_set():
                assert len(cache_top(index, query, 10)) == 10
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    # WHEN documents are replaced while three threads search
    for round_ in range(15):
        doc = docs[round_ % 3]
        index.replace_document(
            doc, chunks_of(*[f"c{i}" for i in range(40)]), unit_vectors(40, 100 + round_)
        )
    stop.set()
    for thread in threads:
        thread.join()
    # THEN no search failed and the final answer is exact
    assert errors == []
    assert cache_top(index, query, 10) == exact_top(index, query, 10)


def test_caches_are_per_database(tmp_path: Path) -> None:
    # GIVEN two tenants WHEN each gets its index THEN they share no cache or rows
    first, second = Tenant(tmp_path / "one"), Tenant(tmp_path / "two")
    try:
        assert VectorCache.for_database(first.db) is not VectorCache.for_database(second.db)
        assert VectorCache.for_database(first.db) is ChunkIndex(first.db).cache
        for t in (first, second):
            ChunkIndex(t.db).ensure_model("test-model", DIM)
        doc = first.add("alpha")
        ChunkIndex(first.db).replace_document(doc, chunks_of("x"), unit_vectors(1, 1))
        assert ChunkIndex(second.db).count() == 0
        assert ChunkIndex(second.db).cache.refresh() and len(ChunkIndex(second.db).cache) == 0
    finally:
        first.db.close()
        second.db.close()


def test_stored_rows_keep_chunk_positions_and_spans(tenant: Tenant) -> None:
    # GIVEN chunks with headings and spans WHEN stored THEN read back unchanged, in order
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    a = tenant.add("alpha")
    chunks = [Chunk(0, 1, 0, 5, "Intro", 1, "hello"), Chunk(1, 2, 7, 12, None, 1, "world")]
    ids = index.replace_document(a, chunks, unit_vectors(2, 1))
    stored = index.chunks(a)
    assert [s.id for s in stored] == ids
    assert [(s.position, s.page, s.char_start, s.char_end, s.heading, s.text) for s in stored] == [
        (0, 1, 0, 5, "Intro", "hello"),
        (1, 2, 7, 12, None, "world"),
    ]
    assert np.allclose(index.vectors(ids), unit_vectors(2, 1), atol=1e-6)
    with tenant.db.read() as conn:
        meta = conn.execute("SELECT embedding_model, dimension FROM index_meta").fetchone()
    assert tuple(meta) == ("test-model", DIM)
    assert json.loads(json.dumps(index.verify())) == []


def test_a_closed_and_dropped_database_releases_its_cache(tmp_path: Path) -> None:
    # GIVEN a tenant whose cache holds vectors
    import gc
    import weakref

    tenant = Tenant(tmp_path / "gone")
    index = ChunkIndex(tenant.db)
    index.ensure_model("test-model", DIM)
    doc = tenant.add("alpha")
    index.replace_document(doc, chunks_of("x"), unit_vectors(1, 1))
    assert index.cache.refresh() and len(index.cache) == 1
    cache = weakref.ref(index.cache)
    # WHEN the database is closed and nothing refers to it any more (tenant deleted)
    tenant.db.close()
    del index, tenant
    gc.collect()
    # THEN the cache (and its matrix) is freed with it
    assert cache() is None
