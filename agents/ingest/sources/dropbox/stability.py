"""Deciding that a file has stopped changing, and the per-file state of the worker."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agents.ingest.sources.dropbox.outcome import DropOutcome

# size, mtime_ns, inode: a writer appending or rewriting changes one of them, and a file
# replaced under the same name changes the inode.
Signature = tuple[int, int, int]


def signature(st: os.stat_result) -> Signature:
    """The part of a stat result that changes while a file is being written."""
    return (st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass
class Candidate:
    """A file the worker is watching until it is stable, taken and moved."""

    path: Path
    relative_name: str
    due: float = 0.0
    signature: Signature | None = None
    stable_since: float = 0.0
    # Set once the sink has answered but the move failed: a retry only moves the file.
    outcome: DropOutcome | None = None
    warned: bool = False

    def observe(self, sig: Signature, now: float, stable_for: float) -> bool:
        """Record one look at the file; True once it has not changed for `stable_for` s.

        Times are from our monotonic clock, not the file's mtime, because the clocks of
        network file servers may be skewed against ours.
        """
        if sig != self.signature:
            self.signature = sig
            self.stable_since = now
            self.due = now + stable_for
            return False
        if now - self.stable_since >= stable_for:
            return True
        self.due = self.stable_since + stable_for
        return False
