"""Search one tenant's chunks: dense (cosine), keyword (FTS5 bm25) or hybrid (both fused).

Dense search is exact: the tenant's in-memory matrix (`VectorCache`), or sqlite-vec's
brute force when the index is larger than the cache may hold. Keyword search turns the
user's text into a safe FTS5 query (words only, each quoted, joined with OR; operators,
quotes, `*`, `NEAR`, parentheses and column filters never reach FTS5). Hybrid takes the
top 50 of each, computes the cosine of every candidate, and fuses them with
score-normalised weighted fusion (`fusion.py`, which says why it replaced reciprocal
rank fusion); `rrf_k` asks for RRF instead, for comparisons.
Database reads run under the tenant database's query time limit (QueryTimeoutError).
"""

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from agents.analyze.fusion import DENSE_WEIGHT, reciprocal_rank_fusion, weighted_fusion
from agents.analyze.fusion import RRF_K as RRF_K  # the constant for comparisons
from agents.analyze.index import AnalyzeError, ChunkIndex, IndexModel, IndexModelChangedError
from agents.analyze.search_filters import SearchFilters

Mode = Literal["hybrid", "dense", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "keyword")
CANDIDATES = 50  # per list, for hybrid fusion
MAX_K = 100
MAX_QUERY_TERMS = 64  # a 10,000-word question still makes a bounded FTS query
_TERM = re.compile(r"\w+")
_STOPWORDS = frozenset(
    "a an and are as at be but by can could did do does for from had has have how i if in "
    "into is it its me my no not of on or our should so than that the their them then there "
    "these they this to was we were what when where which who why will with would you your "
    "near".split()
)


class InvalidSearchError(AnalyzeError):
    status_code = 400
    code = "invalid_search"


class QueryEncoder(Protocol):
    """What search needs of an embedder (agents.analyze.Embedder fits)."""

    name: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk. `score` ranks within the mode (cosine for dense, -bm25 for
    keyword, the fused score for hybrid); `similarity` is the cosine with the query whenever the
    query was embedded (useful for relevance thresholds), else None."""

    chunk_id: int
    document_id: str
    title: str
    page: int
    heading: str | None
    text: str
    score: float
    source: str
    format: str | None
    position: int = 0
    char_start: int = 0
    char_end: int = 0
    similarity: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The JSON shape of one search hit in the API."""
        return {
            "chunk_id": self.chunk_id,
            "document_id": self.document_id,
            "title": self.title,
            "page": self.page,
            "heading": self.heading,
            "text": self.text,
            "score": self.score,
            "similarity": self.similarity,
            "metadata": {
                **self.metadata,
                "source": self.source,
                "type": self.format,
                "position": self.position,
                "char_start": self.char_start,
                "char_end": self.char_end,
            },
        }


def search(
    index: ChunkIndex,
    embedder: QueryEncoder | None,
    query: str,
    k: int = 10,
    mode: str = "hybrid",
    filters: "Mapping[str, Any] | SearchFilters | None" = None,
    *,
    candidates: int = CANDIDATES,
    rrf_k: int | None = None,
    dense_weight: float | None = None,
    timeout_ms: int | None = None,
) -> list[Hit]:
    """The best `k` chunks for `query`; [] for an empty index or a blank query.

    Hybrid uses weighted fusion (`dense_weight`, default `fusion.DENSE_WEIGHT`), or
    reciprocal rank fusion with constant `rrf_k` when that is given."""
    if mode not in MODES:
        raise InvalidSearchError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidSearchError(f"k must be a whole number from 1 to {MAX_K}")
    if not isinstance(query, str):
        raise InvalidSearchError("query must be a string")
    wanted = SearchFilters.parse(filters)
    text = query.strip()
    model = index.model()
    if not text or model is None:
        return []
    allowed = None if wanted.empty else allowed_documents(index, wanted, timeout_ms)
    if allowed is not None and not allowed:
        return []
    depth = k if mode != "hybrid" else max(k, candidates)
    vector = None
    dense: list[tuple[int, float]] = []
    keyword: list[tuple[int, float]] = []
    if mode != "keyword":
        vector = encode_query(embedder, model, text)
        dense = dense_candidates(index, vector, depth, allowed, timeout_ms)
    if mode != "dense":
        keyword = keyword_candidates(index, text, depth, wanted, timeout_ms)
    similarity: dict[int, float] = dict(dense)
    if mode == "hybrid" and vector is not None:
        # every keyword-only candidate gets its cosine, so fusion never lacks one
        missing = [chunk_id for chunk_id, _ in keyword if chunk_id not in similarity]
        if missing:
            similarity.update(similarities(index, vector, missing, timeout_ms))
    if mode == "dense":
        ranked = dense
    elif mode == "keyword":
        ranked = keyword
    elif rrf_k is not None:
        ranked = reciprocal_rank_fusion([dense, keyword], rrf_k)
    else:
        weight = DENSE_WEIGHT if dense_weight is None else dense_weight
        ranked = weighted_fusion(dense, keyword, similarity, weight)
    return hydrate(index, ranked[:k], similarity, timeout_ms)


