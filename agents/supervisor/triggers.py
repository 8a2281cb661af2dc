"""Automatic triggers: a document reaching `indexed`, an inbound hook delivery (its record,
once indexed), a schedule.

Each event has a key (the document id, the delivery, the schedule slot) recorded per
workflow in `trigger_events`, so an event never starts the same workflow twice (restart,
re-delivery). Only enabled workflows react to automatic triggers; `manual` and `api`
runs are started through the engine directly.
"""

import fnmatch
import json
import logging
from typing import TYPE_CHECKING, Any

from agents.supervisor.schedule import latest_slot
from agents.supervisor.workflow_store import WorkflowRecord

if TYPE_CHECKING:
    from agents.supervisor.engine import Engine

log = logging.getLogger("appliance.supervisor")

# what a workflow may write for `source:`, and the ledger sources each stands for
SOURCE_ALIASES = {
    "mailbox": {"imap", "pop3"},
    "mail": {"imap", "pop3"},
    "drop box": {"dropbox"},
    "dropbox": {"dropbox"},
    "upload": {"upload", "cli"},
    "hook": {"hook"},
}


def _many(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def document_matches(trigger: dict[str, Any], document: dict[str, Any]) -> bool:
    """Whether an indexed document passes a `document` trigger's filters."""
    sources = _many(trigger.get("source"))
    if sources:
        wanted = set().union(*(SOURCE_ALIASES.get(s, {s}) for s in sources))
        if document["source"] not in wanted:
            return False
    types = [t.lower().lstrip(".") for t in _many(trigger.get("document_type"))]
    if types and (document.get("document_type") or "").lower() not in types:
        return False
    pattern = trigger.get("filename")
    if pattern and not fnmatch.fnmatch((document.get("filename") or "").lower(), pattern.lower()):
        return False
    metadata = document.get("metadata") or {}
    return all(metadata.get(k) == v for k, v in (trigger.get("metadata") or {}).items())


def hook_matches(trigger: dict[str, Any], document: dict[str, Any]) -> bool:
    """Whether a document is a record delivered by the hook a `hook` trigger names
    (by connector name or id; no name means any hook)."""
    if document["source"] != "hook":
        return False
    metadata = document.get("metadata") or {}
    wanted = trigger.get("hook")
    return wanted is None or wanted in (metadata.get("hook"), metadata.get("hook_id"))


class Triggers:
    """Starts runs for automatic trigger events of one appliance."""

    def __init__(self, engine: "Engine") -> None:
        self.engine = engine

    def _enabled_with(
        self, tenant_id: str, kind: str
    ) -> list[tuple[WorkflowRecord, list[dict[str, Any]]]]:
        found = []
        for record in self.engine.workflows(tenant_id).list_all():
            if not record.enabled:
                continue
            matching = [t for t in record.triggers if t.get("type") == kind]
            if matching:
                found.append((record, matching))
        return found

    def document_indexed(self, tenant_id: str, document_id: str) -> list[str]:
        """Start every enabled workflow whose `document` trigger matches the document, or
        whose `hook` trigger names the hook that delivered it; returns the run ids."""
        candidates = self._enabled_with(tenant_id, "document") + self._enabled_with(
            tenant_id, "hook"
        )
        if not candidates:
            return []
        with self.engine.db(tenant_id).read() as conn:
            row = conn.execute(
                "SELECT source, format, filename, metadata, title, state FROM documents "
                "WHERE id = ?",
                (document_id,),
            ).fetchone()
        if row is None or row[5] != "indexed":
            return []
        document = {
            "document_id": document_id,
            "source": row[0],
            "document_type": row[1],
            "filename": row[2],
            "metadata": json.loads(row[3] or "{}"),
            "title": row[4],
        }
        started = []
        for record, triggers in candidates:
            kind = triggers[0]["type"]
            if kind == "document" and any(document_matches(t, document) for t in triggers):
                event = {**document, "type": "document"}
            elif kind == "hook" and any(hook_matches(t, document) for t in triggers):
                metadata = document["metadata"]
                event = {
                    **document,
                    "type": "hook",
                    "hook": metadata.get("hook"),
                    "hook_id": metadata.get("hook_id"),
                }
            else:
                continue
            run_id = self._start(tenant_id, record, event, f"{kind}:{document_id}")
            if run_id:
                started.append(run_id)
        return started

    def schedule_tick(self, tenant_id: str) -> list[str]:
        """Start each schedule whose latest slot has not run; missed slots run once."""
        now = self.engine.clock()
        started = []
        for record, triggers in self._enabled_with(tenant_id, "schedule"):
            for trigger in triggers:
                slot = self._due_slot(tenant_id, record.id, trigger, now)
                if slot is None:
                    continue
                event = {"type": "schedule", "cron": trigger["cron"], "slot": slot}
                # the event key makes the start idempotent, so the mark moves on only
                # after it: a crash in between starts nothing twice and loses no slot
                run_id = self._start(
                    tenant_id, record, event, f"schedule:{trigger['cron']}:{slot:.0f}"
                )
                self._mark(tenant_id, record.id, trigger["cron"], slot)
                if run_id:
                    started.append(run_id)
        return started

    def _due_slot(
        self, tenant_id: str, workflow_id: str, trigger: dict[str, Any], now: float
    ) -> float | None:
        cron, zone = trigger["cron"], trigger.get("timezone", "UTC")
        with self.engine.db(tenant_id).write() as conn:
            row = conn.execute(
                "SELECT last_slot FROM schedule_marks WHERE workflow_id = ? AND cron = ?",
                (workflow_id, cron),
            ).fetchone()
            if row is None:
                # counting starts now: slots before the schedule existed are not "missed"
                conn.execute(
                    "INSERT INTO schedule_marks (workflow_id, cron, last_slot) VALUES (?, ?, ?)",
                    (workflow_id, cron, now),
                )
                return None
        return latest_slot(cron, zone, row[0], now)

    def _mark(self, tenant_id: str, workflow_id: str, cron: str, slot: float) -> None:
        with self.engine.db(tenant_id).write() as conn:
            conn.execute(
                "UPDATE schedule_marks SET last_slot = ? WHERE workflow_id = ? AND cron = ?",
                (slot, workflow_id, cron),
            )

    def _start(
        self, tenant_id: str, record: WorkflowRecord, event: dict[str, Any], key: str
    ) -> str | None:
        try:
            return self.engine.start_run(tenant_id, record.id, trigger=event, event_key=key)
        except Exception as exc:  # noqa: BLE001 - one workflow's problem must not stop the others
            log.warning(
                "workflow %s not started for %s: %s",
                record.name,
                event["type"],
                getattr(exc, "code", type(exc).__name__),
            )
            return None
