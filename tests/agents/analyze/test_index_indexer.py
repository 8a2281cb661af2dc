"""Indexing parsed documents with the real chunker and all-MiniLM-L6-v2 model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from agents.analyze import Chunker, Embedder
from agents.analyze.index import ChunkIndex, IndexModelChangedError
from agents.analyze.indexer import index_document, index_documents
from agents.models import ModelLocation, locate_embedding_model
from tests.agents.analyze.index_support import Tenant

pytestmark = pytest.mark.slow  # loads torch and the embedding model

REPORT = """# Quarterly report

Revenue grew by twelve percent compared with the previous quarter, mainly because
of the new maintenance contracts signed in the northern region.

## Costs

Operating costs stayed flat. The travel budget was cut by a third while the spending
on training doubled, following the decision taken at the spring meeting.

## Outlook

The board expects growth to continue, provided that the supply of spare parts
returns to normal before the end of the year.
"""


class CountingEmbedder(Embedder):
    """The real embedder, also recording how many texts each encode call carried."""

    def __init__(self, model: ModelLocation) -> None:
        super().__init__(model)
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        self.calls.append(len(texts))
        return super().encode(texts, batch_size)


@pytest.fixture(scope="module")
def embedder() -> CountingEmbedder:
    return CountingEmbedder(locate_embedding_model(""))


@pytest.fixture(scope="module")
def chunker() -> Chunker:
    return Chunker(locate_embedding_model("").path, max_tokens=64, overlap_tokens=8)


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[Tenant]:
    opened = Tenant(tmp_path)
    yield opened
    opened.db.close()


def test_a_parsed_document_becomes_indexed_with_its_chunks(
    tenant: Tenant, chunker: Chunker, embedder: CountingEmbedder
) -> None:
    # GIVEN a parsed document
    doc = tenant.add(REPORT, filename="report.md", fmt="markdown")
    index = ChunkIndex(tenant.db)
    # WHEN it is indexed
    outcome = index_document(tenant.ledger, index, chunker, embedder, doc)
    # THEN it is `indexed`, and its stored chunks are the chunker's, with their vectors
    expected = chunker.chunk(tenant.ledger.pages(doc))
    assert outcome.state == "indexed" and outcome.chunks == len(expected) > 1
    record = tenant.ledger.get(doc)
    assert record.state == "indexed" and record.attempts == 1
    stored = index.chunks(doc)
    assert [(s.position, s.page, s.char_start, s.char_end, s.heading, s.text) for s in stored] == [
        (c.position, c.page, c.char_start, c.char_end, c.heading, c.text) for c in expected
    ]
    vectors = index.vectors([s.id for s in stored])
    solo = embedder.encode([c.text for c in expected])
    assert np.min(np.sum(vectors * solo, axis=1)) >= 0.9999
    assert index.model() is not None and index.model().name == "all-MiniLM-L6-v2"
    assert index.verify() == []


def test_reindexing_yields_the_same_chunks_and_vectors(
    tenant: Tenant, chunker: Chunker, embedder: CountingEmbedder
) -> None:
    # GIVEN an indexed document
    doc = tenant.add(REPORT, filename="report.md", fmt="markdown")
    index = ChunkIndex(tenant.db)
    index_document(tenant.ledger, index, chunker, embedder, doc)
    first = index.chunks(doc)
    first_vectors = index.vectors([c.id for c in first])
    # WHEN it is indexed again (as after a crash, or on request)
    outcome = index_document(tenant.ledger, index, chunker, embedder, doc)
    # THEN the chunks are the same (new ids, same content) and so are the vectors
    second = index.chunks(doc)
    assert outcome.state == "indexed" and index.count() == len(first)
    strip = [(c.position, c.page, c.char_start, c.char_end, c.heading, c.text) for c in first]
    assert strip == [
        (c.position, c.page, c.char_start, c.char_end, c.heading, c.text) for c in second
    ]
    assert {c.id for c in first}.isdisjoint({c.id for c in second})
    second_vectors = index.vectors([c.id for c in second])
    assert np.min(np.sum(first_vectors * second_vectors, axis=1)) >= 0.9999


def test_many_documents_are_embedded_together(
    tenant: Tenant, chunker: Chunker, embedder: CountingEmbedder
) -> None:
    # GIVEN five parsed documents
    texts = [REPORT.replace("twelve", word) for word in ("two", "three", "four", "five", "six")]
    docs = [tenant.add(text, filename=f"r{n}.md", fmt="markdown") for n, text in enumerate(texts)]
    index = ChunkIndex(tenant.db)
    # WHEN they are indexed in one call
    embedder.calls.clear()
    outcomes = index_documents(tenant.ledger, index, chunker, embedder, docs)
    # THEN one encode call carried the chunks of all five documents
    assert [o.state for o in outcomes] == ["indexed"] * 5
    assert embedder.calls == [sum(o.chunks for o in outcomes)]
    # AND each document got the chunks and vectors it gets when indexed alone
    for doc in docs:
        together = index.chunks(doc)
        vectors = index.vectors([c.id for c in together])
        alone = embedder.encode([c.text for c in chunker.chunk(tenant.ledger.pages(doc))])
        assert np.min(np.sum(vectors * alone, axis=1)) >= 0.9999


def test_batches_are_bounded_by_chunk_count(
    tenant: Tenant, chunker: Chunker, embedder: CountingEmbedder
) -> None:
    # GIVEN three documents WHEN indexed with a small batch size
    docs = [tenant.add(REPORT + f"\n\nNote {n}.", filename=f"r{n}.md") for n in range(3)]
    embedder.calls.clear()
    outcomes = index_documents(
        tenant.ledger, ChunkIndex(tenant.db), chunker, embedder, docs, batch_chunks=1
    )
    # THEN every document was embedded in its own call
    assert [o.state for o in outcomes] == ["indexed"] * 3
    assert len(embedder.calls) == 3


def test_documents_not_ready_or_gone_are_skipped(
    tenant: Tenant, chunker: Chunker, embedder: CountingEmbedder
) -> None:
    # GIVEN a document still `received` (not parsed) and an id that does not exist
    received = tenant.ledger.receive(b"raw bytes", filename="x.txt", source="upload")
    index = ChunkIndex(tenant.db)
    # WHEN both are indexed
    outcomes = index_documents(
        tenant.ledger, index, chunker, embedder, [received.document.id, "missing"]
    )
    # THEN both are skipped and nothing changed
    assert [o.state for o in outcomes] == ["skipped", "skipped"]
    assert tenant.ledger.get(received.document.id).state == "received"
    assert index.count() == 0


def test_a_chunking_failure_marks_only_that_document_failed(
    tenant: Tenant, tmp_path: Path, embedder: CountingEmbedder, chunker: Chunker
) -> None:
    # GIVEN a chunker whose model directory has no tokenizer (a real misconfiguration)
    empty = tmp_path / "no-model"
    empty.mkdir()
    broken = Chunker(empty)
    doc = tenant.add(REPORT)
    # WHEN the document is indexed with it
    outcome = index_document(tenant.ledger, ChunkIndex(tenant.db), broken, embedder, doc)
    # THEN the document is `failed` with a code and a reason, and has no chunks
    record = tenant.ledger.get(doc)
    assert outcome.state == "failed" and outcome.error_code == "index_failed"
    assert record.state == "failed" and record.error_code == "index_failed"
    assert "chunking" in (record.error_message or "")
    assert ChunkIndex(tenant.db).count() == 0
    # AND a later attempt with a working chunker is not blocked by it
    tenant.ledger.set_state(doc, "parsed")
    assert index_document(tenant.ledger, ChunkIndex(tenant.db), chunker, embedder, doc).state == (
        "indexed"
    )


def test_indexing_with_another_model_is_refused_before_any_change(
    tenant: Tenant, chunker: Chunker, embedder: CountingEmbedder
) -> None:
    # GIVEN a tenant whose vectors came from another model
    index = ChunkIndex(tenant.db)
    index.ensure_model("some-other-model", 768)
    doc = tenant.add(REPORT)
    # WHEN a document is indexed with the configured model
    with pytest.raises(IndexModelChangedError):
        index_document(tenant.ledger, index, chunker, embedder, doc)
    # THEN the document was not touched (the caller resets the index and re-queues)
    assert tenant.ledger.get(doc).state == "parsed"
    assert index.reset_for_model(embedder.name, embedder.dimension) == []
    assert index_document(tenant.ledger, index, chunker, embedder, doc).state == "indexed"


def test_a_document_without_text_is_indexed_empty(
    tenant: Tenant, chunker: Chunker, embedder: CountingEmbedder
) -> None:
    # GIVEN a parsed document whose only page is blank (a mail with attachments only)
    doc = tenant.add("   \n\n  ")
    # WHEN indexed THEN it is `indexed` with no chunks
    outcome = index_document(tenant.ledger, ChunkIndex(tenant.db), chunker, embedder, doc)
    assert (outcome.state, outcome.chunks) == ("indexed", 0)
