"""The tenant's outbox table: one row per outside effect, and its state transitions.

`insert_message` takes a write connection, so the workflow engine can write the row in
the transaction that completes the step (StepResult.on_commit). The row's id is the
stable message id (run id + step id + item): a step that ran twice inserts once.

States: pending -> delivering (claimed by one dispatcher) -> delivered | pending (retry
later) | dead (schedule used up or refused) | disabled (the endpoint answered 410 Gone,
or its connector is switched off). `redeliver` puts a message back to pending.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agents.act.errors import MessageStateError, PayloadTooLargeError
from storage.clock import now_iso
from storage.database import Database
from storage.errors import NotFoundError
from storage.keyset import newest_first

KINDS = ("email", "webhook", "http", "crm")
STATES = ("pending", "delivering", "delivered", "dead", "disabled")
_COLUMNS = (
    "id, connector_id, endpoint, kind, payload, state, attempts, next_attempt_at, "
    "last_status, last_error, response, run_id, step_id, created_at, updated_at, delivered_at, "
    "last_code"
)
_MAX_ERROR = 1000


@dataclass(frozen=True)
class OutboxMessage:
    """One outbox row; `payload` holds the rendered request, never secrets."""

    id: str
    connector_id: str | None
    endpoint: str
    kind: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: float | None
    last_status: int | None
    last_error: str | None
    response: dict[str, Any] | None
    run_id: str | None
    step_id: str | None
    created_at: str
    updated_at: str
    delivered_at: str | None
    last_code: str | None = None


@dataclass(frozen=True)
class NewMessage:
    """What a step hands to the outbox; `encoded` is the payload's JSON, size-checked."""

    id: str
    kind: str
    endpoint: str
    encoded: str
    connector_id: str | None = None
    run_id: str | None = None
    step_id: str | None = None


def new_message(
    message_id: str,
    kind: str,
    payload: dict[str, Any],
    *,
    endpoint: str,
    max_bytes: int,
    connector_id: str | None = None,
    run_id: str | None = None,
    step_id: str | None = None,
) -> NewMessage:
    """A message ready to insert; PayloadTooLargeError when its JSON exceeds `max_bytes`."""
    if kind not in KINDS:
        raise ValueError(f"outbox kind must be one of {KINDS}")
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    if len(encoded.encode()) > max_bytes:
        raise PayloadTooLargeError(
            f"The rendered message is {len(encoded.encode()) // 1024} KiB; the outbox keeps at "
            f"most {max_bytes // 1024} KiB ([actions] max_body_kb)."
        )
    return NewMessage(message_id, kind, endpoint, encoded, connector_id, run_id, step_id)


def insert_message(conn: Any, message: NewMessage, now: float) -> bool:
    """Write `message` as pending, due at `now`, inside the caller's transaction.

    Returns False when a message with the same id exists (a step that ran again).
    """
    stamp = now_iso()
    cursor = conn.execute(
        f"INSERT OR IGNORE INTO outbox ({_COLUMNS}) "
        "VALUES (?,?,?,?,?,'pending',0,?,NULL,NULL,NULL,?,?,?,?,NULL,NULL)",
        (
            message.id,
            message.connector_id,
            message.endpoint,
            message.kind,
            message.encoded,
            now,
            message.run_id,
            message.step_id,
            stamp,
            stamp,
        ),
    )
    return bool(cursor.rowcount)


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row[0],
        connector_id=row[1],
        endpoint=row[2],
        kind=row[3],
        payload=json.loads(row[4]),
        state=row[5],
        attempts=int(row[6]),
        next_attempt_at=row[7],
        last_status=row[8],
        last_error=row[9],
        response=json.loads(row[10]) if row[10] else None,
        run_id=row[11],
        step_id=row[12],
        created_at=row[13],
        updated_at=row[14],
        delivered_at=row[15],
        last_code=row[16],
    )


def get_message(db: Database, message_id: str) -> OutboxMessage:
    with db.read() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (message_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no outbox message {message_id!r}")
    return _message(row)


def list_messages(
    db: Database, state: str | None = None, limit: int = 50, cursor: str | None = None
) -> tuple[list[OutboxMessage], str | None]:
    """Newest first, `limit` per page; returns (messages, cursor of the next page)."""
    where: list[str] = []
    params: list[Any] = []
    if state:
        if state not in STATES:
            raise MessageStateError(f"state must be one of {', '.join(STATES)}.")
        where.append("state = ?")
        params.append(state)
    return newest_first(
        db,
        f"SELECT {_COLUMNS} FROM outbox",
        _message,
        clauses=where,
        params=params,
        limit=limit,
        cursor=cursor,
    )


def claim(db: Database, message_id: str, now: float, lease_s: float) -> OutboxMessage | None:
    """Take a due pending message for one delivery attempt (attempts + 1), or None when it
    is not pending, not yet due, or another dispatcher holds it. `next_attempt_at` becomes
    the lease's end: a message left `delivering` past it was interrupted.

    Claims and outcomes commit without the WAL fsync (`durable=False`): a killed process
    loses none of them (the OS has the pages); only a power cut may roll one back, and
    then the message is sent again with the same id, which receivers deduplicate."""
    with db.write(durable=False) as conn:
        cursor = conn.execute(
            "UPDATE outbox SET state = 'delivering', attempts = attempts + 1, "
            "next_attempt_at = ?, updated_at = ? "
            "WHERE id = ? AND state = 'pending' AND next_attempt_at <= ?",
            (now + lease_s, now_iso(), message_id, now + 0.5),
        )
        if not cursor.rowcount:
            return None
        row = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (message_id,)).fetchone()
    return _message(row)


