"""Claims on documents being parsed or indexed, across the processes of one data directory.

A queued parse or index first claims its document (state `parsing` / `indexing`, the
claiming process's token, the attempt counted) in one write transaction. A second delivery
of the same task while a live process holds the claim does nothing; a claim of a process
that died is taken over. Reconcilers use `orphaned` to find what killed processes left.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.clock import now_iso
from storage.database import Database
from storage.process_identity import process_token, token_alive

ACTIVE_STATES = ("parsing", "indexing")


def claim(db: Database, document_id: str, state: str) -> bool:
    """Move the document to `state` (parsing or indexing) for this process; False when
    another live process is already in that state on it."""
    token = process_token()
    with db.write() as conn:
        row = conn.execute(
            "SELECT state, claimed_by FROM documents WHERE id = ?", (document_id,)
        ).fetchone()
        if row is None:
            return True  # the caller's own read finds it gone and says so
        current, holder = row
        if current == state and holder not in (None, token) and token_alive(holder):
            return False
        conn.execute(
            "UPDATE documents SET state = ?, attempts = attempts + 1, claimed_by = ?, "
            "updated_at = ? WHERE id = ?",
            (state, token, now_iso(), document_id),
        )
    return True


def mark_claimed(conn: Any, document_id: str) -> None:
    """Inside the caller's transaction: this process holds the document (parse at once)."""
    conn.execute("UPDATE documents SET claimed_by = ? WHERE id = ?", (process_token(), document_id))


@dataclass(frozen=True)
class Unfinished:
    """A document in a non-final state and who holds it."""

    document_id: str
    state: str
    attempts: int
    claimed_by: str | None
    updated_at: str
    error_code: str | None = None  # the last (transient) fault, if any


def unfinished(db: Database) -> list[Unfinished]:
    with db.read() as conn:
        rows = conn.execute(
            "SELECT id, state, attempts, claimed_by, updated_at, error_code FROM documents "
            "WHERE state IN "
            "('received', 'parsing', 'parsed', 'indexing') ORDER BY created_at"
        ).fetchall()
    return [Unfinished(*row) for row in rows]


def orphaned(db: Database, stale_after_s: float | None) -> Iterator[Unfinished]:
    """Unfinished documents no live process is working on.

    Parsing or indexing: claimed by a dead process, or unclaimed (rows from before claims
    existed) and not touched for `stale_after_s`. Received or parsed: not touched for
    `stale_after_s` (the caller also leaves out those whose task still waits in the
    queue). `stale_after_s = None` is this process's start-up, before it runs any task:
    every unclaimed document, and this process's own claims (a test restarting in one
    process), count at once."""
    starting = stale_after_s is None
    ago = timedelta(seconds=stale_after_s or 0.0)
    cutoff = (datetime.now(UTC) - ago).isoformat(timespec="milliseconds")
    mine = process_token()
    for item in unfinished(db):
        if item.state in ACTIVE_STATES and item.claimed_by is not None:
            if (starting and item.claimed_by == mine) or not token_alive(item.claimed_by):
                yield item
        elif starting or item.updated_at <= cutoff:
            yield item