def search_by_vector(
    index: ChunkIndex,
    vector: npt.NDArray[np.float32],
    k: int = 10,
    filters: "Mapping[str, Any] | SearchFilters | None" = None,
    *,
    timeout_ms: int | None = None,
) -> list[Hit]:
    """Dense search with a vector already in the index's space (unit length)."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidSearchError(f"k must be a whole number from 1 to {MAX_K}")
    wanted = SearchFilters.parse(filters)
    allowed = None if wanted.empty else allowed_documents(index, wanted, timeout_ms)
    if allowed is not None and not allowed:
        return []
    ranked = dense_candidates(index, vector, k, allowed, timeout_ms)
    return hydrate(index, ranked, dict(ranked), timeout_ms)


def encode_query(
    embedder: QueryEncoder | None, model: IndexModel, text: str
) -> npt.NDArray[np.float32]:
    """The query's vector, refusing an embedder of another vector space than the index."""
    if embedder is None:
        raise InvalidSearchError("dense and hybrid search need an embedding model")
    if (embedder.name, embedder.dimension) != (model.name, model.dimension):
        raise IndexModelChangedError(model, IndexModel(embedder.name, embedder.dimension))
    return np.asarray(embedder.encode([text])[0], dtype=np.float32)


def allowed_documents(
    index: ChunkIndex, filters: SearchFilters, timeout_ms: int | None = None
) -> set[str]:
    """Ids of the documents the filters let through."""
    condition, params = filters.sql()
    with index.db.read(timeout_ms) as conn:
        rows = conn.execute(f"SELECT d.id FROM documents d WHERE {condition}", params)
        return {str(r[0]) for r in rows}


def dense_candidates(
    index: ChunkIndex,
    vector: npt.NDArray[np.float32],
    depth: int,
    allowed: Collection[str] | None = None,
    timeout_ms: int | None = None,
) -> list[tuple[int, float]]:
    """Exact top `depth` (chunk id, cosine), best first, among the allowed documents."""
    if index.cache.refresh(timeout_ms):
        return index.cache.search(vector, depth, allowed)
    # larger than the cache may hold: sqlite-vec's brute force (exact, slower)
    sql = "SELECT chunk_id, distance FROM chunk_vectors WHERE embedding MATCH ? AND k = ?"
    params: list[Any] = [vector.astype(np.float32).tobytes(), depth]
    if allowed is not None:
        sql += " AND document_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(sorted(allowed)))
    with index.db.read(timeout_ms) as conn:
        rows = conn.execute(sql, params).fetchall()
    ranked = [(int(r[0]), 1.0 - float(r[1])) for r in rows]
    return sorted(ranked, key=lambda pair: (-pair[1], pair[0]))


def fts_query(text: str) -> str | None:
    """A safe FTS5 query for user text: distinct words, each quoted, joined with OR.

    Common words are dropped unless nothing else is left; at most MAX_QUERY_TERMS words.
    """
    words = list(dict.fromkeys(w.lower() for w in _TERM.findall(text)))
    terms = [w for w in words if w not in _STOPWORDS] or words
    if not terms:
        return None
    return " OR ".join(f'"{t}"' for t in terms[:MAX_QUERY_TERMS])


def keyword_candidates(
    index: ChunkIndex,
    text: str,
    depth: int,
    filters: SearchFilters | None = None,
    timeout_ms: int | None = None,
) -> list[tuple[int, float]]:
    """Top `depth` (chunk id, -bm25) by FTS5, best first; headings weigh half of text."""
    match = fts_query(text)
    if match is None:
        return []
    rank = "bm25(chunks_fts, 0.5, 1.0)"
    if filters is None or filters.empty:
        sql = f"SELECT rowid, {rank} AS r FROM chunks_fts WHERE chunks_fts MATCH ? "
        params: list[Any] = [match]
    else:
        condition, extra = filters.sql()
        sql = (
            f"SELECT chunks_fts.rowid, {rank} AS r FROM chunks_fts "
            "JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id "
            f"WHERE chunks_fts MATCH ? AND {condition} "
        )
        params = [match, *extra]
    sql += "ORDER BY r, 1 LIMIT ?"
    with index.db.read(timeout_ms) as conn:
        rows = conn.execute(sql, [*params, depth]).fetchall()
    return [(int(r[0]), -float(r[1])) for r in rows]


def similarities(
    index: ChunkIndex,
    vector: npt.NDArray[np.float32],
    ids: list[int],
    timeout_ms: int | None = None,
) -> dict[int, float]:
    """The cosine of each chunk in `ids` with the query vector (chunks gone are left out)."""
    if index.cache.refresh(timeout_ms):
        return index.cache.similarities(vector, ids)
    stored = index.vectors(ids)
    return {i: float(row @ vector) for i, row in zip(ids, stored, strict=True) if row.any()}


def hydrate(
    index: ChunkIndex,
    ranked: list[tuple[int, float]],
    similarity: Mapping[int, float] | None = None,
    timeout_ms: int | None = None,
) -> list[Hit]:
    """Hits for ranked chunk ids, in order; chunks deleted meanwhile are left out."""
    if not ranked:
        return []
    with index.db.read(timeout_ms) as conn:
        rows = conn.execute(
            "SELECT c.id, c.document_id, d.title, c.page, c.heading, c.text, d.source, "
            "d.format, c.position, c.char_start, c.char_end, d.metadata "
            "FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE c.id IN (SELECT value FROM json_each(?))",
            (json.dumps([chunk_id for chunk_id, _ in ranked]),),
        ).fetchall()
    found = {int(r[0]): r for r in rows}
    similarity = similarity or {}
    hits = []
    for chunk_id, score in ranked:
        row = found.get(chunk_id)
        if row is None:
            continue
        metadata = json.loads(row[11] or "{}")
        metadata.pop("sections", None)
        hits.append(
            Hit(
                chunk_id=chunk_id,
                document_id=row[1],
                title=row[2],
                page=int(row[3]),
                heading=row[4],
                text=row[5],
                score=float(score),
                source=row[6],
                format=row[7],
                position=int(row[8]),
                char_start=int(row[9]),
                char_end=int(row[10]),
                similarity=similarity.get(chunk_id),
                metadata=metadata,
            )
        )
    return hits
