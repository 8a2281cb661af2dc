"""Parsing throughput: the sandbox beside the same parsers called in-process.

Used by `appliance bench ingest`; the ratio `sandbox / direct` is the cost of isolation.
"""

from __future__ import annotations

import hashlib
import sysconfig
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from agents.ingest.direct import parse_direct
from agents.ingest.document import ParsedDocument
from agents.ingest.errors import IngestError
from agents.ingest.formats import HEAD_BYTES, SUPPORTED_FORMATS, detect_format
from agents.ingest.limits import ParseLimits
from agents.ingest.parsers import preload
from agents.ingest.sandbox import SandboxPool

# Extensions of the document kinds the parsers support, for finding sample files; the
# kind a file counts as is then detected from its content (a mail saved as .txt is mail).
SAMPLE_EXTENSIONS = (
    ".pdf",
    ".html",
    ".htm",
    ".md",
    ".txt",
    ".json",
    ".csv",
    ".eml",
    ".docx",
    ".xlsx",
)
SAMPLE_ROOTS = (
    Path("/usr/share/doc"),
    Path(sysconfig.get_paths()["purelib"]),
    # real messages (multipart, attachments, digests) that ship with Python's test suite
    Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data",
)

Parse = Callable[[bytes, str], ParsedDocument]


def find_sample_documents(
    limit: int, roots: Iterable[Path] = SAMPLE_ROOTS, max_bytes: int = 5 * 1024 * 1024
) -> list[tuple[str, bytes]]:
    """Up to `limit` distinct real files, round-robin over their detected formats so no
    kind dominates; returns (name, content) pairs. Identical contents are taken once
    (the appliance would not parse a duplicate, the direct parsers would)."""
    candidates: list[Path] = []
    for root in roots:
        by_extension: dict[str, list[Path]] = {ext: [] for ext in SAMPLE_EXTENSIONS}
        for path in _walk(root):
            kind = path.suffix.lower()
            if kind in by_extension and len(by_extension[kind]) < limit:
                by_extension[kind].append(path)
        candidates += [path for paths in by_extension.values() for path in paths]
    by_format: dict[str, list[tuple[str, bytes]]] = {}
    seen: set[str] = set()
    for path in sorted(candidates):
        try:
            if not 0 < path.stat().st_size <= max_bytes:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        digest = hashlib.sha256(data).hexdigest()
        kind = detect_format(data[:HEAD_BYTES], path.name)
        if digest in seen or kind not in SUPPORTED_FORMATS:
            continue
        seen.add(digest)
        by_format.setdefault(kind, []).append((path.name, data))
    picked: list[tuple[str, bytes]] = []
    queues = [by_format[kind] for kind in sorted(by_format)]
    while queues and len(picked) < limit:
        for queue in list(queues):
            if not queue:
                queues.remove(queue)
                continue
            picked.append(queue.pop(0))
            if len(picked) >= limit:
                break
    return picked


def sample_kinds(documents: Iterable[tuple[str, bytes]]) -> dict[str, int]:
    """How many of the documents are of each detected format."""
    kinds = Counter(detect_format(data[:HEAD_BYTES], name) for name, data in documents)
    return dict(sorted(kinds.items()))


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
