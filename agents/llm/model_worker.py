"""The model's side: `python -m agents.llm.model_worker SPEC_JSON`.

Loads the GGUF model once with the in-process `LlamaCppBackend`, says it is ready, and
then serves requests from stdin until stdin closes (frames from `agents.llm.model_wire`).
Native code that aborts (llama.cpp's grammar code calls abort() on some inputs) ends only
this process; the server's `ModelProcess` notices, fails the calls in flight with
`model_crashed` and starts a new process on the next call.

Two threads: the main one reads requests and answers the quick ones at once (token
counts, grammar checks: they only read the vocabulary, as they did in-process while a
generation ran); generations run one at a time on a second thread, and a `cancel`
request stops a stream between two pieces.
"""

from __future__ import annotations

import ctypes
import json
import os
import queue
import resource
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from agents.llm.config import LLMConfig
from agents.llm.errors import LLMError
from agents.llm.llama_backend import LlamaCppBackend
from agents.llm.model_wire import encode, encode_error, read_message
from agents.models import ModelLocation

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_MAX_OPEN_FILES = 256


class ReplyWriter:
    """Writes whole frames to the server; both threads share it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        """Write one message and flush it (the server is waiting for it)."""
        frame = encode(message)
        with self._lock:
            self._stream.write(frame)
            self._stream.flush()


class ModelServer:
    """Answers requests for one loaded model."""

    def __init__(self, backend: LlamaCppBackend, writer: ReplyWriter) -> None:
        self._backend = backend
        self._writer = writer
        self._jobs: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._cancelled: set[int] = set()
        self._cancel_lock = threading.Lock()

    def serve(self, requests: IO[bytes]) -> None:
        """Read requests until the server closes stdin."""
        threading.Thread(target=self._generate_forever, name="generation", daemon=True).start()
        while True:
            request = read_message(requests)
            if request is None:
                return
            op = request.get("op")
            if op in ("complete", "stream"):
                self._jobs.put(request)
            elif op == "cancel":
                with self._cancel_lock:
                    self._cancelled.add(int(request.get("target", -1)))
            else:
                self._answer(request)

    def _answer(self, request: dict[str, Any]) -> None:
        rid = request.get("id")
        try:
            if request.get("op") == "count_tokens":
                value: Any = self._backend.count_tokens(str(request["text"]))
            elif request.get("op") == "check_schema":
                self._backend.check_schema(request["schema"])
                value = None
            else:
                raise LLMError(f"unknown request {request.get('op')!r}")
            self._writer.send({"id": rid, "value": value})
        except Exception as error:  # noqa: BLE001 - answered, and the process serves on
            self._writer.send({"id": rid, "error": _wire_error(error)})

    def _is_cancelled(self, rid: int) -> bool:
        with self._cancel_lock:
            return rid in self._cancelled

    def _generate_forever(self) -> None:
        while True:
            request = self._jobs.get()
            rid = int(request["id"])
            with self._cancel_lock:
                # ids only grow: a cancel for an earlier request can no longer matter
                self._cancelled = {i for i in self._cancelled if i >= rid}
            if self._is_cancelled(rid):
                continue
            try:
                if request["op"] == "complete":
                    self._complete(rid, request)
                else:
                    self._stream(rid, request)
            except Exception as error:  # noqa: BLE001 - answered, and the process serves on
                self._writer.send({"id": rid, "error": _wire_error(error)})

    def _complete(self, rid: int, request: dict[str, Any]) -> None:
        completion = self._backend.complete(
            request["messages"],
            max_tokens=int(request["max_tokens"]),
            temperature=float(request["temperature"]),
            stop=list(request["stop"]),
            json_schema=request.get("json_schema"),
            seed=request.get("seed"),
        )
        self._writer.send({"id": rid, "value": asdict(completion)})

    def _stream(self, rid: int, request: dict[str, Any]) -> None:
        pieces = self._backend.stream(
            request["messages"],
            max_tokens=int(request["max_tokens"]),
            temperature=float(request["temperature"]),
            stop=list(request["stop"]),
            repeat_penalty=float(request.get("repeat_penalty", 1.0)),
        )
        try:
            for piece in pieces:
                if self._is_cancelled(rid):
                    return  # the server stopped listening; nobody waits for an answer
                self._writer.send({"id": rid, "piece": piece})
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
        self._writer.send({"id": rid, "value": None})


def _wire_error(error: Exception) -> dict[str, Any]:
    if isinstance(error, LLMError):
        return encode_error(error)
    # an unexpected library error: its type only (messages may quote the prompt)
    return encode_error(LLMError(f"llama.cpp failed ({type(error).__name__})"))


def _private_pipes() -> tuple[IO[bytes], IO[bytes]]:
    # The protocol gets its own copies of fd 0/1; fd 1 then points at stderr and fd 0 at
    # /dev/null, so native code that prints cannot corrupt the frames.
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return requests, replies


def _isolate_network() -> bool:
    """Move into an empty network namespace when the kernel allows it: a model never
    needs the network. Done after loading, as a new user namespace may lose the right
    to read the model file."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    for flags in (_CLONE_NEWUSER | _CLONE_NEWNET, _CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return True
    return False


def main() -> None:
    """Load the model, report ready (or why not), then serve until stdin closes."""
    spec = json.loads(sys.argv[1])
    requests, replies = _private_pipes()
    writer = ReplyWriter(replies)
    # an abort must not write a core file of the model's memory to the disk
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (_MAX_OPEN_FILES, _MAX_OPEN_FILES))
    backend = LlamaCppBackend(
        ModelLocation(str(spec["name"]), Path(spec["path"])), LLMConfig(**spec["config"])
    )
    try:
        backend.load()
    except LLMError as error:
        writer.send({"id": 0, "ready": False, "error": encode_error(error)})
        return
    isolated = _isolate_network()
    writer.send(
        {
            "id": 0,
            "ready": True,
            "memory_bytes": backend.memory_bytes(),
            "network_isolated": isolated,
        }
    )
    ModelServer(backend, writer).serve(requests)
    # skip interpreter teardown: freeing the model while a cancelled generation may still
    # be between two tokens is work nobody waits for
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
