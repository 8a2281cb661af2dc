"""Recorded candidate lists, for trying fusion methods without embedding a corpus again.

Embedding a 1,500-passage corpus takes minutes here; fusing takes microseconds. So the
candidate lists that hybrid search fuses (top 50 dense, top 50 keyword, the cosine of
every candidate) are recorded once per corpus and any fusion is scored on them offline.
`tests/agents/analyze/data/c_functions_candidates.json.gz` was written by `record` and
`save` (c-functions corpus, trimmed as `bench retrieval` trims it).
"""

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.analyze.embedding import Embedder
from agents.analyze.search import (
    CANDIDATES,
    dense_candidates,
    encode_query,
    keyword_candidates,
    similarities,
)
from bench.retrieval_suite import IndexedCorpus

Ranked = list[tuple[int, float]]
Fusion = Callable[[Ranked, Ranked, dict[int, float]], Ranked]


def record(indexed: IndexedCorpus, embedder: Embedder) -> dict[str, Any]:
    """Each question's answer chunks, dense and keyword top 50 and candidate cosines."""
    model = indexed.index.model()
    if model is None:
        raise ValueError("the corpus is not indexed")
    questions = []
    for question, answer in zip(indexed.corpus.questions, indexed.relevant, strict=True):
        vector = encode_query(embedder, model, question.text)
        dense = dense_candidates(indexed.index, vector, CANDIDATES)
        keyword = keyword_candidates(indexed.index, question.text, CANDIDATES)
        cosine = dict(dense)
        missing = [c for c, _ in keyword if c not in cosine]
        cosine.update(similarities(indexed.index, vector, missing))
        questions.append(
            {
                "question": question.text,
                "answer": sorted(answer),
                "dense": [c for c, _ in dense],
                "keyword": [[c, round(s, 4)] for c, s in keyword],
                "cosine": [[c, round(s, 5)] for c, s in cosine.items()],
            }
        )
    return {
        "corpus": indexed.corpus.name,
        "held_out": indexed.corpus.held_out,
        "passages": indexed.passages,
        "questions": questions,
    }


def save(recorded: dict[str, Any], path: Path) -> None:
    """Write gzipped compact JSON."""
    path.write_bytes(gzip.compress(json.dumps(recorded, separators=(",", ":")).encode(), 9))


def load(path: Path) -> dict[str, Any]:
    """Read what `save` wrote."""
    return dict(json.loads(gzip.decompress(path.read_bytes())))


def recall_at(recorded: dict[str, Any], fuse: Fusion | None, k: int = 5) -> float:
    """recall@k of `fuse` on recorded lists; `fuse=None` scores dense alone, and
    `keyword_only` keyword alone."""
    found = 0
    for q in recorded["questions"]:
        cosine = {int(c): float(s) for c, s in q["cosine"]}
        dense = [(int(c), cosine[int(c)]) for c in q["dense"]]
        keyword = [(int(c), float(s)) for c, s in q["keyword"]]
        ranked = dense if fuse is None else fuse(dense, keyword, cosine)
        found += any(c in q["answer"] for c, _ in ranked[:k])
    return found / max(len(recorded["questions"]), 1)


def keyword_only(dense: Ranked, keyword: Ranked, cosine: dict[int, float]) -> Ranked:
    """A `Fusion` that is keyword search alone."""
    return keyword
