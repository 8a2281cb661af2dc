"""The server's handle on one model process (`python -m agents.llm.model_worker`).

Requests are written to the child's stdin under a lock; one reader thread takes every
reply off its stdout and hands it to the caller waiting for that request id, so a token
count can be answered while another caller's generation streams. A second thread keeps
the last few KiB of the child's stderr, which is where llama.cpp says why it aborted.

When the child dies, every call waiting on it fails with `ModelCrashedError`, and the
exit status and stderr tail go to the log. A child that stays silent longer than the
call timeout is killed the same way. The handle is then dead; the backend starts a new
one on the next call.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Generator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from agents.llm.config import LLMConfig
from agents.llm.errors import LLMUnavailableError, ModelCrashedError
from agents.llm.model_wire import decode_error, encode, read_message
from agents.models import ModelLocation

log = logging.getLogger(__name__)

STDERR_TAIL_BYTES = 2048
# The directory that contains the `agents` package, so the child imports this very code
# whether or not the project is installed.
_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])
# settings of the native libraries an operator may set for the model (threads, devices)
_PASSED_PREFIXES = ("OMP_", "GOMP_", "GGML_", "LLAMA_", "CUDA_", "HIP_", "ROCR_", "VK_")


class _Ended:
    """Put in every waiting caller's queue when the process is gone."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class ModelProcess:
    """One running model process; thread-safe, any number of calls may wait on it."""

    def __init__(
        self,
        model: ModelLocation,
        config: LLMConfig,
        *,
        call_timeout_s: float,
        startup_timeout_s: float,
    ) -> None:
        self.call_timeout_s = call_timeout_s
        self.memory_bytes = 0
        self.network_isolated = False
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: dict[int, queue.SimpleQueue[dict[str, Any] | _Ended]] = {}
        self._ended: _Ended | None = None
        self._closing = False
        self._stderr_tail = bytearray()
        spec = {"name": model.name, "path": str(model.path.resolve()), "config": asdict(config)}
        startup: queue.SimpleQueue[dict[str, Any] | _Ended] = queue.SimpleQueue()
        self._pending[0] = startup
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "agents.llm.model_worker", json.dumps(spec)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd="/",
                env=_child_environment(),
                start_new_session=True,  # Ctrl-C in a terminal must not kill a generation
            )
        except OSError as error:
            raise LLMUnavailableError(f"the model process could not be started: {error}") from None
        self._stderr_reader = threading.Thread(
            target=self._keep_stderr_tail, name="model-stderr", daemon=True
        )
        self._stderr_reader.start()
        self._reply_reader = threading.Thread(
            target=self._read_replies, name="model-replies", daemon=True
        )
        self._reply_reader.start()
        try:
            ready = self._next(startup, startup_timeout_s, "starting")
        except ModelCrashedError:
            self.close()
            raise LLMUnavailableError(
                "the language model's process did not start; see the server log"
            ) from None
        finally:
            with self._pending_lock:
                self._pending.pop(0, None)
        if not ready.get("ready"):
            self.close()
            raise LLMUnavailableError(str(decode_error(ready.get("error"))))
        self.memory_bytes = int(ready.get("memory_bytes", 0))
        self.network_isolated = bool(ready.get("network_isolated"))

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid

    @property
    def alive(self) -> bool:
        """False once the process ended or was stopped."""
        return self._ended is None and self.process.poll() is None

    def call(self, op: str, **arguments: Any) -> Any:
        """Send one request and return its value; raises the LLMError the child reported,
        or ModelCrashedError when the process died before answering."""
        rid, replies = self._register()
        try:
            self._send({"id": rid, "op": op, **arguments})
            reply = self._next(replies, self.call_timeout_s, op)
        finally:
            self._unregister(rid)
        if "error" in reply:
            raise decode_error(reply["error"])
        return reply.get("value")

    def stream(self, **arguments: Any) -> Generator[str, None, None]:
        """Token pieces of one streamed generation, as the child produces them.

        Closing the iterator early asks the child to stop after its current token.
        """
        rid, replies = self._register()
        finished = False
        try:
            self._send({"id": rid, "op": "stream", **arguments})
            while True:
                reply = self._next(replies, self.call_timeout_s, "stream")
                if "piece" in reply:
                    yield str(reply["piece"])
                    continue
                finished = True
                if "error" in reply:
                    raise decode_error(reply["error"])
                return
        finally:
            self._unregister(rid)
            if not finished and self.alive:
                try:
                    self._send({"id": 0, "op": "cancel", "target": rid})
                except ModelCrashedError:
                    pass  # gone already: nothing left to stop

    def close(self) -> None:
        """Stop the process: politely (stdin closed) when it ends within 2 s, else killed."""
        # only an end asked for here is quiet: one that came first is still logged
        self._closing = self.process.poll() is None
        stdin = self.process.stdin
        if stdin is not None:
            try:
                with self._send_lock:
                    stdin.close()
                self.process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()
        if threading.current_thread() is not self._reply_reader:
            self._reply_reader.join(timeout=5)  # it reaps the process and closes the pipes

    def _register(self) -> tuple[int, queue.SimpleQueue[dict[str, Any] | _Ended]]:
        rid = next(self._ids)
        replies: queue.SimpleQueue[dict[str, Any] | _Ended] = queue.SimpleQueue()
        with self._pending_lock:
            if self._ended is not None:
                raise ModelCrashedError(self._ended.reason)
            self._pending[rid] = replies
        return rid, replies

    def _unregister(self, rid: int) -> None:
        with self._pending_lock:
            self._pending.pop(rid, None)

    def _send(self, message: dict[str, Any]) -> None:
        frame = encode(message)
        stdin = self.process.stdin
        try:
            with self._send_lock:
                if stdin is None or stdin.closed:
                    raise BrokenPipeError
                stdin.write(frame)
                stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            raise ModelCrashedError(self._end_reason()) from None

    def _next(
        self, replies: queue.SimpleQueue[dict[str, Any] | _Ended], timeout: float, what: str
    ) -> dict[str, Any]:
        try:
            reply = replies.get(timeout=timeout)
        except queue.Empty:
            log.error(
                "the model process gave no answer to %s within %g s and is stopped", what, timeout
            )
            self._kill()
            raise ModelCrashedError(
                f"the language model did not answer within {timeout:g} s and was restarted"
            ) from None
        if isinstance(reply, _Ended):
            raise ModelCrashedError(reply.reason)
        return reply

    def _read_replies(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                reply = read_message(stdout)
                if reply is None:
                    break
                with self._pending_lock:
                    waiting = self._pending.get(int(reply.get("id", -1)))
                if waiting is not None:
                    waiting.put(reply)  # replies for abandoned streams are dropped
        except (ValueError, OSError, TypeError):
            log.error("the model process sent a malformed reply and is stopped")
            self._kill()
        self._on_exit()

    def _on_exit(self) -> None:
        """The child's stdout closed: reap it, log why, fail every waiting call."""
        try:
            status = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill()
            status = self.process.returncode
        self._stderr_reader.join(timeout=2)
        reason = "the language model's process ended unexpectedly; the next call restarts it"
        if not self._closing:
            log.error(
                "the model process %s ended (%s); its last output: %s",
                self.process.pid,
                _describe_status(status),
                self._stderr_text() or "(none)",
            )
        with self._pending_lock:
            self._ended = _Ended(reason)
            waiting = list(self._pending.values())
            self._pending.clear()
        for replies in waiting:
            replies.put(self._ended)
        self._close_pipes()

    def _close_pipes(self) -> None:
        with self._send_lock:  # the child is gone: a writer holding it fails at once
            for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
                if pipe is not None:
                    try:
                        pipe.close()
                    except OSError:
                        pass  # unsent bytes for a dead process

    def _end_reason(self) -> str:
        ended = self._ended
        return ended.reason if ended else "the language model's process is not running"

    def _keep_stderr_tail(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        while True:
            chunk = os.read(stderr.fileno(), 4096)
            if not chunk:
                return
            self._stderr_tail += chunk
            del self._stderr_tail[:-STDERR_TAIL_BYTES]

    def _stderr_text(self) -> str:
        text = bytes(self._stderr_tail).decode("utf-8", "replace").strip()
        return " | ".join(line.strip() for line in text.splitlines() if line.strip())

    def _kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()


def _describe_status(status: int | None) -> str:
    if status is None:
        return "exit status unknown"
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


def _child_environment() -> dict[str, str]:
    # A minimal environment: the appliance's own (passphrases, tokens) stays out of the
    # process that runs native code on request-supplied prompts.
    env = {
        "PATH": os.defpath,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        # ggml would try to attach a debugger to print a backtrace on abort; the reason
        # line is what the log needs, and the crash should end at once
        "GGML_NO_BACKTRACE": "1",
        "PYTHONPATH": os.pathsep.join(
            p for p in (_SOURCE_ROOT, os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith(_PASSED_PREFIXES)})
    return env
