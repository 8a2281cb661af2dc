"""Rows of runs and run steps; plain functions over a connection the engine holds."""

import json
from dataclasses import dataclass, fields
from typing import Any

from agents.supervisor.errors import RunNotFound
from agents.supervisor.workflow_store import iso

FINAL_RUN = ("succeeded", "failed", "cancelled")
FINAL_STEP = ("succeeded", "failed", "cancelled", "skipped")
RUN_STATUSES = ("queued", "running", *FINAL_RUN)


@dataclass
class RunRow:
    id: str
    seq: int
    workflow_id: str
    version: int
    status: str
    failing: int
    inputs: str
    trigger: str
    error_code: str | None
    error_message: str | None
    created_by: str | None
    retries: int
    queued_at: float
    started_at: float | None
    finished_at: float | None
    deadline_at: float | None

    @property
    def final(self) -> bool:
        return self.status in FINAL_RUN


@dataclass
class StepRow:
    id: int
    run_id: str
    step_id: str
    item: int
    phase: str
    agent: str
    status: str
    attempts: int
    max_attempts: int
    item_value: str | None
    output: str | None
    output_blob: str | None
    error_code: str | None
    error_message: str | None
    queued_at: float
    first_started_at: float | None
    started_at: float | None
    finished_at: float | None
    not_before: float | None
    claimed_by: str | None
    lease_until: float | None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STEP


RUN_COLUMNS = ", ".join(f.name for f in fields(RunRow))
STEP_COLUMNS = ", ".join(f.name for f in fields(StepRow))


def get_run(conn: Any, run_id: str) -> RunRow:
    row = conn.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise RunNotFound("no such run")
    return RunRow(*row)


def find_run(conn: Any, run_id: str) -> RunRow | None:
    row = conn.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
    return RunRow(*row) if row else None


def insert_run(conn: Any, run: RunRow) -> None:
    marks = ", ".join("?" for _ in fields(RunRow))
    values = [getattr(run, f.name) for f in fields(RunRow)]
    conn.execute(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({marks})", values)


def next_seq(conn: Any) -> int:
    (seq,) = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM runs").fetchone()
    return int(seq)


def update_run(conn: Any, run_id: str, **values: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*values.values(), run_id))


def step_rows(conn: Any, run_id: str) -> list[StepRow]:
    rows = conn.execute(
        f"SELECT {STEP_COLUMNS} FROM run_steps WHERE run_id = ? ORDER BY id", (run_id,)
    ).fetchall()
    return [StepRow(*r) for r in rows]


def get_step(conn: Any, row_id: int) -> StepRow | None:
    row = conn.execute(f"SELECT {STEP_COLUMNS} FROM run_steps WHERE id = ?", (row_id,)).fetchone()
    return StepRow(*row) if row else None


def insert_step(conn: Any, **values: Any) -> int:
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = conn.execute(
        f"INSERT INTO run_steps ({names}) VALUES ({marks})", tuple(values.values())
    )
    return int(cursor.lastrowid)


def update_step(conn: Any, row_id: int, **values: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE run_steps SET {sets} WHERE id = ?", (*values.values(), row_id))


def list_runs(
    conn: Any,
    *,
    workflow_id: str | None = None,
    status: str | None = None,
    since: float | None = None,
    until: float | None = None,
    limit: int = 50,
    cursor: int | None = None,
) -> tuple[list[RunRow], int | None]:
    """Newest first; the cursor is the `seq` to continue below."""
    where, args = [], []
    for clause, value in (
        ("workflow_id = ?", workflow_id),
        ("status = ?", status),
        ("queued_at >= ?", since),
        ("queued_at < ?", until),
        ("seq < ?", cursor),
    ):
        if value is not None:
            where.append(clause)
            args.append(value)
    sql = f"SELECT {RUN_COLUMNS} FROM runs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = conn.execute(sql + " ORDER BY seq DESC LIMIT ?", (*args, limit + 1)).fetchall()
    runs = [RunRow(*r) for r in rows[:limit]]
    return runs, (runs[-1].seq if len(rows) > limit else None)


def run_public(run: RunRow, workflow_name: str | None = None) -> dict[str, Any]:
    duration = None
    if run.started_at and run.finished_at:
        duration = round(run.finished_at - run.started_at, 3)
    return {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "workflow": workflow_name,
        "version": run.version,
        "status": run.status,
        "inputs": json.loads(run.inputs),
        "trigger": json.loads(run.trigger),
        "error": {"code": run.error_code, "message": run.error_message} if run.error_code else None,
        "created_by": run.created_by,
        "retries": run.retries,
        "queued_at": iso(run.queued_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "duration_s": duration,
    }


def step_public(row: StepRow, output: Any) -> dict[str, Any]:
    duration = None
    if row.started_at and row.finished_at:
        duration = round(row.finished_at - row.started_at, 3)
    return {
        "step_id": row.step_id,
        "item": None if row.item < 0 else row.item,
        "phase": row.phase,
        "agent": row.agent,
        "status": row.status,
        "attempts": row.attempts,
        "max_attempts": row.max_attempts,
        "output": output,
        "error": {"code": row.error_code, "message": row.error_message} if row.error_code else None,
        "queued_at": iso(row.queued_at),
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
        "duration_s": duration,
        "wake_at": iso(row.not_before) if row.status == "waiting" else None,
    }
