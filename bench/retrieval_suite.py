"""The retrieval suite: recall@1/5/10 and MRR@10 of each search mode on real corpora.

Every corpus of `bench.retrieval_corpora` is indexed into its own encrypted tenant
database through the appliance's indexing path (chunker, embedder, FTS5, vectors); each
question is then searched in every mode, and the rank of the first chunk that overlaps
the question's known answer span is recorded. Held-out corpora (no parameter was chosen
on them) are reported apart. Per-query latency is measured per mode, and beside it the
raw work the dense side cannot avoid (one `encode` call of the query), so the ratio says
what search adds on top of the model.
"""

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.analyze.chunking import Chunker
from agents.analyze.embedding import Embedder
from agents.analyze.index import ChunkIndex
from agents.analyze.indexer import index_documents
from agents.analyze.search import MODES, search
from agents.documents.ledger import DocumentLedger
from agents.ingest.sandbox.document import single_page
from agents.models import locate_embedding_model
from app.settings import Settings
from bench.common import BenchError, percentile_ms
from bench.retrieval_corpora import (
    LOADERS,
    MAX_QUESTIONS,
    Corpus,
    CorpusMissingError,
    Question,
    sample,
)
from storage import crypto
from storage.blobs import BlobStore
from storage.database import Database, DatabaseOptions
from storage.tenant_schema import tenant_migrations

DEPTH = 10
MIN_QUESTIONS = 100
MIN_PASSAGES = 1500
TARGET_PASSAGES = 1520
TARGET_MARGIN_OVER_DENSE = 0.03


@dataclass
class IndexedCorpus:
    """A corpus indexed in a real tenant database, with each question's answer chunks."""

    corpus: Corpus
    db: Database
    index: ChunkIndex
    relevant: list[set[int]]  # chunk ids answering question i
    passages: int
    index_seconds: float


def trim_corpus(corpus: Corpus, chunker: Chunker, passages: int = TARGET_PASSAGES) -> Corpus:
    """The corpus cut to about `passages` chunks, with at most MAX_QUESTIONS questions.

    Embedding is the slow part (~0.1 s of CPU per chunk here), so documents are kept
    only until the corpus has `passages` chunks: first documents holding questions (in
    corpus order, while at least MIN_QUESTIONS questions are not yet covered), then the
    others. Questions of dropped documents are dropped; the rest are sampled evenly.
    """
    counts = [len(chunker.chunk([(1, text)])) for _, text in corpus.documents]
    asked: dict[int, int] = {}
    for q in corpus.questions:
        asked[q.document] = asked.get(q.document, 0) + 1
    keep: list[int] = []
    total = covered = 0
    for doc in sorted(asked):
        if covered >= MAX_QUESTIONS and total >= passages:
            break
        keep.append(doc)
        total += counts[doc]
        covered += asked[doc]
    for doc in range(len(corpus.documents)):
        if total >= passages:
            break
        if doc not in asked:
            keep.append(doc)
            total += counts[doc]
    keep.sort()
    new_index = {old: new for new, old in enumerate(keep)}
    trimmed = Corpus(corpus.name, corpus.source, corpus.held_out)
    trimmed.documents = [corpus.documents[d] for d in keep]
    trimmed.questions = sample(
        [
            Question(q.text, new_index[q.document], q.start, q.end)
            for q in corpus.questions
            if q.document in new_index
        ]
    )
    return trimmed


def index_corpus(root: Path, corpus: Corpus, embedder: Embedder, chunker: Chunker) -> IndexedCorpus:
    """Store the corpus's documents as parsed markdown and index them."""
    root.mkdir(parents=True, exist_ok=True)
    key = crypto.random_key()
    db = Database(root / "tenant.db", key, DatabaseOptions(load_vec=True), tenant_migrations)
    ledger = DocumentLedger(db, BlobStore(root / "blobs", key))
    ids = []
    for n, (title, text) in enumerate(corpus.documents):
        received = ledger.receive(
            text.encode(), filename=f"{n:04d}-{title.replace('/', '-')}.md", source="upload"
        )
        ledger.save_parsed(received.document.id, single_page("markdown", text))
        ids.append(received.document.id)
    index = ChunkIndex(db)
    started = time.perf_counter()
    outcomes = index_documents(ledger, index, chunker, embedder, ids)
    seconds = time.perf_counter() - started
    if {o.state for o in outcomes} != {"indexed"}:
        raise BenchError(f"corpus {corpus.name}: not every document was indexed")
    with db.read() as conn:
        rows = conn.execute("SELECT id, document_id, char_start, char_end FROM chunks").fetchall()
    by_document: dict[str, list[tuple[int, int, int]]] = {}
    for chunk_id, document_id, start, end in rows:
        by_document.setdefault(str(document_id), []).append((int(chunk_id), start, end))
    relevant = []
    for q in corpus.questions:
        spans = by_document.get(ids[q.document], [])
        relevant.append({c for c, start, end in spans if start < q.end and end > q.start})
    return IndexedCorpus(corpus, db, index, relevant, len(rows), seconds)


