"""The answers suite: does the default model's answer state the known fact, cite passages
that support it, and stop without looping?

Questions come from the function entries of C library manuals (libtasn1, nettle):
"Which function do I use to <the entry's summary>?", known answer = the function's name.
The manual nodes holding those entries (their sibling entries are the distractors) are
indexed once; the
appliance's Answerer answers every question with the configured model (greedy, so a
rerun gives the same answers), and `answer_scoring.judge` scores each answer against the
texts of the chunks it cites. Time to the first answer token is recorded beside the
retrieval time.
"""

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from agents.analyze.chunking import Chunker
from agents.analyze.embedding import Embedder
from agents.analyze.search import Hit, search
from agents.models import locate_embedding_model
from app.llm_wiring import build_answerer, build_llm
from app.settings import Settings
from bench.answer_scoring import judge
from bench.common import BenchError
from bench.retrieval_corpora import function_answers
from bench.retrieval_suite import IndexedCorpus, index_corpus

DEFAULT_QUESTIONS = 50


class CorpusSearch:
    """The `search` the answerer calls, over one indexed bench corpus."""

    def __init__(self, indexed: IndexedCorpus, embedder: Embedder) -> None:
        self.indexed, self.embedder = indexed, embedder

    def search(
        self,
        tenant_id: str,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        filters: Any = None,
        timeout_ms: int | None = None,
    ) -> list[Hit]:
        return search(self.indexed.index, self.embedder, query, k=k, mode=mode, filters=filters)


def _chunk_texts(indexed: IndexedCorpus, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    with indexed.db.read() as conn:
        rows = conn.execute(
            f"SELECT id, text FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids
        ).fetchall()
    return {int(r[0]): str(r[1]) for r in rows}


def answer_one(answerer: Any, indexed: IndexedCorpus, question: str) -> dict[str, Any]:
    """Stream one answer; its text, citations, first-token time and total time."""
    started = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    citations: list[dict[str, Any]] = []
    done: dict[str, Any] = {}
    for event in answerer.stream("bench", question, 5):
        if event["type"] == "token":
            first = first if first is not None else time.perf_counter() - started
            pieces.append(event["text"])
        elif event["type"] == "citations":
            citations = list(event["citations"])
        elif event["type"] == "done":
            done = event
    total = time.perf_counter() - started
    answer = str(done.get("answer", "".join(pieces)))
    ids = {int(c["number"]): c.get("chunk_ids") or [c["chunk_id"]] for c in citations}
    texts = _chunk_texts(indexed, [int(i) for group in ids.values() for i in group])
    by_number = {n: "\n".join(texts.get(int(i), "") for i in group) for n, group in ids.items()}
    passages = [by_number.get(n, "") for n in range(1, max(by_number, default=0) + 1)]
    return {
        "answer": answer,
        "passages": passages,
        "extractive": bool(done.get("extractive")),
        "no_answer": bool(done.get("no_answer")),
        "first_token_s": round(first if first is not None else total, 3),
        "total_s": round(total, 3),
    }


def run_answers(settings: Settings, questions: int = DEFAULT_QUESTIONS) -> dict[str, Any]:
    """Answer `questions` known-answer questions and score them."""
    corpus, pairs = function_answers(max(questions, 1))
    if not pairs:
        raise BenchError("no C library info manuals (libtasn1, nettle, gettext) are installed")
    location = locate_embedding_model(settings.models.embedding_model)
    embedder, chunker = Embedder(location), Chunker(location.path)
    llm = build_llm(settings)
    llm.load()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp:
        indexed = index_corpus(Path(tmp) / "c-functions", corpus, embedder, chunker)
        try:
            answerer = build_answerer(settings, CorpusSearch(indexed, embedder), llm)
            for question, expected in pairs:
                result = answer_one(answerer, indexed, question)
                verdict = judge(result["answer"], expected, result["passages"])
                rows.append({"question": question, "expected": expected, **result, **verdict})
        finally:
            indexed.db.close()
            llm.close()
    count = len(rows)
    share = lambda key: round(sum(bool(r[key]) for r in rows) / count, 3)  # noqa: E731
    summary = {
        "questions": count,
        "states_answer": share("states_answer"),
        "all_markers_supported": share("all_markers_supported"),
        "answers_with_markers": round(sum(r["markers"] > 0 for r in rows) / count, 3),
        "extractive": share("extractive"),
        "no_answer": share("no_answer"),
        "looping_answers": sum(r["loops"] for r in rows),
        "first_token_s_p50": round(statistics.median(r["first_token_s"] for r in rows), 3),
        "total_s_p50": round(statistics.median(r["total_s"] for r in rows), 3),
        "answer_chars_p50": int(statistics.median(len(r["answer"]) for r in rows)),
    }
    for row in rows:
        row.pop("passages")
    return {
        "results": {"summary": summary, "model": llm.backend.model_name, "answers": rows},
        "targets": {"looping_answers": "0", "all_markers_supported": "1.0 (or extractive)"},
        "met": {
            "no_loops": summary["looping_answers"] == 0,
            "markers_supported": summary["all_markers_supported"] == 1.0,
        },
    }
