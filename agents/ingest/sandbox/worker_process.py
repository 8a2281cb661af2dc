"""The parent's handle on one parser worker process (`python -m agents.ingest.sandbox.worker`).

Two documents may be in a worker at once: one being parsed and the next one already in
its stdin pipe, so the worker starts on the next document the moment it has answered,
instead of waiting for the parent to read the answer and send more (measured: the
hand-over cost ~0.4 ms per document, 6% of `bench ingest`, see docs/benchmarks.md).
Answers come back in the order the documents were sent. The wall-time limit of a
document runs from the moment the worker is free for it; a document queued behind one
that crashed or timed out is not blamed for it (`DisplacedError`) and is sent again.
"""

from __future__ import annotations

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
from collections import deque
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from agents.ingest.errors import (
    IngestError,
    MemoryLimitError,
    ParserCrashedError,
    ParserKilledError,
    ParseTimeoutError,
    TooLargeError,
    error_from_code,
)
from agents.ingest.sandbox.document import ParsedDocument, from_wire
from agents.ingest.sandbox.limits import ParseLimits
from agents.ingest.sandbox.protocol import LENGTH, decode_json, encode_json

log = logging.getLogger(__name__)

DEPTH = 2  # documents in one worker at once: the one being parsed and the next one
_STARTUP_SECONDS = 60.0
_IO_CHUNK = 1024 * 1024
# a document waiting behind another re-checks whether it has become the current one
_QUEUED_POLL_S = 0.5
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# The directory that contains the `agents` package, so the worker imports this very code
# whether or not the project is installed.
_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])


_SCRATCH_PREFIX = "ingest-worker-"


def _scratch_prefix(pid: int) -> str:
    # mkdtemp's random suffix has no "-": the name splits into prefix, pid and suffix
    return f"{_SCRATCH_PREFIX}{pid}-"


