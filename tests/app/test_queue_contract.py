"""The queue contract, proved on both backends: encrypted SQLite and a real Redis (plain
and over TLS).

One suite (like huey's own StorageTests) parametrized over `[queue] backend`: what the
appliance relies on from its queue, whichever one a site configures.
"""

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.queue import QueueRunner, build_queues
from app.services import Services
from app.settings import Settings
from tests.conftest import make_settings


@dataclass(frozen=True)
class Ping:
    """A payload as every task has one: ids only."""

    tenant_id: str
    item: int


@pytest.fixture(params=["sqlite", "redis", "rediss"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    queue: dict[str, object] = {
        "backend": "sqlite" if request.param == "sqlite" else "redis",
        # a queue of its own per test: Redis is shared by the session
        "name": f"t{uuid.uuid4().hex[:12]}",
        "poll_interval_s": 0.02,
        "max_poll_interval_s": 0.2,
        "separate": ["documents"],
    }
    if request.param == "redis":
        queue["redis_url"] = request.getfixturevalue("redis_server").url()
    elif request.param == "rediss":
        queue["redis_url"] = request.getfixturevalue("redis_tls_server").url()
    return make_settings(tmp_path / "data", queue=queue)


class Recorder:
    """Collects what a task received, and says when `expected` calls arrived."""

    def __init__(self, expected: int) -> None:
        self.items: list[int] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.expected = expected

    def __call__(self, payload: Ping) -> None:
        with self._lock:
            self.items.append(payload.item)
            if len(self.items) >= self.expected:
                self._done.set()

    def wait(self, timeout: float = 30) -> bool:
        return self._done.wait(timeout)


@pytest.fixture
def runners(services: Services) -> Iterator[Callable[[], QueueRunner]]:
    """Queue runners on the test's queue; each is what one process of the appliance has."""
    made: list[QueueRunner] = []

    def make() -> QueueRunner:
        hueys = build_queues(services.data, services.master, services.settings)
        runner = QueueRunner(hueys.pop("default"), services.settings, groups=hueys)
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.stop()
        runner.close()


def test_each_queued_task_runs_once_with_its_payload(
    runners: Callable[[], QueueRunner],
) -> None:
    # GIVEN a task registered on the queue
    queue = runners()
    recorder = Recorder(expected=20)
    enqueue = queue.register("test.ping", recorder)
    # WHEN 20 payloads are queued and the workers start
    for item in range(20):
        enqueue(Ping("tenant", item))
    queue.start(periodic=False)
    # THEN each ran once, with its own payload
    assert recorder.wait()
    time.sleep(0.3)  # a duplicate delivery would arrive now
    assert sorted(recorder.items) == list(range(20))


def test_queued_tasks_survive_a_restart_and_are_listed(
    runners: Callable[[], QueueRunner],
) -> None:
    # GIVEN three tasks queued by a process that then stops without running them
    first = runners()
    enqueue = first.register("test.ping", Recorder(expected=3))
    for item in range(3):
        enqueue(Ping("tenant", item))
    first.close()
    # WHEN another process opens the same queue
    second = runners()
    recorder = Recorder(expected=3)
    second.register("test.ping", recorder)
    # THEN it lists them (the reconcilers read this) and runs them
    waiting = sorted(task.args[0].item for task in second.pending_tasks())
    assert waiting == [0, 1, 2] and second.pending() == 3
    second.start(periodic=False)
    assert recorder.wait()
    assert sorted(recorder.items) == [0, 1, 2]


def test_two_processes_consuming_one_queue_run_every_task_exactly_once(
    runners: Callable[[], QueueRunner],
) -> None:
    # GIVEN two consumers (as the server and a worker process) on the same queue
    total = 200
    counted: Counter[int] = Counter()
    lock = threading.Lock()
    done = threading.Event()

    def record(payload: Ping) -> None:
        with lock:
            counted[payload.item] += 1
            if sum(counted.values()) >= total:
                done.set()

    one, two = runners(), runners()
    enqueue = one.register("test.ping", record)
    two.register("test.ping", record)
    # WHEN both run while 200 tasks are queued
    one.start(periodic=False)
    two.start(periodic=False)
    for item in range(total):
        enqueue(Ping("tenant", item))
    # THEN every task ran, and none twice
    assert done.wait(60)
    time.sleep(0.3)
    assert set(counted) == set(range(total))
    assert max(counted.values()) == 1


def test_a_delayed_task_runs_after_its_delay_not_before(
    runners: Callable[[], QueueRunner],
) -> None:
    # GIVEN a task scheduled one and a half seconds ahead (retries and `wait` steps do this)
    queue = runners()
    recorder = Recorder(expected=1)
    task = queue.register("test.ping", recorder)
    queued_at = time.monotonic()
    task.schedule(args=(Ping("tenant", 7),), delay=1.5)
    queue.start(periodic=False)
    # WHEN the workers run
    assert recorder.wait(30)
    # THEN it ran once, no earlier than its delay
    assert time.monotonic() - queued_at >= 1.4
    assert recorder.items == [7]


def test_a_separate_group_is_served_only_by_consumers_of_its_queue(
    runners: Callable[[], QueueRunner],
) -> None:
    # GIVEN documents on a queue of their own ([queue] separate = ["documents"])
    queue = runners()
    parses = Recorder(expected=1)
    others = Recorder(expected=1)
    parse = queue.register("ingest.parse", parses)
    other = queue.register("test.ping", others)
    parse(Ping("tenant", 1))
    other(Ping("tenant", 2))
    # WHEN a process serves only the default queue
    queue.start(["default"], periodic=False)
    assert others.wait()
    # THEN the parse waits in its own queue, until a process serves that queue
    assert parses.items == []
    assert [t.args[0].item for t in queue.pending_tasks()] == [1]
    documents = runners()
    documents.register("ingest.parse", parses)
    documents.start(["documents"], periodic=False)
    assert parses.wait()
    assert parses.items == [1]


def test_a_consumer_stopped_gracefully_leaves_queued_tasks_queued(
    runners: Callable[[], QueueRunner],
) -> None:
    # GIVEN a consumer busy with a slow task and more tasks waiting
    started = threading.Event()
    release = threading.Event()

    def slow(payload: Ping) -> None:
        started.set()
        release.wait(10)

    queue = runners()
    enqueue = queue.register("test.slow", slow)
    for item in range(5):
        enqueue(Ping("tenant", item))
    queue.start(periodic=False, workers=1)
    assert started.wait(30)
    # WHEN it stops while the first task runs (the task finishes first)
    stopper = threading.Thread(target=queue.stop)
    stopper.start()
    release.set()
    stopper.join(30)
    # THEN the tasks not started are still queued for the next process
    second = runners()
    second.register("test.slow", slow)
    assert second.pending() == 4
