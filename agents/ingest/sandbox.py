"""Parsing untrusted bytes in resource-limited worker processes.

Each worker is `python -m agents.ingest.worker`: it caps its own address space, CPU
time, file size and open files, drops into an empty network namespace where the kernel
allows it, and then parses documents sent over its stdin. Workers are kept warm in a
pool (starting Python and the parser libraries costs ~0.5 s) and replaced after a crash,
a timeout, running out of memory, or a fixed number of documents.

Wall time is enforced here: when a reply is late the worker's process group is killed.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from agents.ingest.direct import check_input_size
from agents.ingest.document import ParsedDocument, from_wire
from agents.ingest.errors import (
    IngestError,
    MemoryLimitError,
    ParserCrashedError,
    ParseTimeoutError,
    TooLargeError,
    error_from_code,
)
from agents.ingest.limits import ParseLimits
from agents.ingest.protocol import LENGTH, encode_json

log = logging.getLogger(__name__)
# how long a checkout waits for a retiring worker's successor before re-checking
_REPLACEMENT_WAIT_S = 5.0
# documents before its retirement at which a worker's successor starts (at most a quarter)
_SUCCESSOR_LEAD = 10

_STARTUP_SECONDS = 60.0
_IO_CHUNK = 1024 * 1024
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# The directory that contains the `agents` package, so the worker imports this very code
# whether or not the project is installed.
_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])


class _Worker:
    """One worker process, used by one thread at a time."""

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.documents = 0
        self.successor_started = False
        self._workdir = tempfile.mkdtemp(prefix="ingest-worker-")
        self._stderr = open(os.path.join(self._workdir, "stderr.log"), "w+b")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "agents.ingest.worker", json.dumps(asdict(limits))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                cwd=self._workdir,
                env=_worker_environment(),
                start_new_session=True,  # Ctrl-C in a terminal must not kill a parse half-way
            )
        except OSError as exc:
            self._stderr.close()
            shutil.rmtree(self._workdir, ignore_errors=True)
            raise ParserCrashedError("The document reader could not be started.") from exc
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                os.set_blocking(pipe.fileno(), False)
        self.network_isolated = False
        try:
            ready = self._read_json(time.monotonic() + _STARTUP_SECONDS)
        except IngestError as exc:
            log.error("ingest worker failed to start: %s", self._stderr_tail())
            self.close()
            raise ParserCrashedError(
                "The document reader could not be started; see the server log."
            ) from exc
        self.network_isolated = bool(ready.get("network_isolated"))
        self.started_resident = self.resident_bytes()

    def resident_bytes(self) -> int:
        """The process's resident memory now (0 if it cannot be read)."""
        try:
            with open(f"/proc/{self.process.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE_SIZE
        except (OSError, ValueError, IndexError):
            return 0

    def worn(self, max_documents: int) -> bool:
        """Time to retire: after `max_documents`, or once the process has grown by a
        quarter of its memory limit since it started (a leak or a fragmented heap)."""
        grown = self.resident_bytes() - self.started_resident
        return self.documents >= max_documents or grown > self.limits.memory_bytes // 4

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def parse(self, data: bytes, filename: str | None) -> ParsedDocument:
        """Send one document and wait for its result within the wall-time limit."""
        self.documents += 1
        deadline = time.monotonic() + self.limits.wall_seconds
        request = encode_json({"filename": filename})
        self._write(request + LENGTH.pack(len(data)), deadline)
        self._write(data, deadline)
        reply = self._read_json(deadline)
        if not reply.get("ok"):
            error = error_from_code(
                str(reply.get("code")), str(reply.get("message")), str(reply.get("detail", ""))
            )
            if isinstance(error, MemoryLimitError):
                self._reap()  # it exits after running out of memory; do not reuse it
            raise error
        header = reply.get("document")
        if not isinstance(header, dict):
            raise self._fail(ParserCrashedError())
        children = header.get("children")
        count = len(children) if isinstance(children, list) else 0
        blobs = [self._read_frame(deadline) for _ in range(count)]
        try:
            return from_wire(header, blobs)
        except ValueError as exc:
            raise self._fail(ParserCrashedError()) from exc

    def close(self) -> None:
        """Stop the process (politely if idle) and remove its scratch directory."""
        if self.alive and self.process.stdin is not None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        self._stderr.close()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def _read_json(self, deadline: float) -> dict[str, Any]:
        try:
            value = json.loads(self._read_frame(deadline))
        except ValueError as exc:
            raise self._fail(ParserCrashedError()) from exc
        if not isinstance(value, dict):
            raise self._fail(ParserCrashedError())
        return value

    def _read_frame(self, deadline: float) -> bytes:
        (length,) = LENGTH.unpack(self._read_exact(LENGTH.size, deadline))
        # A reply larger than the worker's whole address space cannot be genuine.
        if length > self.limits.memory_bytes:
            raise self._fail(TooLargeError("The text extracted from the document is too large."))
        return self._read_exact(length, deadline)

    def _read_exact(self, size: int, deadline: float) -> bytes:
        stream = self._pipe(self.process.stdout)
        buffer = bytearray()
        while len(buffer) < size:
            self._wait(stream, deadline, for_writing=False)
            chunk = os.read(stream.fileno(), min(size - len(buffer), _IO_CHUNK))
            if not chunk:
                raise self._died()
            buffer += chunk
        return bytes(buffer)

    def _write(self, data: bytes, deadline: float) -> None:
        stream = self._pipe(self.process.stdin)
        view = memoryview(data)
        while view:
            self._wait(stream, deadline, for_writing=True)
            try:
                written = os.write(stream.fileno(), view[:_IO_CHUNK])
            except BrokenPipeError:
                raise self._died() from None
            view = view[written:]

    def _wait(self, stream: IO[bytes], deadline: float, for_writing: bool) -> None:
        remaining = deadline - time.monotonic()
        if remaining > 0:
            # poll, not select: a busy server may hold file descriptors above 1023.
            poller = select.poll()
            poller.register(stream.fileno(), select.POLLOUT if for_writing else select.POLLIN)
            if poller.poll(remaining * 1000):
                return  # ready, or hung up (the next read/write reports that)
        self._kill()
        raise ParseTimeoutError(
            f"Reading the document took longer than {self.limits.wall_seconds:g} seconds "
            "and was stopped."
        )

    def _died(self) -> IngestError:
        code = self._reap()
        if code == -signal.SIGXCPU:
            return ParseTimeoutError(
                f"Reading the document used more than {self.limits.cpu_seconds} seconds "
                "of processor time and was stopped."
            )
        log.warning("ingest worker ended with exit status %s", code)
        return ParserCrashedError()

    def _fail(self, error: IngestError) -> IngestError:
        self._kill()
        return error

    def _reap(self) -> int | None:
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill()
            return self.process.returncode

    def _kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()

    def _stderr_tail(self) -> str:
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - 2000))
        return self._stderr.read().decode("utf-8", errors="replace")

    @staticmethod
    def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
        if stream is None:
            raise ParserCrashedError()
        return stream


