"""The storage suite: rows + 384-dim vectors into SQLCipher, then KNN queries via sqlite-vec.

The same workload runs three times in one process, each on a fresh file in a temp dir:
  encrypted    storage.database.Database with a random 256-bit key (the appliance's path)
  unencrypted  the very same code with key=None
  raw_library  a bare sqlcipher3 connection, library defaults, no appliance code
Data and query vectors are generated (deterministically) before any clock starts.
"""

import dataclasses
import hashlib
import json
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import sqlcipher3
import sqlite_vec

from app.services import database_options
from app.settings import Settings
from bench.common import BenchError, percentile_ms, ratio
from storage.connection import DatabaseOptions
from storage.crypto import random_key
from storage.database import Database

DIMENSIONS = 384
K = 10
BATCH_ROWS = 5_000
WARMUP_QUERIES = 5
SEED = 20261123
ROUNDS = 3
AFTER_WRITE_QUERIES = 20
TARGET_RATIO = 1.3
VARIANTS = ("encrypted", "unencrypted", "raw_library")
# looked at only when a ratio misses its target; the default (256 MB) is measured anyway
PROBE_CACHE_MB = (16, 64, 1024)
PROBE_ROUNDS = 2

SCHEMA = (
    "CREATE TABLE docs (id INTEGER PRIMARY KEY, text TEXT NOT NULL, metadata TEXT NOT NULL)",
    f"CREATE VIRTUAL TABLE doc_vectors USING vec0(embedding float[{DIMENSIONS}])",
    "CREATE TABLE touches (n INTEGER NOT NULL)",
)
INSERT_DOC = "INSERT INTO docs (id, text, metadata) VALUES (?, ?, ?)"
INSERT_VECTOR = "INSERT INTO doc_vectors (rowid, embedding) VALUES (?, ?)"
TOUCH = "INSERT INTO touches (n) VALUES (?)"
KNN = f"""
    WITH knn AS (
        SELECT rowid, distance FROM doc_vectors WHERE embedding MATCH ? AND k = {K}
    )
    SELECT docs.id, docs.text, docs.metadata, knn.distance
    FROM knn JOIN docs ON docs.id = knn.rowid
    ORDER BY knn.distance"""


@dataclass(frozen=True)
class Workload:
    docs: list[tuple[int, str, str]]
    vectors: list[tuple[int, bytes]]
    warmup: list[bytes]
    queries: list[bytes]


def _words(rng: np.random.Generator, count: int) -> list[str]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(2, 11, size=count)
    return ["".join(rng.choice(letters, size=int(n))) for n in lengths]


