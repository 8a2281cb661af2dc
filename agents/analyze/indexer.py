"""Indexing parsed documents: chunk, embed (batched across documents), store.

A document moves `parsed -> indexing -> indexed`, or to `failed` with the code
`index_failed` (chunking, embedding or storing went wrong). Re-indexing a document
(state `indexing` after a crash, or `indexed`) replaces its chunks with the same ones.
A document deleted while it was being indexed is skipped: its chunks cannot outlive it
(the foreign key refuses them).
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import sqlcipher3

from agents.analyze.chunking import Chunk, Chunker
from agents.analyze.index import ChunkIndex
from agents.documents.claims import claim
from agents.documents.ledger import DocumentLedger
from storage.errors import NotFoundError, describe, transient_fault

log = logging.getLogger("appliance.analyze.indexer")

INDEXABLE_STATES = frozenset({"parsed", "indexing", "indexed"})
BATCH_CHUNKS = 512  # chunks embedded per encode call when indexing many documents
DEFERRED = "deferred"  # a transient fault interrupted it: indexed again later


@dataclass(frozen=True)
class IndexOutcome:
    document_id: str
    state: str  # indexed, failed, deferred, skipped (gone, or not in an indexable state)
    chunks: int = 0
    error_code: str | None = None


class Encoder(Protocol):
    """What indexing needs of an embedder (agents.analyze.Embedder fits)."""

    name: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def index_document(
    ledger: DocumentLedger,
    index: ChunkIndex,
    chunker: Chunker,
    embedder: Encoder,
    document_id: str,
) -> IndexOutcome:
    """Index one document (see `index_documents`)."""
    return index_documents(ledger, index, chunker, embedder, [document_id])[0]


def index_documents(
    ledger: DocumentLedger,
    index: ChunkIndex,
    chunker: Chunker,
    embedder: Encoder,
    document_ids: Iterable[str],
    *,
    batch_chunks: int = BATCH_CHUNKS,
) -> list[IndexOutcome]:
    """Index several documents, embedding their chunks together in calls of up to
    `batch_chunks` chunks, then storing each document in its own transaction.

    Raises `IndexModelChangedError` (before touching any document) when the embedder
    is not the model the tenant's vectors came from.
    """
    ids = list(dict.fromkeys(document_ids))
    try:
        index.ensure_model(embedder.name, embedder.dimension)
    except Exception as exc:
        if not transient_fault(exc):
            raise
        # nothing touched yet: the documents stay `parsed` for the fault reconciler
        log.warning("indexing deferred: %s", describe(exc).code)
        return [IndexOutcome(d, DEFERRED, error_code=describe(exc).code) for d in ids]
    outcomes: dict[str, IndexOutcome] = {}
    group: list[tuple[str, list[Chunk]]] = []
    pending = 0
    for document_id in ids:
        prepared = _prepare(ledger, chunker, document_id)
        if isinstance(prepared, IndexOutcome):
            outcomes[document_id] = prepared
            continue
        group.append((document_id, prepared))
        pending += len(prepared)
        if pending >= batch_chunks:
            outcomes.update(_embed_and_store(ledger, index, embedder, group))
            group, pending = [], 0
    if group:
        outcomes.update(_embed_and_store(ledger, index, embedder, group))
    return [outcomes[document_id] for document_id in ids]


def _prepare(
    ledger: DocumentLedger, chunker: Chunker, document_id: str
) -> list[Chunk] | IndexOutcome:
    """Move the document to `indexing` and chunk its pages (or say why not)."""
    try:
        record = ledger.get(document_id)
    except NotFoundError:
        return IndexOutcome(document_id, "skipped")
    if record.state not in INDEXABLE_STATES:
        return IndexOutcome(document_id, "skipped")
    try:
        if not claim(ledger.db, document_id, "indexing"):
            # another live process is indexing it (a duplicate delivery)
            return IndexOutcome(document_id, "skipped")
        return chunker.chunk(ledger.pages(document_id))
    except NotFoundError:
        return IndexOutcome(document_id, "skipped")
    except Exception as exc:  # noqa: BLE001 - recorded on the document
        return _failed(ledger, document_id, "chunking", exc)


def _embed_and_store(
    ledger: DocumentLedger,
    index: ChunkIndex,
    embedder: Encoder,
    group: list[tuple[str, list[Chunk]]],
) -> dict[str, IndexOutcome]:
    texts = [chunk.text for _, chunks in group for chunk in chunks]
    try:
        vectors = embedder.encode(texts)
    except Exception as exc:  # noqa: BLE001 - recorded on every document of the batch
        return {d: _failed(ledger, d, "embedding", exc) for d, _ in group}
    outcomes: dict[str, IndexOutcome] = {}
    start = 0
    for document_id, chunks in group:
        mine = vectors[start : start + len(chunks)]
        start += len(chunks)
        try:
            index.replace_document(document_id, chunks, mine, model=embedder.name)
            ledger.set_state(document_id, "indexed")
        except sqlcipher3.IntegrityError:
            # deleted while we worked: the foreign key refused chunks of a missing document
            outcomes[document_id] = IndexOutcome(document_id, "skipped")
            continue
        except Exception as exc:  # noqa: BLE001 - recorded on the document
            outcomes[document_id] = _failed(ledger, document_id, "storing", exc)
            continue
        outcomes[document_id] = IndexOutcome(document_id, "indexed", len(chunks))
    return outcomes


def _failed(ledger: DocumentLedger, document_id: str, stage: str, exc: Exception) -> IndexOutcome:
    if transient_fault(exc):
        return _deferred(ledger, document_id, stage, exc)
    log.exception("indexing document %s failed while %s", document_id, stage)
    message = f"indexing failed while {stage}: {type(exc).__name__}: {str(exc)[:300]}"
    try:
        ledger.fail(document_id, "index_failed", message)
    except NotFoundError:
        return IndexOutcome(document_id, "skipped")
    except Exception as again:
        if not transient_fault(again):
            raise
        return _deferred(ledger, document_id, stage, again)
    return IndexOutcome(document_id, "failed", error_code="index_failed")


def _deferred(ledger: DocumentLedger, document_id: str, stage: str, exc: Exception) -> IndexOutcome:
    """A fault of the machine (full disk, I/O error, busy database): back to `parsed`, to
    be indexed again later; never `failed`. If even that write fails, the document stays
    `indexing` and the fault reconciler finds it."""
    described = describe(exc)
    log.warning("indexing document %s deferred while %s: %s", document_id, stage, described.code)
    try:
        ledger.defer(document_id, "parsed", described.code, described.message)
    except Exception as again:  # noqa: BLE001 - the reconciler retries it later
        log.warning("document %s: deferring it failed too (%s)", document_id, describe(again).code)
    return IndexOutcome(document_id, DEFERRED, error_code=described.code)