def first_due(db: Database, now: float) -> str | None:
    """The id of a pending message that is due, or None."""
    with db.read() as conn:
        row = conn.execute(
            "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? LIMIT 1",
            (now,),
        ).fetchone()
    return None if row is None else str(row[0])


def claim_due(db: Database, now: float, lease_s: float, limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` pending messages that are due, longest-waiting first, in one
    transaction (see `claim`). A crash returns the unsent ones to pending unharmed."""
    with db.write(durable=False) as conn:
        ids = [
            str(row[0])
            for row in conn.execute(
                "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at LIMIT ?",
                (now, limit),
            ).fetchall()
        ]
        claimed = [claim(db, message_id, now, lease_s) for message_id in ids]  # joins
    return [message for message in claimed if message is not None]


def record_outcome(
    db: Database,
    message_id: str,
    state: str,
    *,
    status: int | None,
    error: str | None,
    next_attempt_at: float | None = None,
    response: dict[str, Any] | None = None,
    disable_endpoint: str | None = None,
    code: str | None = None,
) -> None:
    """Store how an attempt ended; `disable_endpoint` also marks the endpoint gone."""
    stamp = now_iso()
    with db.write(durable=False) as conn:
        conn.execute(
            "UPDATE outbox SET state = ?, next_attempt_at = ?, last_status = ?, "
            "last_error = ?, last_code = ?, response = COALESCE(?, response), updated_at = ?, "
            "delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END "
            "WHERE id = ? AND state = 'delivering'",
            (
                state,
                next_attempt_at,
                status,
                error[:_MAX_ERROR] if error else None,
                code,
                json.dumps(response) if response is not None else None,
                stamp,
                state,
                stamp,
                message_id,
            ),
        )
        if disable_endpoint is not None:
            conn.execute(
                "INSERT OR REPLACE INTO outbox_endpoints (endpoint, disabled_at, reason) "
                "VALUES (?,?,?)",
                (disable_endpoint, stamp, (error or "410 Gone")[:_MAX_ERROR]),
            )


def endpoint_disabled(db: Database, endpoint: str) -> str | None:
    """The reason an endpoint was disabled, or None when it is enabled."""
    with db.read() as conn:
        row = conn.execute(
            "SELECT reason FROM outbox_endpoints WHERE endpoint = ?", (endpoint,)
        ).fetchone()
    return None if row is None else str(row[0])


def disabled_endpoints(db: Database) -> dict[str, str]:
    with db.read() as conn:
        rows = conn.execute("SELECT endpoint, reason FROM outbox_endpoints").fetchall()
    return {str(row[0]): str(row[1]) for row in rows}


def redeliver(db: Database, message_id: str, now: float) -> OutboxMessage:
    """Put a dead, disabled or delivered message back to pending, due now, with a fresh
    schedule; its endpoint is enabled again. A message pending or delivering is refused."""
    with db.write() as conn:
        row = conn.execute(
            "SELECT state, endpoint FROM outbox WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no outbox message {message_id!r}")
        if row[0] in ("pending", "delivering"):
            raise MessageStateError(f"The message is {row[0]}; it will be delivered anyway.")
        conn.execute(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, "
            "updated_at = ? WHERE id = ?",
            (now, now_iso(), message_id),
        )
        conn.execute("DELETE FROM outbox_endpoints WHERE endpoint = ?", (row[1],))
    return get_message(db, message_id)


def due_messages(db: Database, now: float, *, interrupted_too: bool) -> list[str]:
    """Ids of pending messages due by `now`, and of messages left `delivering` (all of them
    when `interrupted_too`, else only those whose lease ran out); the latter go back to
    pending. Called at start-up (every `delivering` row was interrupted) and by the sweep."""
    with db.write() as conn:
        if interrupted_too:
            conn.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ? "
                "WHERE state = 'delivering'",
                (now,),
            )
        else:
            conn.execute(
                "UPDATE outbox SET state = 'pending' "
                "WHERE state = 'delivering' AND next_attempt_at <= ?",
                (now,),
            )
        rows = conn.execute(
            "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at",
            (now,),
        ).fetchall()
    return [str(row[0]) for row in rows]


def counts(db: Database) -> dict[str, int]:
    """Messages per state (every state present, zero when none)."""
    with db.read() as conn:
        rows = conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
    found = {str(row[0]): int(row[1]) for row in rows}
    return {state: found.get(state, 0) for state in STATES}