def _unit_vectors(rng: np.random.Generator, count: int) -> list[bytes]:
    matrix = rng.standard_normal((count, DIMENSIONS)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return [sqlite_vec.serialize_float32(row.tolist()) for row in matrix]


def make_workload(rows: int, queries: int) -> Workload:
    """Documents of ~200 characters drawn from a Zipf-like vocabulary, unit vectors."""
    rng = np.random.default_rng(SEED)
    vocabulary = _words(rng, 4_000)
    weights = 1.0 / np.arange(1, len(vocabulary) + 1)
    weights /= weights.sum()
    sources = ["upload", "inbox", "imap", "api", "webhook"]
    docs = []
    for doc_id in range(1, rows + 1):
        picks = rng.choice(len(vocabulary), size=40, p=weights)
        text = " ".join(vocabulary[i] for i in picks)[:200].rsplit(" ", 1)[0]
        metadata = {
            "source": sources[doc_id % len(sources)],
            "page": int(rng.integers(1, 300)),
            "tags": [vocabulary[int(i)] for i in rng.integers(0, 200, size=2)],
        }
        docs.append((doc_id, text, json.dumps(metadata)))
    vectors = list(enumerate(_unit_vectors(rng, rows), start=1))
    probes = _unit_vectors(rng, WARMUP_QUERIES + queries)
    return Workload(docs, vectors, probes[:WARMUP_QUERIES], probes[WARMUP_QUERIES:])


class Target(Protocol):
    def transaction(self) -> AbstractContextManager[Any]: ...
    def reader(self) -> AbstractContextManager[Any]: ...
    def close(self) -> None: ...


class ApplianceTarget:
    """Our code path: Database (single writer, pooled readers, pragmas, deadlines)."""

    def __init__(self, path: Path, key: bytes | None, options: DatabaseOptions) -> None:
        self.db = Database(path, key, options, label=path.name)

    def transaction(self) -> AbstractContextManager[Any]:
        return self.db.write()

    def reader(self) -> AbstractContextManager[Any]:
        return self.db.read()

    def close(self) -> None:
        self.db.close()


class RawTarget:
    """A bare sqlcipher3 connection with the library's defaults; no key, no appliance code."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlcipher3.connect(str(path))
        self.conn.enable_load_extension(True)
        sqlite_vec.load(self.conn)
        self.conn.enable_load_extension(False)

    def transaction(self) -> AbstractContextManager[Any]:
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self.conn:
            yield self.conn

    @contextmanager
    def _same(self) -> Iterator[Any]:
        yield self.conn

    def reader(self) -> AbstractContextManager[Any]:
        return self._same()

    def close(self) -> None:
        self.conn.close()


def _file_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return round(total / (1024 * 1024), 2)


def _knn(target: Target, probe: bytes, expected: int) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    with target.reader() as conn:
        hits = conn.execute(KNN, (probe,)).fetchall()
    elapsed = time.perf_counter() - start
    if len(hits) != expected:
        raise BenchError(f"a KNN query returned {len(hits)} rows, expected {expected}")
    return elapsed, hits


def measure(target: Target, path: Path, work: Workload) -> dict[str, Any]:
    """One round: insert in batches, warm up, time each KNN query, then queries after writes."""
    expected = min(K, len(work.docs))
    try:
        with target.transaction() as conn:
            for statement in SCHEMA:
                conn.execute(statement)
        cpu, start = time.process_time(), time.perf_counter()
        for first in range(0, len(work.docs), BATCH_ROWS):
            with target.transaction() as conn:
                conn.executemany(INSERT_DOC, work.docs[first : first + BATCH_ROWS])
                conn.executemany(INSERT_VECTOR, work.vectors[first : first + BATCH_ROWS])
        insert_s, insert_cpu_s = time.perf_counter() - start, time.process_time() - cpu
        warmup_s = [_knn(target, probe, expected)[0] for probe in work.warmup]
        query_s: list[float] = []
        answers = hashlib.sha256()
        cpu = time.process_time()
        for probe in work.queries:
            elapsed, hits = _knn(target, probe, expected)
            query_s.append(elapsed)
            answers.update(repr([hit[0] for hit in hits]).encode())
        query_cpu_s = time.process_time() - cpu
        # a committed write by the writer makes every reader drop its page cache
        after_write_s: list[float] = []
        for n, probe in enumerate(work.queries[:AFTER_WRITE_QUERIES]):
            with target.transaction() as conn:
                conn.execute(TOUCH, (n,))
            after_write_s.append(_knn(target, probe, expected)[0])
    finally:
        target.close()
    with path.open("rb") as handle:
        header = handle.read(16)
    return {
        "insert_seconds": insert_s,
        "insert_cpu_seconds": insert_cpu_s,
        "rows_per_second": len(work.docs) / insert_s,
        "query_p50_ms": percentile_ms(query_s, 50),
        "query_p95_ms": percentile_ms(query_s, 95),
        "query_mean_ms": sum(query_s) / len(query_s) * 1000,
        "query_total_seconds": sum(query_s),
        "query_cpu_seconds": query_cpu_s,
        "queries_per_second": len(query_s) / sum(query_s),
        "first_query_ms": warmup_s[0] * 1000,
        "query_after_write_p50_ms": percentile_ms(after_write_s, 50),
        "file_mb": _file_mb(path),
        "plain_sqlite_header": header.startswith(b"SQLite format 3"),
        "answers_sha256": answers.hexdigest(),
    }


def _summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each figure over the rounds, plus the per-round insert and query times."""
    summary: dict[str, Any] = {}
    for name, first in rounds[0].items():
        values = [r[name] for r in rounds]
        if isinstance(first, bool):
            summary[name] = all(values)
        elif isinstance(first, str):
            summary[name] = first if len(set(values)) == 1 else "differs between rounds"
        else:
            middle = statistics.median(values)
            summary[name] = round(middle, 4) if middle < 100 else round(middle, 1)
    for name in ("insert_seconds", "query_total_seconds"):
        summary[name + "_rounds"] = [round(r[name], 4) for r in rounds]
    return summary


def _compare(measured: dict[str, Any], reference: dict[str, Any]) -> dict[str, float | None]:
    return {
        "insert_time": ratio(measured["insert_seconds"], reference["insert_seconds"]),
        "insert_cpu_time": ratio(measured["insert_cpu_seconds"], reference["insert_cpu_seconds"]),
        "query_time": ratio(measured["query_total_seconds"], reference["query_total_seconds"]),
        "query_cpu_time": ratio(measured["query_cpu_seconds"], reference["query_cpu_seconds"]),
        "query_p50": ratio(measured["query_p50_ms"], reference["query_p50_ms"]),
        "query_p95": ratio(measured["query_p95_ms"], reference["query_p95_ms"]),
        "first_query": ratio(measured["first_query_ms"], reference["first_query_ms"]),
        "query_after_write_p50": ratio(
            measured["query_after_write_p50_ms"], reference["query_after_write_p50_ms"]
        ),
    }


def _target(name: str, path: Path, options: DatabaseOptions) -> Target:
    if name == "encrypted":
        return ApplianceTarget(path, random_key(), options)
    if name == "unencrypted":
        return ApplianceTarget(path, None, options)
    return RawTarget(path)


def run_variants(
    work: Workload, options: DatabaseOptions, variants: Sequence[str], rounds: int
) -> dict[str, dict[str, Any]]:
    """Each round runs every variant on a fresh file; the order rotates between rounds."""
    measured: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="appliance-bench-") as tmp:
        for n in range(rounds):
            order = list(variants[n % len(variants) :]) + list(variants[: n % len(variants)])
            for name in order:
                path = Path(tmp) / f"{name}-{n}.db"
                measured[name].append(measure(_target(name, path, options), path, work))
    return {name: _summarise(results) for name, results in measured.items()}


