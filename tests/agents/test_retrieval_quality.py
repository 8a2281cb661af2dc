"""Retrieval quality on a corpus nobody here wrote: the Python 3.11 library documentation
as Debian's `python3.11-doc` ships it (HTML pages, parsed by the appliance's own parser).

Each question's answer is a known passage, identified by a distinctive phrase: a chunk is
relevant when it contains the phrase (whitespace-normalised). recall@5 is reported for
dense, keyword and hybrid search (printed, and written to
tests/artifacts/retrieval_quality.json); hybrid must be at least as good as the better of
the two. `HELD_OUT` questions were written after the fusion constant was chosen (see
agents/analyze/search.py) and are reported only, as a check against over-fitting.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.analyze import Chunker, Embedder
from agents.analyze.index import ChunkIndex
from agents.analyze.indexer import index_documents
from agents.analyze.search import RRF_K, search
from agents.ingest.sandbox.direct import parse_direct
from agents.models import locate_embedding_model
from tests.agents.test_index_store import Tenant

pytestmark = pytest.mark.slow  # indexes ~1,700 chunks with the real model

CORPUS = Path("/usr/share/doc/python3.11/html/library")
ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "retrieval_quality.json"
K = 5
MODES = ("dense", "keyword", "hybrid")

MODULES = (
    "json csv os.path pathlib shutil subprocess threading queue datetime time random re "
    "argparse logging sqlite3 itertools functools collections heapq bisect hashlib secrets "
    "base64 zipfile tarfile gzip tempfile glob fnmatch textwrap string struct copy pickle "
    "statistics math decimal fractions uuid urllib.parse"
).split()

QUESTIONS = [
    (
        "How do I generate secure random tokens for passwords and account authentication?",
        "secrets module is used for generating cryptographically strong random numbers",
    ),
    (
        "Is the random module safe to use for cryptography?",
        "should not be used for security purposes",
    ),
    (
        "How can I look at the smallest element of a heap without removing it?",
        "To access the smallest item without popping it",
    ),
    (
        "How do I keep a list in sorted order when inserting new items?",
        "without having to sort the list after each insertion",
    ),
    (
        "What happens when a subprocess runs longer than its timeout?",
        "If the timeout expires, the child process will be killed and waited for",
    ),
    (
        "Does subprocess run my command through the shell, and is that a security risk?",
        "will never implicitly call a system shell",
    ),
    ("How do I get the file suffix of a path?", "The file extension of the final component"),
    (
        "How can I copy a directory together with all of its contents?",
        "Recursively copy an entire directory tree rooted at",
    ),
    (
        "How do I create a temporary file that disappears once I close it?",
        "destroyed as soon as it is closed",
    ),
    (
        "What is the difference between naive and aware datetime objects?",
        "does not contain enough information to unambiguously locate itself",
    ),
    (
        "Which clock should I use to measure elapsed time if someone may change the system time?",
        "not affected by system clock updates",
    ),
    (
        "How should I create a logger object in my module?",
        "Loggers should NEVER be instantiated directly",
    ),
    (
        "How can I cache the results of an expensive function?",
        "memoizing callable that saves up to the",
    ),
    (
        "Why does groupby return the same key several times?",
        "needs to already be sorted on the same key function",
    ),
    (
        "How do I count how many times each item appears in a list?",
        "dict subclass for counting hashable objects",
    ),
    (
        "Which container supports fast appends and pops at both ends?",
        "memory efficient appends and pops from either side",
    ),
    (
        "How should I hash passwords with a salt and many iterations?",
        "password-based key derivation function 2",
    ),
    (
        "How do I safely put Python variables into an SQL query?",
        "vulnerable to SQL injection attacks",
    ),
    (
        "Why should CSV files be opened with newline set to the empty string?",
        "newlines embedded inside quoted fields will not be interpreted correctly",
    ),
    (
        "What is the difference between re.match and re.search?",
        "checks for a match only at the beginning of the string",
    ),
    (
        "Can threads make CPU-bound Python code run faster?",
        "only one thread can execute Python code at once",
    ),
    (
        "Is it safe to unpickle data received from an untrusted source?",
        "The pickle module is not secure",
    ),
    (
        "Why do decimal numbers give exact results where binary floating point does not?",
        "is exactly equal to zero",
    ),
    ("How do I create a random universally unique identifier?", "Generate a random UUID"),
    (
        "How do I extract every file from an archive?",
        "Extract all members from the archive to the current working directory",
    ),
    (
        "Should command line options be mandatory?",
        "Required options are generally considered bad form",
    ),
    (
        "How do I find the middle value of a list of numbers?",
        "Return the median (middle value) of numeric data",
    ),
    (
        "How do I encode bytes as base64 that is safe to use in URLs?",
        "substitutes - instead of + and _ instead of /",
    ),
    (
        "How do I make a queue that returns the newest item first?",
        "most recently added entry is the first retrieved",
    ),
    (
        "How do I find files in all subdirectories with a wildcard pattern?",
        "will match any files and zero or more directories",
    ),
]

HELD_OUT = [
    ("How do I make a shallow copy of an object?", "Return a shallow copy of x"),
    ("What is JSON?", "is a lightweight data interchange format"),
    (
        "How do I compute the greatest common divisor of integers?",
        "Return the greatest common divisor",
    ),
    (
        "How can I wrap a long paragraph so no line exceeds a given width?",
        "so every line is at most width characters long",
    ),
    (
        "How do I check whether a filename matches a shell-style wildcard?",
        "Test whether the filename string matches the pattern string",
    ),
    (
        "How do I calculate the average of some numbers?",
        "Return the sample arithmetic mean of data",
    ),
    ("How do I break a URL into its parts?", "Parse a URL into six components"),
    (
        "What does seconds since the epoch mean?",
        "refers to the total number of elapsed seconds since the epoch",
    ),
    (
        "How do I compute running totals of a sequence?",
        "Make an iterator that returns accumulated sums",
    ),
    (
        "How do I check that a path points to an existing regular file?",
        "Return True if path is an existing regular file",
    ),
    ("How do I delete a directory and everything inside it?", "Delete an entire directory tree"),
    ("How do I gzip-compress a bytes object in memory?", "Compress the data"),
]


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Tenant, Embedder, dict]]:
    missing = [m for m in MODULES if not (CORPUS / f"{m}.html").is_file()]
    if missing:
        reason = (
            f"the retrieval corpus is missing ({len(missing)} pages under {CORPUS}, e.g. "
            f"{missing[0]}.html): apt-get install python3.11-doc"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    tenant = Tenant(tmp_path_factory.mktemp("pydoc"))
    location = locate_embedding_model("")
    embedder, chunker = Embedder(location), Chunker(location.path)
    ids = []
    for module in MODULES:
        data = (CORPUS / f"{module}.html").read_bytes()
        received = tenant.ledger.receive(data, filename=f"{module}.html", source="upload")
        tenant.ledger.save_parsed(received.document.id, parse_direct(data, f"{module}.html"))
        ids.append(received.document.id)
    started = time.perf_counter()
    outcomes = index_documents(tenant.ledger, ChunkIndex(tenant.db), chunker, embedder, ids)
    assert {o.state for o in outcomes} == {"indexed"}
    info = {
        "documents": len(ids),
        "chunks": sum(o.chunks for o in outcomes),
        "index_seconds": round(time.perf_counter() - started, 1),
    }
    yield tenant, embedder, info
    tenant.db.close()


def _evaluate(
    index: ChunkIndex, embedder: Embedder, questions: list[tuple[str, str]], texts: dict[int, str]
) -> dict:
    relevant = [{i for i, t in texts.items() if _normal(phrase) in t} for _, phrase in questions]
    broken = [q for (q, _), r in zip(questions, relevant, strict=True) if not r]
    assert not broken, f"no chunk holds the answer phrase of: {broken}"
    runs = {mode: {} for mode in MODES} | {"hybrid_rrf60": {}}
    per_question = []
    for (question, _), wanted in zip(questions, relevant, strict=True):
        ranks = {}
        for name in runs:
            mode, rrf_k = ("hybrid", 60) if name == "hybrid_rrf60" else (name, RRF_K)
            hits = search(index, embedder, question, 10, mode, rrf_k=rrf_k)
            rank = next((n + 1 for n, h in enumerate(hits) if h.chunk_id in wanted), None)
            ranks[name] = rank
        per_question.append({"question": question, "rank_of_answer": ranks})
    for name in runs:
        found = [q["rank_of_answer"][name] for q in per_question]
        runs[name] = {
            f"recall@{K}": round(sum(r is not None and r <= K for r in found) / len(found), 4),
            "recall@10": round(sum(r is not None for r in found) / len(found), 4),
            "mrr@10": round(sum(1 / r for r in found if r) / len(found), 4),
        }
    return {"questions": len(questions), "modes": runs, "per_question": per_question}


def test_hybrid_recall_is_at_least_the_better_of_dense_and_keyword(indexed: tuple) -> None:
    tenant, embedder, info = indexed
    # GIVEN ~40 real documentation pages indexed through the whole pipeline
    index = ChunkIndex(tenant.db)
    with tenant.db.read() as conn:
        texts = {int(r[0]): _normal(r[1]) for r in conn.execute("SELECT id, text FROM chunks")}
    # WHEN each question is searched in every mode
    main = _evaluate(index, embedder, QUESTIONS, texts)
    held_out = _evaluate(index, embedder, HELD_OUT, texts)
    recall = {mode: main["modes"][mode][f"recall@{K}"] for mode in MODES}
    report = {
        "corpus": f"Debian python3.11-doc, {CORPUS}",
        "model": embedder.name,
        "k": K,
        "rrf_k": RRF_K,
        **info,
        f"recall@{K}": recall,
        "main": main,
        "held_out": held_out,
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nrecall@{K} over {len(QUESTIONS)} questions: {recall}")
    print(f"hybrid with RRF k=60: {main['modes']['hybrid_rrf60'][f'recall@{K}']}")
    print(
        f"held-out ({len(HELD_OUT)}): "
        f"{ {m: held_out['modes'][m][f'recall@{K}'] for m in held_out['modes']} }"
    )
    # THEN hybrid is at least as good as the better single method
    assert recall["hybrid"] >= max(recall["dense"], recall["keyword"]), report["main"]["modes"]
    # AND the index is useful at all (guards against a silently broken pipeline)
    assert max(recall.values()) >= 0.5
