"""Queue round trips on SQLite (encrypted queue.db) and Redis, in paired alternating
rounds: no-op tasks with an ids-only payload through `QueueRunner`, as the appliance's
tasks go. Throughput: a burst enqueued while the consumer runs, until the last one ran.
Latency: one task at a time, enqueue to executed."""

import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from app.initialise import initialise
from app.queue import QueueRunner, build_queues
from app.services import open_services
from app.settings import Settings
from bench.common import percentile_ms, ratio
from bench.redis_process import RedisServer

BURST = 1000
SINGLES = 100
ROUNDS = 4


@dataclass(frozen=True)
class NoOp:
    tenant_id: str
    item: int


class _Side:
    """One backend: a runner with a no-op task that records when each item ran."""

    def __init__(self, settings: Settings) -> None:
        self.services = open_services(settings, None)
        hueys = build_queues(self.services.data, self.services.master, settings)
        self.queue = QueueRunner(hueys.pop("default"), settings, groups=hueys)
        self._ran: dict[int, float] = {}
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.enqueue = self.queue.register("bench.noop", self._run, retries=0)
        self.queue.start(periodic=False)

    def _run(self, payload: NoOp) -> None:
        with self._cond:
            self._ran[payload.item] = time.perf_counter()
            self._cond.notify_all()

    def _wait(self, items: set[int], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not items <= self._ran.keys():
                if not self._cond.wait(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError("queue round trip did not finish")

    def burst(self, start: int, count: int) -> float:
        """Tasks per second for `count` tasks enqueued at once."""
        began = time.perf_counter()
        for item in range(start, start + count):
            self.enqueue(NoOp("bench", item))
        self._wait(set(range(start, start + count)))
        return count / (max(self._ran[i] for i in range(start, start + count)) - began)

    def singles(self, start: int, count: int) -> list[float]:
        """Enqueue-to-executed seconds of `count` tasks, one at a time."""
        latencies = []
        for item in range(start, start + count):
            began = time.perf_counter()
            self.enqueue(NoOp("bench", item))
            self._wait({item})
            latencies.append(self._ran[item] - began)
        return latencies

    def close(self) -> None:
        self.queue.stop()
        self.services.close()


def run_queue_roundtrip(
    settings: Settings, redis: RedisServer, burst: int = BURST, rounds: int = ROUNDS
) -> dict[str, Any]:
    """Both backends in one run, rounds alternating which goes first."""
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as scratch:
        sides: dict[str, _Side] = {}
        for backend in ("sqlite", "redis"):
            queue = msgspec.structs.replace(
                settings.queue,
                backend=backend,
                redis_url=redis.url(),
                name=f"bench-{backend}",
                separate=[],
            )
            storage = msgspec.structs.replace(
                settings.storage, data_dir=str(Path(scratch) / backend)
            )
            local = msgspec.structs.replace(settings, queue=queue, storage=storage)
            initialise(local, "admin", "bench password 1234567", demo=False, passphrase=None)
            sides[backend] = _Side(local)
        try:
            rates: dict[str, list[float]] = {"sqlite": [], "redis": []}
            latencies: dict[str, list[float]] = {"sqlite": [], "redis": []}
            next_item = 0
            for side in sides.values():  # warm connections and code paths
                side.burst(next_item, 50)
                next_item += 50
            for index in range(rounds):
                order = ("sqlite", "redis") if index % 2 == 0 else ("redis", "sqlite")
                for name in order:
                    rates[name].append(sides[name].burst(next_item, burst))
                    next_item += burst
                    latencies[name] += sides[name].singles(next_item, SINGLES // rounds)
                    next_item += SINGLES
        finally:
            for side in sides.values():
                side.close()
    medians = {name: round(sorted(r)[len(r) // 2], 1) for name, r in rates.items()}
    figures = {
        name: {
            "tasks_per_s": medians[name],
            "tasks_per_s_rounds": [round(r, 1) for r in rates[name]],
            "round_trip_p50_ms": percentile_ms(latencies[name], 50),
            "round_trip_p95_ms": percentile_ms(latencies[name], 95),
        }
        for name in rates
    }
    return {
        "burst_tasks": burst,
        "rounds": rounds,
        "consumer_threads": settings.queue.workers,
        "poll_interval_s": [settings.queue.poll_interval_s, settings.queue.max_poll_interval_s],
        **figures,
        "ratio_redis_to_sqlite_tasks_per_s": ratio(medians["redis"], medians["sqlite"]),
    }