def remove_stale_scratch(scratch_dir: Path) -> int:
    """Remove the working directories that processes killed before cleaning up left behind.

    A directory is named after the process that made it; only those of processes no
    longer running go (another appliance process may share the data directory).
    """
    removed = 0
    for entry in scratch_dir.glob(f"{_SCRATCH_PREFIX}*"):
        pid = entry.name.removeprefix(_SCRATCH_PREFIX).split("-")[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


class DisplacedError(Exception):
    """The worker failed on a document sent before this one: send this one again."""


class WorkerProcess:
    """One worker process; up to DEPTH threads use it at once (the pool counts them)."""

    def __init__(self, limits: ParseLimits, scratch_dir: Path | None = None) -> None:
        self.limits = limits
        self.documents = 0  # documents given to it (the pool counts them at checkout)
        self.users = 0  # threads holding it now (kept by the pool, under its lock)
        self.retiring = False
        self.successor_started = False
        self._send_lock = threading.Lock()
        self._turn = threading.Condition()
        self._queue: deque[object] = deque()  # tickets of documents sent, oldest first
        self._head_since = 0.0  # when the oldest document's turn began
        self._broken = False
        self._workdir = tempfile.mkdtemp(prefix=_scratch_prefix(os.getpid()), dir=scratch_dir)
        self._stderr = open(os.path.join(self._workdir, "stderr.log"), "w+b")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "agents.ingest.sandbox.worker", json.dumps(asdict(limits))],
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

    @property
    def usable(self) -> bool:
        """Whether another document may be sent to it."""
        return not self._broken and not self.retiring and self.alive

    def parse(self, data: bytes, filename: str | None) -> ParsedDocument:
        """Send one document and wait for its result within the wall-time limit.

        Raises DisplacedError when the worker failed on an earlier document first.
        """
        ticket = object()
        with self._send_lock:
            with self._turn:
                if self._broken:
                    raise DisplacedError()
                self._queue.append(ticket)
                if self._queue[0] is ticket:
                    self._head_since = time.monotonic()
            try:
                self._write(encode_json({"filename": filename}) + LENGTH.pack(len(data)), ticket)
                self._write(data, ticket)
            except BaseException:
                self._kill()  # a request sent in part: the worker cannot take another one
                self._leave(ticket)
                raise
        try:
            deadline = self._await_turn(ticket)
            try:
                outcome = self._read_result(deadline)
            except BaseException:
                self._kill()  # out of step with the worker's answers
                raise
        finally:
            self._leave(ticket)
        if isinstance(outcome, IngestError):
            raise outcome
        return outcome

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

    def _await_turn(self, ticket: object) -> float:
        """Wait until every document sent before this one is answered; its deadline."""
        with self._turn:
            while not self._broken and self._queue[0] is not ticket:
                self._turn.wait()
            if self._broken:
                raise DisplacedError()
            return self._head_since + self.limits.wall_seconds

    def _leave(self, ticket: object) -> None:
        """Take a finished (or failed) document out of the order; wake the next one."""
        with self._turn:
            current = bool(self._queue) and self._queue[0] is ticket
            if ticket in self._queue:
                self._queue.remove(ticket)
            if not self.alive:
                # whatever was sent after it is lost with the process
                self._broken = True
            if current:
                self._head_since = time.monotonic()
            self._turn.notify_all()

    def _is_current(self, ticket: object) -> bool:
        with self._turn:
            return bool(self._queue) and self._queue[0] is ticket

    def _read_result(self, deadline: float) -> ParsedDocument | IngestError:
        """The worker's answer: a document, or the error it reported (and stays in step
        after). Anything raised here leaves the worker out of step."""
        reply = self._read_json(deadline)
        if not reply.get("ok"):
            error = error_from_code(
                str(reply.get("code")), str(reply.get("message")), str(reply.get("detail", ""))
            )
            if isinstance(error, MemoryLimitError):
                self._reap()  # it exits after running out of memory; do not reuse it
            return error
        header = reply.get("document")
        if not isinstance(header, dict):
            raise ParserCrashedError()
        children = header.get("children")
        count = len(children) if isinstance(children, list) else 0
        blobs = [self._read_frame(deadline) for _ in range(count)]
        try:
            return from_wire(header, blobs)
        except ValueError as exc:
            raise ParserCrashedError() from exc

    def _read_json(self, deadline: float) -> dict[str, Any]:
        try:
            value = decode_json(self._read_frame(deadline))
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

    def _write(self, data: bytes, ticket: object) -> None:
        """Write while the worker reads; the time limit applies once it is this one's turn
        (until then the worker is busy with an earlier document and the pipe may be full)."""
        stream = self._pipe(self.process.stdin)
        view = memoryview(data)
        while view:
            if self._is_current(ticket):
                self._wait(stream, self._head_since + self.limits.wall_seconds, True)
            elif not self._ready(stream, _QUEUED_POLL_S, for_writing=True):
                continue
            try:
                written = os.write(stream.fileno(), view[:_IO_CHUNK])
            except BlockingIOError:
                continue
            except BrokenPipeError:
                error = self._died()
                with self._turn:
                    # it died on an earlier document (gone, or still leaving the order)
                    displaced = self._broken or self._queue[0] is not ticket
                raise (DisplacedError() if displaced else error) from None
            view = view[written:]

    @staticmethod
    def _ready(stream: IO[bytes], seconds: float, for_writing: bool) -> bool:
        # poll, not select: a busy server may hold file descriptors above 1023.
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT if for_writing else select.POLLIN)
        return bool(poller.poll(max(0.0, seconds) * 1000))

    def _wait(self, stream: IO[bytes], deadline: float, for_writing: bool) -> None:
        if self._ready(stream, deadline - time.monotonic(), for_writing):
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
        if code == -signal.SIGKILL:
            # not our wall-time kill (that raises before the worker dies): the OOM
            # killer or an operator; the machine was at fault, not the document
            return ParserKilledError()
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


def _worker_environment() -> dict[str, str]:
    # A minimal environment: the worker handles hostile input, so it gets no secrets
    # (passphrases, tokens) that the appliance may hold in its own environment.
    return {
        "PATH": os.defpath,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONPATH": os.pathsep.join(
            p for p in (_SOURCE_ROOT, os.environ.get("PYTHONPATH", "")) if p
        ),
    }
