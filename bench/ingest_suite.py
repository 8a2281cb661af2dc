"""The ingest suite: real documents through the whole ingestion path vs the bare parsers.

The appliance side is `IngestService.receive_many` (what `appliance ingest` runs) on an
encrypted tenant of a fresh data directory: hash, encrypted original, ledger rows,
sandboxed parse, text stored, index task queued, several documents in flight. The
reference parses the same bytes with the same parsers (`parse_direct`), in the same run:
in this process against one parser process, and in N processes against N parser
processes. Also reported: the appliance taking one document at a time (`receive`).

This machine's CPU speed drifts by a quarter within seconds (the same parse of the same
PDF took 0.78 to 1.30 s of CPU time in eight runs in a row), so one long pass of each
side compares two different machines. Both sides first make one untimed pass (parsers
warm, libraries loaded); then the samples are cut into `slices` slices of ~40 documents
and both sides take each slice in turn, alternating which goes first, `rounds` times
over. The figures are sums over all those passes, so each side parsed the same
documents equally often at the same moments. Every pass of the appliance goes into a
tenant of its own, so no document is a duplicate.
"""

import functools
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from agents.ingest.errors import IngestError
from agents.ingest.sandbox.direct import parse_direct
from agents.ingest.sandbox.limits import ParseLimits
from agents.ingest.sandbox.parsers import preload
from agents.ingest.service import Arrival, IngestService, ReceiveResult
from app.initialise import initialise
from app.runtime import build_runtime, parse_limits_of
from app.services import Services, open_services
from app.settings import Settings
from bench.common import BenchError
from bench.ingest_corpus import find_sample_documents, sample_kinds

TARGET_RATIO = 0.85
ROUNDS = 5
SLICES = 5
Samples = list[tuple[str, bytes]]


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


def _direct_one(item: tuple[str, bytes], limits: ParseLimits) -> tuple[int, int]:
    name, data = item
    try:
        return len(parse_direct(data, name, limits).pages), 0
    except IngestError:
        return 0, 1


def _direct(samples: Samples, limits: ParseLimits) -> dict[str, Any]:
    """The parsers in this process, one document after the other."""
    started = time.perf_counter()
    outcomes = [_direct_one(item, limits) for item in samples]
    seconds = time.perf_counter() - started
    return _rates(len(samples), sum(o[0] for o in outcomes), sum(o[1] for o in outcomes), seconds)


def _direct_processes(samples: Samples, limits: ParseLimits, pool: ProcessPoolExecutor) -> Any:
    """The parsers in the processes of `pool` (threads would share one GIL)."""
    started = time.perf_counter()
    outcomes = list(pool.map(_direct_one, samples, [limits] * len(samples)))
    seconds = time.perf_counter() - started
    return _rates(len(samples), sum(o[0] for o in outcomes), sum(o[1] for o in outcomes), seconds)


class _Appliance:
    """One fresh encrypted data directory with `parse_workers` warm parser processes."""

    def __init__(self, services: Services, ingest: IngestService, parse_workers: int) -> None:
        self.services = services
        self.ingest = ingest
        self.parse_workers = parse_workers
        self._tenants = 0

    def _tenant(self) -> str:
        self._tenants += 1
        return self.services.tenants.create(f"pass-{self._tenants}").id

    def batch(self, samples: Samples) -> dict[str, Any]:
        """The samples as one batch, as `appliance ingest` takes them."""
        tenant_id = self._tenant()
        arrivals = [
            Arrival(
                filename=name, source="bench", read=functools.partial(bytes, data), size=len(data)
            )
            for name, data in samples
        ]
        cpu_started = time.process_time()
        started = time.perf_counter()
        outcomes = [
            _outcome(result) if isinstance(result, ReceiveResult) else (0, 1)
            for _, result in self.ingest.receive_many(tenant_id, arrivals)
        ]
        seconds = time.perf_counter() - started
        cpu_ms = (time.process_time() - cpu_started) * 1000
        return _summary(outcomes, seconds) | {
            "parse_workers": self.parse_workers,
            "in_flight": self.ingest.batch_in_flight,
            # this process (ledger, encryption, commits, pipes; not the parsers) per document
            "main_process_cpu_ms_per_document": round(cpu_ms / max(1, len(outcomes)), 2),
        }

    def one_at_a_time(self, samples: Samples) -> dict[str, Any]:
        """Each sample received and parsed before the next one arrives."""
        tenant_id = self._tenant()
        started = time.perf_counter()
        outcomes = [
            _outcome(
                self.ingest.receive(tenant_id, data, filename=name, source="bench", parse_now=True)
            )
            for name, data in samples
        ]
        return _summary(outcomes, time.perf_counter() - started)


@contextmanager
def _appliance(settings: Settings, scratch: Path, parse_workers: int) -> Iterator[_Appliance]:
    raw = msgspec.to_builtins(settings)
    raw["storage"]["data_dir"] = str(scratch / f"data-{parse_workers}")
    raw["ingest"]["parse_workers"] = parse_workers
    local = msgspec.convert(raw, Settings)
    initialise(local, "admin", "bench-admin-password", demo=False, passphrase=None)
    services = open_services(local, None)
    try:
        runtime = build_runtime(services)
        runtime.sandbox.warm_up(parse_limits_of(local))
        yield _Appliance(services, runtime.ingest, parse_workers)
        runtime.queue.huey.storage.close()
    finally:
        services.close()


