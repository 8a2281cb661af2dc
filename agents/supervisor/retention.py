"""Pruning finished runs by age and by count; unfinished runs are never touched."""

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.supervisor.engine import Engine

log = logging.getLogger("appliance.supervisor")

_FINISHED = "status IN ('succeeded', 'failed', 'cancelled')"


@dataclass(frozen=True)
class Retention:
    max_age_days: float = 30.0
    max_runs: int = 10_000  # finished runs kept per tenant, newest first


def prune_runs(engine: "Engine", tenant_id: str, retention: Retention) -> int:
    """Delete finished runs older than the age limit or beyond the newest `max_runs`,
    with their steps, trigger records and output blobs; then give free pages back."""
    cutoff = engine.clock() - retention.max_age_days * 86400
    db = engine.db(tenant_id)
    with db.write() as conn:
        doomed = [
            run_id
            for (run_id,) in conn.execute(
                f"SELECT id FROM runs WHERE {_FINISHED} AND (finished_at < ? OR seq <= "
                f"coalesce((SELECT seq FROM runs WHERE {_FINISHED} ORDER BY seq DESC "
                "LIMIT 1 OFFSET ?), -1))",
                (cutoff, retention.max_runs),
            ).fetchall()
        ]
        blobs: list[str] = []
        for start in range(0, len(doomed), 500):
            part = doomed[start : start + 500]
            marks = ",".join("?" for _ in part)
            blobs += [
                b
                for (b,) in conn.execute(
                    f"SELECT output_blob FROM run_steps WHERE run_id IN ({marks}) "
                    "AND output_blob IS NOT NULL",
                    part,
                ).fetchall()
            ]
            conn.execute(f"DELETE FROM runs WHERE id IN ({marks})", part)
    store = engine.tenants.blobs(tenant_id)
    for blob_id in blobs:
        store.delete(blob_id)
    if doomed:
        with db.write() as conn:
            # frees pages when the file uses incremental auto-vacuum; otherwise SQLite
            # reuses the freed pages for later writes
            conn.execute("PRAGMA incremental_vacuum")
        log.info("pruned %d finished runs of tenant %s", len(doomed), tenant_id[:8])
    return len(doomed)
