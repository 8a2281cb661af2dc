"""The reconciler: puts back on the queue what a dead worker or a lost task left behind.

Huey does not redeliver a task whose worker was killed. At start-up (`startup=True`)
every queued or waiting step is enqueued again (a duplicate delivery is harmless: the
claim finds the row taken) and steps claimed by a process that no longer exists are
queued again, keeping their attempt count so a step never runs more than its attempts.
Periodically, the same for claims past their lease, queued rows that waited too long,
and runs past their timeout.
"""

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents.supervisor.run_store import get_run

if TYPE_CHECKING:
    from agents.supervisor.engine import Engine

log = logging.getLogger("appliance.supervisor")

_STALE_QUEUED_S = 600.0


@dataclass
class ReconcileReport:
    requeued: int = 0
    orphans: int = 0
    timed_out: int = 0


def _process_alive(token: str | None) -> bool:
    if not token:
        return False
    try:
        pid = int(token.split(":", 1)[0])
    except ValueError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reconcile_tenant(engine: "Engine", tenant_id: str, *, startup: bool) -> ReconcileReport:
    """One pass over one tenant's unfinished runs."""
    report = ReconcileReport()
    outputs = engine.outputs(tenant_id)
    now = engine.clock()
    to_enqueue: list[int] = []
    with engine.db(tenant_id).write() as conn:
        claimed = conn.execute(
            "SELECT s.id, s.claimed_by, s.lease_until FROM run_steps s "
            "JOIN runs r ON r.id = s.run_id "
            "WHERE s.status = 'running' AND s.claimed_by IS NOT NULL AND r.status = 'running'"
        ).fetchall()
        for row_id, token, lease in claimed:
            ours = token == engine.worker_token
            dead = not ours and not _process_alive(token)
            expired = lease is not None and lease < now
            if dead or expired:
                conn.execute(
                    "UPDATE run_steps SET status = 'queued', claimed_by = NULL, lease_until = NULL "
                    "WHERE id = ?",
                    (row_id,),
                )
                to_enqueue.append(row_id)
                report.orphans += 1
        stale_before = now if startup else now - _STALE_QUEUED_S
        waiting = conn.execute(
            "SELECT s.id FROM run_steps s JOIN runs r ON r.id = s.run_id "
            "WHERE r.status = 'running' AND ((s.status = 'queued' AND s.queued_at <= ?) "
            "OR (s.status = 'waiting' AND ?))",
            (stale_before, int(startup)),
        ).fetchall()
        to_enqueue += [row_id for (row_id,) in waiting]
        overdue = conn.execute(
            "SELECT id FROM runs WHERE status = 'running' AND deadline_at IS NOT NULL "
            "AND deadline_at < ? AND failing = 0",
            (now,),
        ).fetchall()
        for (run_id,) in overdue:
            run = get_run(conn, run_id)
            to_enqueue += engine.planner.fail_run(
                conn, run, "run_timeout", "the run took longer than its timeout", outputs
            )
            report.timed_out += 1
        if startup:
            # a crash between two of a run's transactions cannot strand it, but a run
            # admitted by an older version of the code might: let the planner look again
            for (run_id,) in conn.execute(
                "SELECT id FROM runs WHERE status = 'running'"
            ).fetchall():
                to_enqueue += engine.planner.advance(conn, run_id, outputs)
            workflows = conn.execute(
                "SELECT DISTINCT workflow_id FROM runs WHERE status = 'queued'"
            ).fetchall()
            for (workflow_id,) in workflows:
                to_enqueue += engine.planner.admit(conn, workflow_id, outputs)
    unique = sorted(set(to_enqueue))
    engine.dispatch_rows(tenant_id, unique)
    report.requeued = len(unique)
    if report.orphans or report.timed_out:
        log.info(
            "reconciled tenant %s: %d orphaned steps, %d runs timed out",
            tenant_id[:8],
            report.orphans,
            report.timed_out,
        )
    return report
