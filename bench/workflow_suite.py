"""The workflow suite: a trivial workflow (manual trigger, one `set` step) run 2,000 times
through the engine with the server's default queue workers, beside bare Huey executing
the same number of no-op tasks on the same encrypted SQLite queue (EncryptedHuey) in the
same run, in paired rounds of alternating order. Reports executions/s and p50/p95
trigger-to-finished latency of both, their ratio, and a 5-step chain's per-step overhead.
"""

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from agents.supervisor.service import Supervisor
from agents.supervisor.steps.control_steps import SetStep
from app.initialise import initialise
from app.queue import QueueRunner, build_huey
from app.services import open_services
from app.settings import Settings
from app.workflow_wiring import wire_supervisor
from bench.common import BenchError, percentile_ms, ratio

RUNS = 2000
ROUNDS = 4
CHAIN_RUNS = 40
# runs (and bare tasks) are started from this many threads, as concurrent API clients would
CLIENTS = 4
N8N_EXECUTIONS_PER_S = 220.0  # n8n's published figure, one 2-vCPU instance
TRIVIAL = "name: trivial\nsteps:\n  - {id: a, agent: set, with: {v: 1}}\n"
CHAIN = "name: chain\nsteps:\n" + "".join(
    f"  - {{id: s{i}, agent: set, with: {{v: {i}}}{', needs: s' + str(i - 1) if i else ''}}}\n"
    for i in range(5)
)


@dataclass
class Side:
    started: list[float]
    finished: list[float]

    def figures(self) -> dict[str, Any]:
        span = max(self.finished) - min(self.started)
        latencies = [f - s for s, f in zip(self.started, self.finished, strict=True)]
        return {
            "executions": len(self.finished),
            "executions_per_s": round(len(self.finished) / span, 1) if span > 0 else None,
            "latency_p50_ms": percentile_ms(latencies, 50),
            "latency_p95_ms": percentile_ms(latencies, 95),
        }


class _BareHuey:
    """A no-op task on the same Huey; records when each one ran."""

    def __init__(self, queue: QueueRunner) -> None:
        self.done: dict[int, float] = {}
        self.lock = threading.Lock()
        self.all_done = threading.Event()
        self.expected = 0

        def noop(number: int) -> None:
            with self.lock:
                self.done[number] = time.time()
                if len(self.done) >= self.expected:
                    self.all_done.set()

        self.task = queue.huey.task(retries=0, name="bench.noop")(noop)

    def round(self, count: int) -> Side:
        with self.lock:
            self.done.clear()
            self.expected = count
            self.all_done.clear()
        started = [0.0] * count

        def enqueue(number: int) -> None:
            started[number] = time.time()
            self.task(number)

        with ThreadPoolExecutor(CLIENTS) as clients:
            list(clients.map(enqueue, range(count)))
        if not self.all_done.wait(600):
            raise BenchError("bare Huey tasks did not finish in 10 minutes")
        return Side(started, [self.done[n] for n in range(count)])


def _engine_round(supervisor: Supervisor, tenant_id: str, workflow: str, count: int) -> Side:
    with ThreadPoolExecutor(CLIENTS) as clients:
        run_ids = list(clients.map(lambda _: supervisor.run(tenant_id, workflow), range(count)))
    db = supervisor.engine.db(tenant_id)
    deadline = time.monotonic() + 600
    marks = ",".join("?" for _ in run_ids)
    while True:
        with db.read() as conn:
            rows = conn.execute(
                f"SELECT id, queued_at, finished_at FROM runs WHERE id IN ({marks}) "
                "AND status = 'succeeded'",
                run_ids,
            ).fetchall()
        if len(rows) == count:
            break
        if time.monotonic() > deadline:
            raise BenchError(f"only {len(rows)} of {count} runs finished in 10 minutes")
        time.sleep(0.05)
    return Side([r[1] for r in rows], [r[2] for r in rows])


def _merge(sides: list[Side]) -> Side:
    # rounds are separated in time; throughput is the sum of counts over the sum of spans
    started: list[float] = []
    finished: list[float] = []
    offset = 0.0
    for side in sides:
        base = min(side.started)
        started += [s - base + offset for s in side.started]
        finished += [f - base + offset for f in side.finished]
        offset = max(finished)
    return Side(started, finished)


def run_workflow(settings: Settings, runs: int = RUNS) -> dict[str, Any]:
    """Measure engine and bare Huey in paired rounds; returns results, targets, met."""
    with tempfile.TemporaryDirectory(prefix="bench-workflow-") as scratch:
        data = Path(scratch) / "data"
        storage = msgspec.structs.replace(settings.storage, data_dir=str(data))
        settings = msgspec.structs.replace(settings, storage=storage)
        initialise(settings, "admin", "bench password 1234567", demo=False, passphrase=None)
        services = open_services(settings, None)
        queue = QueueRunner(build_huey(services.data, services.master), settings)
        try:
            supervisor = wire_supervisor(queue, services, [SetStep()])
            bare = _BareHuey(queue)
            tenant_id = services.tenants.create("bench").id
            supervisor.create(tenant_id, TRIVIAL)
            supervisor.create(tenant_id, CHAIN)
            queue.start()
            # warm both paths (connections, compiled templates, page cache)
            _engine_round(supervisor, tenant_id, "trivial", 20)
            bare.round(20)
            per_round = max(1, runs // ROUNDS)
            engine_sides, bare_sides = [], []
            for index in range(ROUNDS):
                order = ("engine", "bare") if index % 2 == 0 else ("bare", "engine")
                for side in order:
                    if side == "engine":
                        engine_sides.append(
                            _engine_round(supervisor, tenant_id, "trivial", per_round)
                        )
                    else:
                        bare_sides.append(bare.round(per_round))
            engine = _merge(engine_sides).figures()
            huey = _merge(bare_sides).figures()
            single = [_engine_round(supervisor, tenant_id, "trivial", 1) for _ in range(CHAIN_RUNS)]
            chain = [_engine_round(supervisor, tenant_id, "chain", 1) for _ in range(CHAIN_RUNS)]
        finally:
            queue.stop()
            services.close()
    single_ms = percentile_ms([s.finished[0] - s.started[0] for s in single], 50)
    chain_ms = percentile_ms([c.finished[0] - c.started[0] for c in chain], 50)
    throughput_ratio = ratio(engine["executions_per_s"] or 0, huey["executions_per_s"] or 0)
    results = {
        "engine": engine,
        "bare_huey": huey,
        "engine_vs_bare_huey_throughput": throughput_ratio,
        "n8n_published_executions_per_s": N8N_EXECUTIONS_PER_S,
        "engine_vs_n8n": ratio(engine["executions_per_s"] or 0, N8N_EXECUTIONS_PER_S),
        "one_step_run_p50_ms": single_ms,
        "five_step_chain_run_p50_ms": chain_ms,
        "per_step_overhead_ms": round((chain_ms - single_ms) / 4, 3),
        "workers": settings.queue.workers,
        "client_threads": CLIENTS,
        "rounds": ROUNDS,
    }
    targets = {
        "engine_vs_bare_huey_throughput": 0.5,
        "engine_executions_per_s": N8N_EXECUTIONS_PER_S,
    }
    met = {
        "engine_vs_bare_huey_throughput": (throughput_ratio or 0) >= 0.5,
        "engine_executions_per_s": (engine["executions_per_s"] or 0) >= N8N_EXECUTIONS_PER_S,
    }
    return {"results": results, "targets": targets, "met": met}
