"""Parsing untrusted bytes in resource-limited worker processes.

Each worker is `python -m agents.ingest.sandbox.worker`: it caps its own address space, CPU
time, file size and open files, drops into an empty network namespace where the kernel
allows it, and then parses documents sent over its stdin. Workers are kept warm in a
pool (starting Python and the parser libraries costs ~0.5 s) and replaced after a crash,
a timeout, running out of memory, or a fixed number of documents. The parent's side of
one worker (pipes, wall time, two documents in flight) is `worker_process.WorkerProcess`.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from pathlib import Path

from agents.ingest.errors import MemoryLimitError
from agents.ingest.sandbox.direct import check_input_size
from agents.ingest.sandbox.document import ParsedDocument
from agents.ingest.sandbox.limits import ParseLimits
from agents.ingest.sandbox.worker_process import DEPTH, DisplacedError, WorkerProcess

log = logging.getLogger(__name__)
# how long a checkout waits for a retiring worker's successor before re-checking
_REPLACEMENT_WAIT_S = 5.0
# documents before its retirement at which a worker's successor starts (at most a quarter)
_SUCCESSOR_LEAD = 10


class SandboxPool:
    """A set of warm worker processes that parse documents under `ParseLimits`.

    Thread-safe: up to `max_workers` processes, each with up to DEPTH documents at once
    (one parsing, the next one waiting in its pipe); more callers wait. Workers are keyed
    by their limits (limits are fixed when a process starts).
    """

    def __init__(
        self,
        max_workers: int | None = None,
        max_documents_per_worker: int = 2000,
        scratch_dir: Path | None = None,
    ):
        self.max_workers = max_workers or min(4, os.cpu_count() or 1)
        # where the workers' empty working directories go (default: the system's temp)
        self.scratch_dir = scratch_dir
        self.max_documents_per_worker = max_documents_per_worker
        self._slots = threading.BoundedSemaphore(self.max_workers * DEPTH)
        self._lock = threading.Lock()
        self._workers: list[WorkerProcess] = []  # idle and in use
        self._closed = False
        self._starting: set[threading.Thread] = set()
        self._creating = 0  # processes being started by a checkout (they count as running)
        self._changed = threading.Condition(self._lock)

    def parse(
        self, data: bytes, filename: str | None, limits: ParseLimits | None = None
    ) -> ParsedDocument:
        """Parse one document in a worker; raises an `IngestError` subclass on failure.

        Input over `limits.max_input_bytes` is refused before any process is involved.
        """
        limits = limits or ParseLimits()
        check_input_size(data, limits)
        with self._slots:
            while True:
                worker = self._checkout(limits)
                fresh = worker.documents == 1
                try:
                    return worker.parse(data, filename)
                except DisplacedError:
                    continue  # the worker failed on an earlier document: try another
                except MemoryLimitError:
                    if fresh:
                        raise
                    break
                finally:
                    self._checkin(worker)
            # A long-lived worker may have fragmented or leaked memory; give the document
            # one more chance in a fresh process before blaming the document.
            worker = self._checkout(limits, fresh=True)
            try:
                return worker.parse(data, filename)
            finally:
                self._checkin(worker)

    def warm_up(self, limits: ParseLimits | None = None, count: int | None = None) -> None:
        """Start workers ahead of the first document so it does not pay for the start."""
        limits = limits or ParseLimits()
        wanted = min(count or self.max_workers, self.max_workers)
        with self._lock:
            have = sum(1 for w in self._workers if w.limits == limits and w.usable)
        started = [self._checkout(limits, fresh=True) for _ in range(max(0, wanted - have))]
        for worker in started:
            worker.documents = 0  # warming up is not a document
            self._checkin(worker)

    def network_isolated(self) -> bool | None:
        """Whether the workers run without network access (None: no worker running).

        Isolation needs unprivileged user namespaces; without them the DOCTYPE refusal
        and the parsers' own settings are what keep XML from fetching URLs.
        """
        with self._lock:
            workers = [w for w in self._workers if w.alive]
        return all(w.network_isolated for w in workers) if workers else None

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers (for monitoring)."""
        with self._lock:
            return [w.process.pid for w in self._workers if w.alive]

    def close(self) -> None:
        """Stop every idle worker; workers in use stop when their documents are done."""
        with self._lock:
            self._closed = True
            idle = [w for w in self._workers if w.users == 0]
            self._workers = [w for w in self._workers if w.users > 0]
            replacers = list(self._starting)
        for worker in idle:
            worker.close()
        for replacer in replacers:
            # a replacement being started closes itself once it sees the pool closed
            replacer.join(timeout=30)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _checkout(self, limits: ParseLimits, fresh: bool = False) -> WorkerProcess:
        """A worker for one more document: an idle one, else a new one while there is
        room, else the least busy one (the document waits in its pipe)."""
        evicted: list[WorkerProcess] = []
        with self._lock:
            while True:
                if self._closed:
                    raise RuntimeError("the sandbox pool is closed")
                evicted += self._drop_dead()
                running = [w for w in self._workers if w.usable]
                candidates = [] if fresh else [w for w in running if w.limits == limits]
                match = min(candidates, key=lambda w: w.users, default=None)
                if match is not None and match.users == 0:
                    break
                room = len(running) + len(self._starting) + self._creating < self.max_workers
                if fresh or room:
                    match = None
                    break
                if match is not None and match.users < DEPTH:
                    break
                if not self._starting and not self._creating:
                    match = None
                    break
                # a process is starting: use it rather than start another one
                self._changed.wait(timeout=_REPLACEMENT_WAIT_S)
            if match is None:
                # make room among the idle workers (other limits) for a new process
                idle = [w for w in self._workers if w.users == 0]
                while idle and len(self._workers) >= self.max_workers:
                    self._workers.remove(idle[0])
                    evicted.append(idle.pop(0))
                self._creating += 1
            else:
                match.users += 1
                match.documents += 1
        for worker in evicted:
            worker.close()
        if match is not None:
            return match
        try:
            fresh_worker = WorkerProcess(limits, self.scratch_dir)
        except BaseException:
            with self._lock:
                self._creating -= 1
                self._changed.notify_all()
            raise
        with self._lock:
            self._creating -= 1
            fresh_worker.users = 1
            fresh_worker.documents = 1
            self._workers.append(fresh_worker)
            self._changed.notify_all()
        return fresh_worker

    def _checkin(self, worker: WorkerProcess) -> None:
        # A worker retires after max_documents_per_worker documents or when it has grown
        # (see WorkerProcess.worn). Its successor starts in the background, a few
        # documents early when retiring by count, so a document rarely waits for a
        # process start (~0.4 s); until the old one retires the pool runs one process
        # more. A start costs about as much as parsing 60 small documents: every 200
        # documents, it cost a quarter of `bench ingest`'s throughput (docs/benchmarks.md).
        retiring = worker.alive and worker.worn(self.max_documents_per_worker)
        lead = min(_SUCCESSOR_LEAD, self.max_documents_per_worker // 4)
        surplus: list[WorkerProcess] = []
        with self._lock:
            worker.users -= 1
            worker.retiring = worker.retiring or retiring
            successor = (
                not self._closed
                and worker.alive
                and not worker.successor_started
                and (retiring or worker.documents >= self.max_documents_per_worker - lead)
            )
            if successor:
                worker.successor_started = True
                starter = threading.Thread(
                    target=self._start_successor,
                    args=(worker.limits,),
                    name="sandbox-successor",
                    daemon=True,
                )
                self._starting.add(starter)
                starter.start()
            done = self._closed or not worker.usable
            if done and worker.users == 0 and worker in self._workers:
                self._workers.remove(worker)
                surplus.append(worker)
            surplus += self._over_capacity()
            self._changed.notify_all()
        for extra in surplus:
            extra.close()

    def _drop_dead(self) -> list[WorkerProcess]:
        """Unused workers that died or retired, taken out of the pool (caller holds the lock)."""
        dead = [w for w in self._workers if w.users == 0 and not w.usable]
        self._workers = [w for w in self._workers if w not in dead]
        return dead

    def _over_capacity(self) -> list[WorkerProcess]:
        """Workers beyond max_workers (a successor has started), the most used first:
        taken out if idle, else left to finish their documents (caller holds the lock)."""
        surplus: list[WorkerProcess] = []
        while True:
            usable = [w for w in self._workers if w.usable]
            if len(usable) <= self.max_workers:
                return surplus
            oldest = max(usable, key=lambda w: w.documents)
            if oldest.users:
                oldest.retiring = True  # its last checkin takes it out
            else:
                self._workers.remove(oldest)
                surplus.append(oldest)

    def _start_successor(self, limits: ParseLimits) -> None:
        surplus: list[WorkerProcess] = []
        try:
            try:
                fresh = WorkerProcess(limits, self.scratch_dir)
            except Exception:  # the next checkout starts one itself and reports why
                log.warning("could not start a successor ingest worker", exc_info=True)
                return
            with self._lock:
                if self._closed:
                    surplus.append(fresh)
                else:
                    self._workers.append(fresh)
                    surplus += self._over_capacity()
        finally:
            with self._lock:
                self._starting.discard(threading.current_thread())
                self._changed.notify_all()
            for extra in surplus:
                extra.close()


_default_pool: SandboxPool | None = None
_default_lock = threading.Lock()


def default_pool() -> SandboxPool:
    """The process-wide pool used by `parse_in_sandbox`, created on first use."""
    global _default_pool
    with _default_lock:
        if _default_pool is None or _default_pool._closed:
            _default_pool = SandboxPool()
            atexit.register(_default_pool.close)
        return _default_pool


def parse_in_sandbox(
    data: bytes, filename: str | None, limits: ParseLimits | None = None
) -> ParsedDocument:
    """Parse untrusted bytes in a resource-limited child process.

    `filename` only breaks ties between text formats and is never used as a path.
    Raises an `IngestError` subclass: `too_large` before any process starts, `timeout`
    when the wall or CPU limit is hit, `memory_limit`, `crashed` when the worker dies,
    and the parser's own codes (`malformed`, `encrypted_pdf`, `unsupported`, `empty`,
    `forbidden_xml`). Either way the next call gets a healthy worker.
    """
    return default_pool().parse(data, filename, limits)
