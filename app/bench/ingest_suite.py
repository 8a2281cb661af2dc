"""The ingest suite: real documents through the whole ingestion path vs the bare parsers.

The appliance side is `IngestService.receive(..., parse_now=True)` on an encrypted tenant
of a fresh data directory: hash, encrypted original, ledger rows, sandboxed parse, text
stored, index task queued. The reference parses the same bytes in-process with the same
parsers (`parse_direct`), in the same run. Parser workers are started before timing.
"""

import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec

from agents.ingest.bench import find_sample_documents
from agents.ingest.direct import parse_direct
from agents.ingest.errors import IngestError
from app.bench.common import BenchError
from app.initialise import initialise
from app.queue import QueueRunner, build_huey
from app.services import open_services
from app.settings import Settings
from app.tasks import parse_limits, register_tasks

TARGET_RATIO = 0.85


def _direct(documents: list[tuple[str, bytes]], limits: Any) -> dict[str, Any]:
    pages = failed = 0
    started = time.perf_counter()
    for name, data in documents:
        try:
            pages += len(parse_direct(data, name, limits).pages)
        except IngestError:
            failed += 1
    return _rates(len(documents), pages, failed, time.perf_counter() - started)


def _direct_one(item: tuple[str, bytes], limits: Any) -> tuple[int, int]:
    name, data = item
    try:
        return len(parse_direct(data, name, limits).pages), 0
    except IngestError:
        return 0, 1


def _direct_parallel(
    documents: list[tuple[str, bytes]], limits: Any, workers: int
) -> dict[str, Any]:
    """The parsers in `workers` processes (threads would share one GIL), started first."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_direct_one, documents[:workers], [limits] * workers))
        started = time.perf_counter()
        outcomes = list(pool.map(_direct_one, documents, [limits] * len(documents)))
        seconds = time.perf_counter() - started
    pages = sum(o[0] for o in outcomes)
    return _rates(len(documents), pages, sum(o[1] for o in outcomes), seconds)


def _rates(count: int, pages: int, failed: int, seconds: float) -> dict[str, Any]:
    seconds = max(seconds, 1e-9)
    return {
        "documents": count,
        "failed": failed,
        "pages": pages,
        "seconds": round(seconds, 3),
        "documents_per_minute": round(count * 60 / seconds, 1),
        "pages_per_minute": round(pages * 60 / seconds, 1),
    }


def run_ingest(settings: Settings, documents: int = 200) -> dict[str, Any]:
    samples = find_sample_documents(documents)
    if len(samples) < 10:
        raise BenchError("fewer than 10 sample documents found under /usr/share/doc")
    with tempfile.TemporaryDirectory(prefix="appliance-bench-") as scratch:
        raw = msgspec.to_builtins(settings)
        raw["storage"]["data_dir"] = str(Path(scratch) / "data")
        local = msgspec.convert(raw, Settings)
        initialise(local, "admin", "bench-admin-password", demo=True, passphrase=None)
        services = open_services(local, None)
        try:
            tenant = services.system.find_tenant("demo")
            queue = QueueRunner(build_huey(services.data, services.master), local)
            ingest = register_tasks(queue, services)
            limits = parse_limits(services)
            services.extras["sandbox_pool"].warm_up(limits)
            direct = _direct(samples, limits)

            def one(item: tuple[str, bytes], source: str) -> tuple[int, int]:
                name, data = item
                result = ingest.receive(
                    tenant.id, data, filename=name, source=source, parse_now=True
                )
                failed = int(result.document.state in ("failed", "unsupported"))
                return result.document.pages or 0, failed

            def timed(workers: int, source: str, items: list[tuple[str, bytes]]) -> dict[str, Any]:
                started = time.perf_counter()
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    outcomes = list(pool.map(lambda item: one(item, source), items))
                seconds = time.perf_counter() - started
                return _rates(
                    len(items), sum(o[0] for o in outcomes), sum(o[1] for o in outcomes), seconds
                )

            appliance = timed(1, "bench", samples)
            # the same documents again would be duplicates: give the parallel run its own copies
            copies = [(name, data + b"\n") for name, data in samples]
            workers = local.queue.workers
            appliance_parallel = timed(workers, "bench-parallel", copies)
            direct_parallel = _direct_parallel(samples, limits, workers)
            queue.huey.storage.close()
        finally:
            services.close()
    ratio = round(appliance["documents_per_minute"] / direct["documents_per_minute"], 3)
    # like with like: the appliance's queue workers against as many parser processes
    ratio_parallel = round(
        appliance_parallel["documents_per_minute"] / direct_parallel["documents_per_minute"], 3
    )
    return {
        "results": {
            "appliance_ingest": appliance,
            "appliance_ingest_parallel": appliance_parallel | {"workers": workers},
            "direct_parsers": direct,
            "direct_parsers_parallel": direct_parallel | {"processes": workers},
            "ratio_documents_per_minute": ratio,
            "ratio_documents_per_minute_parallel": ratio_parallel,
            "note": "appliance = ledger + encrypted original + sandboxed parse + stored text",
        },
        "targets": {
            "ratio_documents_per_minute": f">= {TARGET_RATIO}",
            "ratio_documents_per_minute_parallel": f">= {TARGET_RATIO}",
        },
        "met": {
            "ratio_documents_per_minute": ratio >= TARGET_RATIO,
            "ratio_documents_per_minute_parallel": ratio_parallel >= TARGET_RATIO,
        },
    }
