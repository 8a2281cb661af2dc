"""The ingest suite: real documents through the whole ingestion path vs the bare parsers.

The appliance side is `IngestService.receive_many` (what `appliance ingest` runs) on an
encrypted tenant of a fresh data directory: hash, encrypted original, ledger rows,
sandboxed parse, text stored, index task queued, several documents in flight. The
reference parses the same bytes with the same parsers (`parse_direct`), in the same run:
in this process against one parser process, and in N processes against N parser
processes. Also reported: the appliance taking one document at a time (`receive`).
Parser workers are started before timing.
"""

import functools
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import msgspec

from agents.ingest.bench import find_sample_documents
from agents.ingest.direct import parse_direct
from agents.ingest.errors import IngestError
from agents.ingest.parsers import preload
from agents.ingest.service import Arrival, ReceiveResult
from app.bench.common import BenchError
from app.initialise import initialise
from app.queue import QueueRunner, build_huey
from app.services import open_services
from app.settings import Settings
from app.tasks import parse_limits, parse_limits_of, register_tasks

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


def _appliance(
    settings: Settings,
    samples: list[tuple[str, bytes]],
    scratch: Path,
    parse_workers: int,
    one_at_a_time: bool,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The appliance on a fresh encrypted tenant with `parse_workers` parser processes:
    a batch as `appliance ingest` takes it, and (optionally) one document at a time."""
    raw = msgspec.to_builtins(settings)
    raw["storage"]["data_dir"] = str(scratch / f"data-{parse_workers}")
    raw["ingest"]["parse_workers"] = parse_workers
    local = msgspec.convert(raw, Settings)
    initialise(local, "admin", "bench-admin-password", demo=True, passphrase=None)
    services = open_services(local, None)
    try:
        tenant = services.system.find_tenant("demo")
        queue = QueueRunner(build_huey(services.data, services.master), local)
        ingest = register_tasks(queue, services)
        services.extras["sandbox_pool"].warm_up(parse_limits(services))
        single = None
        if one_at_a_time:
            started = time.perf_counter()
            outcomes = [
                _outcome(
                    ingest.receive(tenant.id, data, filename=name, source="bench", parse_now=True)
                )
                for name, data in samples
            ]
            single = _summary(outcomes, time.perf_counter() - started)
            # the same documents again would be duplicates: the batch gets its own copies
            samples = [(name, data + b"\n") for name, data in samples]
        arrivals = [
            Arrival(
                filename=name,
                source="bench-batch",
                read=functools.partial(bytes, data),
                size=len(data),
            )
            for name, data in samples
        ]
        cpu_started = time.process_time()
        started = time.perf_counter()
        batch = [
            _outcome(result) if not isinstance(result, Exception) else (0, 1)
            for _, result in ingest.receive_many(tenant.id, arrivals)
        ]
        batched = _summary(batch, time.perf_counter() - started) | {
            "parse_workers": parse_workers,
            "in_flight": ingest.batch_in_flight,
            # this process (ledger, encryption, commits, pipes; not the parsers) per document
            "main_process_cpu_ms_per_document": round(
                (time.process_time() - cpu_started) * 1000 / max(1, len(batch)), 2
            ),
        }
        queue.huey.storage.close()
    finally:
        services.close()
    return batched, single


def _outcome(result: ReceiveResult) -> tuple[int, int]:
    failed = int(result.document.state in ("failed", "unsupported"))
    return result.document.pages or 0, failed


def _summary(outcomes: list[tuple[int, int]], seconds: float) -> dict[str, Any]:
    pages = sum(o[0] for o in outcomes)
    return _rates(len(outcomes), pages, sum(o[1] for o in outcomes), seconds)


def run_ingest(settings: Settings, documents: int = 200) -> dict[str, Any]:
    samples = find_sample_documents(documents)
    if len(samples) < 10:
        raise BenchError("fewer than 10 sample documents found under /usr/share/doc")
    workers = max(2, settings.ingest.parse_workers)
    with tempfile.TemporaryDirectory(prefix="appliance-bench-") as scratch:
        limits = parse_limits_of(settings)
        preload()  # the in-process parsers pay their library imports before timing too
        direct = _direct(samples, limits)
        # like with like: one parser process against the parsers in one process, then as
        # many parser processes as direct processes
        batch_one, single = _appliance(settings, samples, Path(scratch), 1, one_at_a_time=True)
        batch_many, _ = _appliance(settings, samples, Path(scratch), workers, one_at_a_time=False)
        direct_parallel = _direct_parallel(samples, limits, workers)
    assert single is not None
    ratio = round(batch_one["documents_per_minute"] / direct["documents_per_minute"], 3)
    ratio_single = round(single["documents_per_minute"] / direct["documents_per_minute"], 3)
    ratio_parallel = round(
        batch_many["documents_per_minute"] / direct_parallel["documents_per_minute"], 3
    )
    return {
        "results": {
            "appliance_ingest": batch_one,
            "appliance_ingest_one_at_a_time": single,
            "appliance_ingest_parallel": batch_many,
            "direct_parsers": direct,
            "direct_parsers_parallel": direct_parallel | {"processes": workers},
            "ratio_documents_per_minute": ratio,
            "ratio_documents_per_minute_one_at_a_time": ratio_single,
            "ratio_documents_per_minute_parallel": ratio_parallel,
            "note": "appliance = ledger + encrypted original + sandboxed parse + stored text",
            "note_parallel": (
                "informational: the ledger work of this process (main_process_cpu_ms_per_"
                "document) competes with the parser processes for the cores, which the "
                "direct processes spend on parsing alone"
            ),
        },
        "targets": {"ratio_documents_per_minute": f">= {TARGET_RATIO}"},
        "met": {"ratio_documents_per_minute": ratio >= TARGET_RATIO},
    }