def rank_of_answer(hits: Sequence[int], wanted: set[int]) -> int | None:
    """1-based rank of the first answering chunk within the top DEPTH, else None."""
    return next((n for n, chunk_id in enumerate(hits[:DEPTH], 1) if chunk_id in wanted), None)


def scores(ranks: Sequence[int | None]) -> dict[str, float]:
    """recall@1/5/10 and MRR@10 of a list of ranks."""
    total = max(len(ranks), 1)
    out = {
        f"recall@{k}": round(sum(r is not None and r <= k for r in ranks) / total, 4)
        for k in (1, 5, 10)
    }
    out["mrr@10"] = round(sum(1 / r for r in ranks if r) / total, 4)
    return out


def evaluate(
    indexed: IndexedCorpus,
    embedder: Embedder,
    modes: Sequence[str] = MODES,
    searcher: Callable[..., list[Any]] = search,
) -> dict[str, Any]:
    """Scores and latency per mode; modes take turns per question (same load on each)."""
    ranks: dict[str, list[int | None]] = {mode: [] for mode in modes}
    seconds: dict[str, list[float]] = {mode: [] for mode in modes}
    encode: list[float] = []
    for question, wanted in zip(indexed.corpus.questions, indexed.relevant, strict=True):
        started = time.perf_counter()
        embedder.encode([question.text])
        encode.append(time.perf_counter() - started)
        for mode in modes:
            started = time.perf_counter()
            hits = searcher(indexed.index, embedder, question.text, DEPTH, mode)
            seconds[mode].append(time.perf_counter() - started)
            ranks[mode].append(rank_of_answer([h.chunk_id for h in hits], wanted))
    result: dict[str, Any] = {}
    for mode in modes:
        p50 = statistics.median(seconds[mode])
        result[mode] = {
            **scores(ranks[mode]),
            "latency_ms_p50": percentile_ms(seconds[mode], 50),
            "latency_ms_p95": percentile_ms(seconds[mode], 95),
            "ratio_p50_vs_query_encode": round(p50 / max(statistics.median(encode), 1e-9), 2),
        }
    result["query_encode_ms_p50"] = percentile_ms(encode, 50)
    return result


def _verdict(modes: dict[str, Any]) -> dict[str, Any]:
    hybrid, dense, keyword = (modes[m]["recall@5"] for m in ("hybrid", "dense", "keyword"))
    return {
        "default_at_least_best_part": hybrid >= max(dense, keyword),
        "default_minus_dense_recall@5": round(hybrid - dense, 4),
    }


def run_retrieval(settings: Settings, corpora: Sequence[str] | None = None) -> dict[str, Any]:
    """Index each corpus, evaluate every mode, and check the acceptance targets."""
    location = locate_embedding_model(settings.models.embedding_model)
    embedder, chunker = Embedder(location), Chunker(location.path)
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        for name in corpora or list(LOADERS):
            try:
                corpus = trim_corpus(LOADERS[name](), chunker)
            except CorpusMissingError as error:
                skipped[name] = str(error)
                continue
            indexed = index_corpus(Path(tmp) / name, corpus, embedder, chunker)
            try:
                modes = evaluate(indexed, embedder)
            finally:
                indexed.db.close()
            results[name] = {
                "source": corpus.source,
                "held_out": corpus.held_out,
                "documents": len(corpus.documents),
                "passages": indexed.passages,
                "questions": len(corpus.questions),
                "index_seconds": round(indexed.index_seconds, 1),
                "modes": modes,
                **_verdict(modes),
            }
    if not results:
        raise BenchError(f"no retrieval corpus is installed: {skipped}")
    margins = [r["default_minus_dense_recall@5"] for r in results.values()]
    mean_margin = round(sum(margins) / len(margins), 4)
    met = {
        "default_at_least_best_part_everywhere": all(
            r["default_at_least_best_part"] for r in results.values()
        ),
        f"mean_margin_over_dense>={TARGET_MARGIN_OVER_DENSE}": mean_margin
        >= TARGET_MARGIN_OVER_DENSE,
        "sizes": all(
            r["questions"] >= MIN_QUESTIONS and r["passages"] >= MIN_PASSAGES
            for r in results.values()
        ),
    }
    return {
        "results": {
            "model": embedder.name,
            "corpora": {n: r for n, r in results.items() if not r["held_out"]},
            "held_out": {n: r for n, r in results.items() if r["held_out"]},
            "mean_default_minus_dense_recall@5": mean_margin,
            "skipped": skipped,
        },
        "targets": {
            "default recall@5": ">= max(dense, keyword) on every corpus",
            "mean default - dense recall@5": f">= {TARGET_MARGIN_OVER_DENSE}",
            "each corpus": f">= {MIN_QUESTIONS} questions, >= {MIN_PASSAGES} passages",
        },
        "met": met,
    }
