"""GET /tenants/{tenant}/status: what the tenant's agents are doing now.

The queue figures are the tenant's own (appliance admins also see the totals), so a
member learns nothing of other tenants' activity.

Agents (ingest, analyze, llm, and the workflow engine once it exists) with their state
and running/queued tasks of this tenant, the queue, documents by state, runs in
progress, model state and the latest warnings and errors of the activity log.
"""

import dataclasses
from collections import Counter
from typing import Any

from litestar import get

from agents.telemetry.activity_log import LEVELS, ActivityLog, ActivityQuery
from app.api.deps import QueueDep, RuntimeDep, TenantAccessDep, TenantDbDep
from app.queue import QueueRunner
from storage.database import Database

PENDING_SCANNED = 1000  # queued tasks read to count this tenant's (the rest only in total)
LAST_ERRORS = 10


def _queued_for(queue: QueueRunner, tenant_id: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for task in queue.huey.pending(limit=PENDING_SCANNED):
        payload = task.args[0] if task.args else None
        if getattr(payload, "tenant_id", None) == tenant_id:
            counts[task.name] += 1
    return counts


def _documents(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {
            s: int(n)
            for s, n in conn.execute("SELECT state, count(*) FROM documents GROUP BY state")
        }


def _runs_in_progress(db: Database) -> int | None:
    """Runs queued or running, when the workflow tables exist (None before)."""
    with db.read() as conn:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'"
        ).fetchone()
        if not exists:
            return None
        try:
            row = conn.execute(
                "SELECT count(*) FROM runs WHERE status IN ('pending', 'queued', 'running')"
            ).fetchone()
        except Exception:  # noqa: BLE001 - a runs table of another shape: unknown
            return None
    return int(row[0])


def agent_states(queue: QueueRunner, tenant_id: str, llm: Any) -> dict[str, Any]:
    queued = _queued_for(queue, tenant_id)
    agents: dict[str, Any] = {}
    for name, task_name, tenant, seconds in (
        (n.partition(".")[0], n, t, s) for n, t, s in queue.running_tasks()
    ):
        if tenant != tenant_id:
            continue
        agent = agents.setdefault(name, {"state": "busy", "running": [], "queued": 0})
        agent["running"].append({"task": task_name, "seconds": round(seconds, 1)})
    for task_name, count in queued.items():
        agent = agents.setdefault(
            task_name.partition(".")[0], {"state": "idle", "running": [], "queued": 0}
        )
        agent["queued"] += count
    for name in ("ingest", "analyze"):
        agents.setdefault(name, {"state": "idle", "running": [], "queued": 0})
    if llm is not None:
        status = llm.status()
        agents["llm"] = {
            "state": "busy" if status.busy else ("idle" if status.loaded else "not loaded"),
            "waiting": status.waiting,
        }
    return agents


@get("/status", opt={"min_role": "viewer"}, sync_to_thread=True, tags=["status"])
def tenant_status(
    tenant_access: TenantAccessDep,
    tenant_db: TenantDbDep,
    runtime: RuntimeDep,
    queue: QueueDep,
) -> dict[str, Any]:
    """Agents and what each is doing, queue, documents, runs in progress, models, errors."""
    tenant_id = tenant_access.tenant_id
    llm = runtime.llm
    analysis = runtime.analysis
    errors, _ = ActivityLog(tenant_db).search(
        ActivityQuery(min_level=LEVELS["WARNING"], limit=LAST_ERRORS)
    )
    agents = agent_states(queue, tenant_id, llm)
    overall = queue.status()
    queue_view = {
        "running": overall["running"],
        "workers": overall["workers"],
        # this tenant's tasks only: other tenants' volume is not a member's business
        "pending": sum(a.get("queued", 0) for a in agents.values()),
    }
    if tenant_access.principal.admin_powers:
        queue_view["pending_all_tenants"] = overall["pending"]
        queue_view["busy_workers"] = overall["busy_workers"]
    return {
        "tenant": tenant_access.tenant.slug,
        "agents": agents,
        "queue": queue_view,
        "documents": _documents(tenant_db),
        "runs_in_progress": _runs_in_progress(tenant_db),
        "models": {
            "embedding": analysis.status() if analysis is not None else None,
            "llm": dataclasses.asdict(llm.status()) if llm is not None else None,
        },
        "last_errors": [e.public() for e in errors],
    }
