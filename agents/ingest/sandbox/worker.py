"""The sandboxed side: `python -m agents.ingest.sandbox.worker LIMITS_JSON`.

Sets its own resource limits, then parses one document per request read from stdin and
answers on stdout (frames from `agents.ingest.sandbox.protocol`) until stdin closes. It is
started and killed by `agents.ingest.sandbox.pool`; it never touches a file named by a user.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
import warnings
from typing import IO

from agents.ingest.errors import IngestError, MemoryLimitError, ParserCrashedError
from agents.ingest.sandbox.direct import parse_direct
from agents.ingest.sandbox.document import to_wire
from agents.ingest.sandbox.limits import ParseLimits
from agents.ingest.sandbox.parsers import preload
from agents.ingest.sandbox.protocol import decode_json, encode_frame, encode_json, read_frame

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_MAX_OPEN_FILES = 64


def main() -> None:
    """Serve parse requests until stdin is closed."""
    limits = ParseLimits(**json.loads(sys.argv[1]))
    requests, replies = _private_pipes()
    isolated = _isolate_network()
    warnings.simplefilter("ignore")  # library warnings are noise here, never errors
    preload()
    _silence_output()
    _limit_resources(limits)
    _send(replies, [encode_json({"ready": True, "network_isolated": isolated})])
    while True:
        header = read_frame(requests)
        data = read_frame(requests) if header is not None else None
        if header is None or data is None:
            return
        filename = decode_json(header).get("filename")
        _grant_cpu(limits.cpu_seconds)
        frames, keep_going = _handle(data, filename if isinstance(filename, str) else None, limits)
        del data
        _send(replies, frames)
        if not keep_going:
            return  # after running out of memory the heap may be fragmented: start afresh


def _handle(data: bytes, filename: str | None, limits: ParseLimits) -> tuple[list[bytes], bool]:
    """Reply frames for one request, and whether this worker may take another one."""
    try:
        document = parse_direct(data, filename, limits)
        head, blobs = to_wire(document)
        frames = [encode_json({"ok": True, "document": head})]
        return frames + [encode_frame(blob) for blob in blobs], True
    except IngestError as exc:
        failure = (exc.code, exc.message, exc.detail)
    except MemoryError:
        failure = (MemoryLimitError.code, MemoryLimitError.default_message, "")
    except Exception as exc:  # noqa: BLE001 - answer "crashed" and stay alive for the next one
        failure = (ParserCrashedError.code, ParserCrashedError.default_message, repr(exc)[:200])
    # Only strings leave the except blocks: the exception's traceback would keep the
    # parser's large objects alive while the reply is written.
    code, message, detail = failure
    reply = encode_json({"ok": False, "code": code, "message": message, "detail": detail})
    return [reply], code != MemoryLimitError.code


def _private_pipes() -> tuple[IO[bytes], IO[bytes]]:
    # The protocol gets its own copies of fd 0/1; fd 1 then points at stderr and fd 0 at
    # /dev/null, so a library that prints (from Python or C) cannot corrupt the frames.
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return requests, replies


def _isolate_network() -> bool:
    """Move into an empty network namespace when the kernel allows it (defence in depth:
    even a parser tricked into fetching a URL finds no network)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    for flags in (_CLONE_NEWUSER | _CLONE_NEWNET, _CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return True
    return False


def _silence_output() -> None:
    # Start-up errors went to the sandbox's log file; from now on library chatter goes to
    # /dev/null, a device, so the zero file-size limit below does not turn a stray print
    # into a failed parse.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _limit_resources(limits: ParseLimits) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Parsing needs no files: a write attempt fails instead of landing on disk.
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (_MAX_OPEN_FILES, _MAX_OPEN_FILES))


def _grant_cpu(seconds: int) -> None:
    # RLIMIT_CPU counts the whole life of the process, so each document gets a budget on
    # top of what was used so far. Only the soft limit moves (the hard one could never be
    # raised again); exceeding it delivers SIGXCPU, which kills the worker.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _send(stream: IO[bytes], frames: list[bytes]) -> None:
    for frame in frames:
        stream.write(frame)
    stream.flush()


if __name__ == "__main__":
    main()