class SandboxPool:
    """A set of warm worker processes that parse documents under `ParseLimits`.

    Thread-safe: up to `max_workers` documents are parsed at once; more callers wait.
    Workers are keyed by their limits (limits are fixed when a process starts).
    """

    def __init__(self, max_workers: int | None = None, max_documents_per_worker: int = 2000):
        self.max_workers = max_workers or min(4, os.cpu_count() or 1)
        self.max_documents_per_worker = max_documents_per_worker
        self._slots = threading.BoundedSemaphore(self.max_workers)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy = 0
        self._closed = False
        self._starting: set[threading.Thread] = set()
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
            worker = self._checkout(limits)
            fresh = worker.documents == 0
            try:
                return worker.parse(data, filename)
            except MemoryLimitError:
                if fresh:
                    raise
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
        started = [self._checkout(limits) for _ in range(count or self.max_workers)]
        for worker in started:
            self._checkin(worker)

    def network_isolated(self) -> bool | None:
        """Whether idle workers run without network access (None: no worker running).

        Isolation needs unprivileged user namespaces; without them the DOCTYPE refusal
        and the parsers' own settings are what keep XML from fetching URLs.
        """
        with self._lock:
            workers = [w for w in self._idle if w.alive]
        return all(w.network_isolated for w in workers) if workers else None

    def worker_pids(self) -> list[int]:
        """Process ids of the idle workers (for monitoring)."""
        with self._lock:
            return [w.process.pid for w in self._idle if w.alive]

    def close(self) -> None:
        """Stop every idle worker; workers in use stop when their document is done."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
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

    def _checkout(self, limits: ParseLimits, fresh: bool = False) -> _Worker:
        with self._lock:
            while True:
                if self._closed:
                    raise RuntimeError("the sandbox pool is closed")
                evicted = [w for w in self._idle if not w.alive]
                self._idle = [w for w in self._idle if w.alive]
                candidates = [] if fresh else [w for w in self._idle if w.limits == limits]
                match = candidates[-1] if candidates else None
                if match is not None or fresh or not self._starting:
                    break
                # a successor is starting: take it rather than start another process
                self._changed.wait(timeout=_REPLACEMENT_WAIT_S)
            if match is not None:
                self._idle.remove(match)
            else:
                while self._idle and len(self._idle) + self._busy >= self.max_workers:
                    evicted.append(self._idle.pop(0))
            self._busy += 1
        for worker in evicted:
            worker.close()
        if match is not None:
            return match
        try:
            return _Worker(limits)
        except BaseException:
            with self._lock:
                self._busy -= 1
            raise

    def _checkin(self, worker: _Worker) -> None:
        retiring = worker.alive and worker.worn(self.max_documents_per_worker)
        # A worker retires after max_documents_per_worker documents or when it has grown
        # (see _Worker.worn). Its successor starts in the background, a few documents
        # early when retiring by count, so a document rarely waits for a process start
        # (~0.4 s); until the old one retires the pool runs one process more. A start
        # costs about as much as parsing 60 small documents: every 200 documents, it
        # cost a quarter of `bench ingest`'s throughput (docs/benchmarks.md).
        lead = min(_SUCCESSOR_LEAD, self.max_documents_per_worker // 4)
        successor = (
            worker.alive
            and not worker.successor_started
            and (retiring or worker.documents >= self.max_documents_per_worker - lead)
        )
        surplus: list[_Worker] = []
        with self._lock:
            self._busy -= 1
            if self._closed:
                surplus.append(worker)
            else:
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
                if worker.alive and not retiring:
                    self._idle.append(worker)
                else:
                    surplus.append(worker)
                surplus += self._over_capacity()
        for extra in surplus:
            extra.close()

    def _over_capacity(self) -> list[_Worker]:
        """Idle workers beyond max_workers, most used first (caller holds the lock)."""
        surplus = []
        while self._idle and len(self._idle) + self._busy > self.max_workers:
            oldest = max(self._idle, key=lambda w: w.documents)
            self._idle.remove(oldest)
            surplus.append(oldest)
        return surplus

    def _start_successor(self, limits: ParseLimits) -> None:
        surplus: list[_Worker] = []
        try:
            try:
                fresh = _Worker(limits)
            except Exception:  # the next checkout starts one itself and reports why
                log.warning("could not start a successor ingest worker", exc_info=True)
                return
            with self._lock:
                if self._closed:
                    surplus.append(fresh)
                else:
                    self._idle.append(fresh)
                    surplus += self._over_capacity()
        finally:
            with self._lock:
                self._starting.discard(threading.current_thread())
                self._changed.notify_all()
            for extra in surplus:
                extra.close()


def _worker_environment() -> dict[str, str]:
    # A minimal environment: the worker handles hostile input, so it gets no secrets
    # (passphrases, tokens) that the appliance may hold in its own environment.
    env = {
        "PATH": os.defpath,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONPATH": os.pathsep.join(
            p for p in (_SOURCE_ROOT, os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    return env


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
