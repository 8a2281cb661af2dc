"""Helpers for the drop-box tests: a sink standing in for the ledger, and bounded waits.

The sink is a test double of the caller (the ledger lives in the tenant database, wired
in by the composition root); it reads files the way the real one must, through
read_dropped_file, and classifies them by content.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agents.ingest.sources.dropbox import DropBoxConfig, DropOutcome, read_dropped_file


def fast_config(**changes: object) -> DropBoxConfig:
    """Short intervals so that tests finish quickly; anything can be overridden."""
    base = DropBoxConfig(poll_interval_s=0.2, stable_for_s=0.3, retry_interval_s=0.2)
    return dataclasses.replace(base, **changes)


@dataclass
class Call:
    relative_name: str
    content: bytes
    at: float  # time.monotonic() when the sink was called


@dataclass
class LedgerSink:
    """Records every call; b"CORRUPT" -> malformed, blank -> empty, b"BOOM" -> raises,
    repeated content -> duplicate of the first document."""

    calls: list[Call] = field(default_factory=list)
    documents: dict[str, str] = field(default_factory=dict)  # sha256 -> document id
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, path: Path, relative_name: str) -> DropOutcome:
        data = read_dropped_file(path, max_bytes=10 * 1024 * 1024)
        with self.lock:
            self.calls.append(Call(relative_name, data, time.monotonic()))
            if data.startswith(b"BOOM"):
                raise RuntimeError("ledger unavailable:\n  database is locked")
            if not data.strip():
                return DropOutcome.failed("empty", "the file has no content")
            if data.startswith(b"CORRUPT"):
                return DropOutcome.failed("malformed", "the file is damaged")
            digest = hashlib.sha256(data).hexdigest()
            if digest in self.documents:
                return DropOutcome.done("duplicate", document_id=self.documents[digest])
            self.documents[digest] = f"doc-{len(self.documents) + 1}"
            return DropOutcome.done("added", document_id=self.documents[digest])

    def names(self) -> list[str]:
        with self.lock:
            return [c.relative_name for c in self.calls]


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds passed; returns the last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def reason(inbox: Path, name: str) -> dict[str, object]:
    """The parsed reason file of `.failed/<name>`."""
    data: dict[str, object] = json.loads((inbox / ".failed" / f"{name}.reason.json").read_text())
    return data


def left_in_inbox(inbox: Path) -> list[str]:
    """Everything in the inbox except the .done/.failed folders, as relative paths."""
    return sorted(
        p.relative_to(inbox).as_posix()
        for p in inbox.rglob("*")
        if p.relative_to(inbox).parts[0] not in (".done", ".failed") and not p.is_dir()
    )