def _met(ratios: dict[str, float | None]) -> dict[str, bool]:
    return {
        "insert_time_ratio": (ratios["insert_time"] or float("inf")) <= TARGET_RATIO,
        "query_time_ratio": (ratios["query_time"] or float("inf")) <= TARGET_RATIO,
    }


def cache_size_probe(work: Workload, options: DatabaseOptions) -> list[dict[str, Any]]:
    """Encrypted vs unencrypted again at other cache sizes, to see whether the cache helps."""
    probes = []
    for mib in PROBE_CACHE_MB:
        sized = dataclasses.replace(options, cache_size_kib=mib * 1024)
        pair = run_variants(work, sized, ("encrypted", "unencrypted"), PROBE_ROUNDS)
        ratios = _compare(pair["encrypted"], pair["unencrypted"])
        probes.append(
            {
                "cache_size_mb": mib,
                "encrypted_insert_seconds": pair["encrypted"]["insert_seconds"],
                "unencrypted_insert_seconds": pair["unencrypted"]["insert_seconds"],
                "encrypted_query_p50_ms": pair["encrypted"]["query_p50_ms"],
                "unencrypted_query_p50_ms": pair["unencrypted"]["query_p50_ms"],
                "ratios": ratios,
                "met": _met(ratios),
            }
        )
    return probes


def run_storage(settings: Settings, rows: int, queries: int) -> dict[str, Any]:
    options = dataclasses.replace(database_options(settings), load_vec=True)
    work = make_workload(rows, queries)
    results: dict[str, Any] = run_variants(work, options, VARIANTS, ROUNDS)
    enc, plain, raw = results["encrypted"], results["unencrypted"], results["raw_library"]
    ratios = {
        "encrypted_vs_unencrypted": _compare(enc, plain),
        "unencrypted_vs_raw_library": _compare(plain, raw),
        "encrypted_vs_raw_library": _compare(enc, raw),
    }
    met = _met(ratios["encrypted_vs_unencrypted"])
    results["ratios"] = ratios
    results["identical_answers"] = len({r["answers_sha256"] for r in (enc, plain, raw)}) == 1
    if not all(met.values()):
        results["cache_size_probe"] = cache_size_probe(work, options)
    return {
        "parameters": {
            "rows": rows,
            "queries": queries,
            "k": K,
            "dimensions": DIMENSIONS,
            "batch_rows": BATCH_ROWS,
            "warmup_queries": WARMUP_QUERIES,
            "after_write_queries": min(AFTER_WRITE_QUERIES, queries),
            "rounds": ROUNDS,
            "seed": SEED,
            "appliance_options": dataclasses.asdict(options),
            "raw_library": "sqlcipher3.connect(path), library defaults, sqlite-vec loaded",
        },
        "results": results,
        "targets": {
            "insert_time_ratio_max": TARGET_RATIO,
            "query_time_ratio_max": TARGET_RATIO,
        },
        "met": met,
    }