def _outcome(result: ReceiveResult) -> tuple[int, int]:
    failed = int(result.document.state in ("failed", "unsupported"))
    return result.document.pages or 0, failed


def _summary(outcomes: list[tuple[int, int]], seconds: float) -> dict[str, Any]:
    pages = sum(o[0] for o in outcomes)
    return _rates(len(outcomes), pages, sum(o[1] for o in outcomes), seconds)


def _paired(
    samples: Samples,
    rounds: int,
    slices: int,
    appliance: Callable[[Samples], dict[str, Any]],
    reference: Callable[[Samples], dict[str, Any]],
) -> dict[str, Any]:
    """Both sides on the same slices of the samples, alternating (ABBA), `rounds` times.

    An untimed pass of each side over all samples comes first. The figures are the sums
    over every slice of every round: each side parsed every sample `rounds` times."""
    appliance(samples)
    reference(samples)
    size = -(-len(samples) // max(1, slices))
    parts = [samples[start : start + size] for start in range(0, len(samples), size)]
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    for number in range(rounds * len(parts)):
        part = parts[number % len(parts)]
        if number % 2 == 0:
            ours.append(appliance(part))
            theirs.append(reference(part))
        else:
            theirs.append(reference(part))
            ours.append(appliance(part))
    pair_ratios = [t["seconds"] / o["seconds"] for o, t in zip(ours, theirs, strict=True)]
    mine, other = _total(ours), _total(theirs)
    return {
        "appliance": mine | {k: v for k, v in ours[0].items() if k not in mine},
        "reference": other,
        "ratio": round(mine["documents_per_minute"] / other["documents_per_minute"], 3),
        "pairs": len(pair_ratios),
        "pair_ratio_range": [round(min(pair_ratios), 3), round(max(pair_ratios), 3)],
    }


def _total(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure for several passes: their documents, pages and seconds added up."""
    totals = _rates(
        sum(p["documents"] for p in passes),
        sum(p["pages"] for p in passes),
        sum(p["failed"] for p in passes),
        sum(p["seconds"] for p in passes),
    )
    if "main_process_cpu_ms_per_document" in passes[0]:
        cpu = sum(p["main_process_cpu_ms_per_document"] * p["documents"] for p in passes)
        totals["main_process_cpu_ms_per_document"] = round(cpu / totals["documents"], 2)
    return totals


def run_ingest(
    settings: Settings, documents: int = 200, rounds: int = ROUNDS, slices: int = SLICES
) -> dict[str, Any]:
    samples = find_sample_documents(documents)
    if len(samples) < 10:
        raise BenchError("fewer than 10 sample documents found under /usr/share/doc")
    rounds = max(1, rounds)
    workers = max(2, settings.ingest.parse_workers)
    limits = parse_limits_of(settings)
    preload()  # the in-process parsers pay their library imports before timing too

    def direct(part: Samples) -> dict[str, Any]:
        return _direct(part, limits)

    with tempfile.TemporaryDirectory(prefix="appliance-bench-") as scratch:
        # like with like: one parser process against the parsers in this one process ...
        with _appliance(settings, Path(scratch), 1) as one:
            single = _paired(samples, rounds, slices, one.batch, direct)
            one_at_a_time = _paired(samples, 1, slices, one.one_at_a_time, direct)
        # ... and as many parser processes as direct processes
        with (
            _appliance(settings, Path(scratch), workers) as many,
            ProcessPoolExecutor(max_workers=workers) as processes,
        ):
            parallel = _paired(
                samples,
                1,
                slices,
                many.batch,
                lambda part: _direct_processes(part, limits, processes),
            )
    return {
        "parameters": {
            "documents": len(samples),
            "kinds": sample_kinds(samples),
            "rounds": rounds,
            "slices": slices,
            "parallel_processes": workers,
        },
        "results": {
            "appliance_ingest": single["appliance"],
            "direct_parsers": single["reference"],
            "ratio_documents_per_minute": single["ratio"],
            "pair_ratio_range": single["pair_ratio_range"],
            "appliance_ingest_one_at_a_time": one_at_a_time["appliance"],
            "direct_parsers_beside_one_at_a_time": one_at_a_time["reference"],
            "ratio_documents_per_minute_one_at_a_time": one_at_a_time["ratio"],
            "appliance_ingest_parallel": parallel["appliance"],
            "direct_parsers_parallel": parallel["reference"] | {"processes": workers},
            "ratio_documents_per_minute_parallel": parallel["ratio"],
            "note": "appliance = ledger + encrypted original + sandboxed parse + stored text",
            "note_parallel": (
                "informational: the ledger work of this process (main_process_cpu_ms_per_"
                "document) competes with the parser processes for the cores, which the "
                "direct processes spend on parsing alone"
            ),
        },
        "targets": {"ratio_documents_per_minute": f">= {TARGET_RATIO}"},
        "met": {"ratio_documents_per_minute": single["ratio"] >= TARGET_RATIO},
    }
