"""Parsing throughput: the sandbox beside the same parsers called in-process.

Used by `appliance bench ingest`; the ratio `sandbox / direct` is the cost of isolation.
"""

from __future__ import annotations

import sysconfig
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from agents.ingest.direct import parse_direct
from agents.ingest.document import ParsedDocument
from agents.ingest.errors import IngestError
from agents.ingest.limits import ParseLimits
from agents.ingest.parsers import preload
from agents.ingest.sandbox import SandboxPool

# Extensions of the document kinds the parsers support, for finding sample files.
SAMPLE_EXTENSIONS = (".pdf", ".html", ".htm", ".md", ".txt", ".json", ".csv", ".eml", ".docx")
SAMPLE_ROOTS = (Path("/usr/share/doc"), Path(sysconfig.get_paths()["purelib"]))

Parse = Callable[[bytes, str], ParsedDocument]


def find_sample_documents(
    limit: int, roots: Iterable[Path] = SAMPLE_ROOTS, max_bytes: int = 5 * 1024 * 1024
) -> list[tuple[str, bytes]]:
    """Up to `limit` real files of mixed kinds, round-robin over extensions so no kind
    dominates; returns (name, content) pairs."""
    by_kind: dict[str, list[Path]] = {ext: [] for ext in SAMPLE_EXTENSIONS}
    for root in roots:
        for path in _walk(root):
            kind = path.suffix.lower()
            if kind in by_kind and len(by_kind[kind]) < limit:
                by_kind[kind].append(path)
    picked: list[tuple[str, bytes]] = []
    queues = [sorted(paths) for paths in by_kind.values() if paths]
    while queues and len(picked) < limit:
        for queue in list(queues):
            if not queue:
                queues.remove(queue)
                continue
            path = queue.pop(0)
            try:
                if 0 < path.stat().st_size <= max_bytes:
                    picked.append((path.name, path.read_bytes()))
            except OSError:
                continue
            if len(picked) >= limit:
                break
    return picked


def compare_throughput(
    documents: list[tuple[str, bytes]],
    pool: SandboxPool,
    limits: ParseLimits | None = None,
) -> dict[str, Any]:
    """Parse every document directly, then in the sandbox (one at a time, then with
    `pool.max_workers` threads); report documents/min, pages/min and the ratios.

    Workers are started before timing: their one-off start is reported on its own.
    """
    limits = limits or ParseLimits()
    preload()  # the in-process side pays its library imports before timing too
    started = time.perf_counter()
    pool.warm_up(limits)
    warm_up_seconds = time.perf_counter() - started
    direct = _run(documents, lambda data, name: parse_direct(data, name, limits), 1)
    sandbox = _run(documents, lambda data, name: pool.parse(data, name, limits), 1)
    parallel = _run(documents, lambda data, name: pool.parse(data, name, limits), pool.max_workers)
    return {
        "documents": len(documents),
        "worker_start_seconds": round(warm_up_seconds, 3),
        "direct": direct,
        "sandbox": sandbox,
        "sandbox_parallel": parallel | {"workers": pool.max_workers},
        "ratio": round(sandbox["documents_per_minute"] / direct["documents_per_minute"], 3),
        "ratio_parallel": round(
            parallel["documents_per_minute"] / direct["documents_per_minute"], 3
        ),
    }


def _run(documents: list[tuple[str, bytes]], parse: Parse, threads: int) -> dict[str, Any]:
    tally = {"parsed": 0, "failed": 0, "pages": 0}
    lock = threading.Lock()
    work = iter(documents)

    def drain() -> None:
        for name, data in _locked(work, lock):
            try:
                pages = len(parse(data, name).pages)
                outcome = "parsed"
            except IngestError:
                pages, outcome = 0, "failed"
            with lock:
                tally[outcome] += 1
                tally["pages"] += pages

    started = time.perf_counter()
    workers = [threading.Thread(target=drain) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = max(time.perf_counter() - started, 1e-9)
    return {
        **tally,
        "seconds": round(seconds, 3),
        "documents_per_minute": round(len(documents) * 60 / seconds, 1),
        "pages_per_minute": round(tally["pages"] * 60 / seconds, 1),
    }


def _locked(
    items: Iterator[tuple[str, bytes]], lock: threading.Lock
) -> Iterator[tuple[str, bytes]]:
    while True:
        with lock:
            item = next(items, None)
        if item is None:
            return
        yield item


def _walk(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path
