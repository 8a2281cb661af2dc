"""Workflows and their immutable versions in the tenant database."""

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from agents.supervisor.definition import WorkflowDefinition, from_data
from agents.supervisor.errors import WorkflowNameTaken, WorkflowNotFound
from storage.database import Database

_COLUMNS = "id, name, description, enabled, current_version, triggers, created_at, updated_at"


def iso(epoch: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC string (API and UI)."""
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"


def _mark_schedules(conn: Any, workflow_id: str, triggers: Any, now: float) -> None:
    """Slots of a schedule count from when it was saved or enabled: earlier ones are
    not "missed". A slot missed while the appliance was down runs once at start."""
    for trigger in triggers:
        if trigger.get("type") == "schedule":
            conn.execute(
                "INSERT OR IGNORE INTO schedule_marks (workflow_id, cron, last_slot) "
                "VALUES (?, ?, ?)",
                (workflow_id, trigger["cron"], now),
            )


@dataclass(frozen=True)
class WorkflowRecord:
    id: str
    name: str
    description: str
    enabled: bool
    current_version: int
    triggers: list[dict[str, Any]]
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> "WorkflowRecord":
        return cls(row[0], row[1], row[2], bool(row[3]), row[4], json.loads(row[5]), row[6], row[7])

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "version": self.current_version,
            "triggers": self.triggers,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class WorkflowStore:
    """CRUD of workflows; saving a definition always adds a new immutable version."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, definition: WorkflowDefinition, source: str, actor: str | None
    ) -> WorkflowRecord:
        now = time.time()
        workflow_id = uuid.uuid4().hex
        with self.db.write() as conn:
            if conn.execute(
                "SELECT 1 FROM workflows WHERE name = ?", (definition.name,)
            ).fetchone():
                raise WorkflowNameTaken(f"a workflow named {definition.name!r} exists")
            conn.execute(
                f"INSERT INTO workflows ({_COLUMNS}) VALUES (?, ?, ?, 1, 1, ?, ?, ?)",
                (
                    workflow_id,
                    definition.name,
                    definition.description,
                    json.dumps(list(definition.triggers)),
                    now,
                    now,
                ),
            )
            self._add_version(conn, workflow_id, 1, definition, source, actor, now)
            _mark_schedules(conn, workflow_id, definition.triggers, now)
        return self.get(workflow_id)

    def save_version(
        self, workflow_id: str, definition: WorkflowDefinition, source: str, actor: str | None
    ) -> WorkflowRecord:
        """A new version becomes current; runs keep the version they started with."""
        now = time.time()
        with self.db.write() as conn:
            record = self._get(conn, workflow_id)
            clash = conn.execute(
                "SELECT 1 FROM workflows WHERE name = ? AND id != ?", (definition.name, record.id)
            ).fetchone()
            if clash:
                raise WorkflowNameTaken(f"a workflow named {definition.name!r} exists")
            (latest,) = conn.execute(
                "SELECT max(version) FROM workflow_versions WHERE workflow_id = ?", (record.id,)
            ).fetchone()
            version = int(latest) + 1
            self._add_version(conn, record.id, version, definition, source, actor, now)
            _mark_schedules(conn, record.id, definition.triggers, now)
            conn.execute(
                "UPDATE workflows SET name = ?, description = ?, current_version = ?, "
                "triggers = ?, updated_at = ? WHERE id = ?",
                (
                    definition.name,
                    definition.description,
                    version,
                    json.dumps(list(definition.triggers)),
                    now,
                    record.id,
                ),
            )
        return self.get(record.id)

    def set_current(self, workflow_id: str, version: int) -> WorkflowRecord:
        """Rollback: make an earlier version current again (no version is changed)."""
        with self.db.write() as conn:
            record = self._get(conn, workflow_id)
            row = conn.execute(
                "SELECT definition FROM workflow_versions WHERE workflow_id = ? AND version = ?",
                (record.id, version),
            ).fetchone()
            if row is None:
                raise WorkflowNotFound(f"workflow {record.name!r} has no version {version}")
            definition = from_data(json.loads(row[0]))
            conn.execute(
                "UPDATE workflows SET name = ?, description = ?, current_version = ?, "
                "triggers = ?, updated_at = ? WHERE id = ?",
                (
                    definition.name,
                    definition.description,
                    version,
                    json.dumps(list(definition.triggers)),
                    time.time(),
                    record.id,
                ),
            )
        return self.get(record.id)

    def set_enabled(self, workflow_id: str, enabled: bool) -> WorkflowRecord:
        """Automatic triggers (document, hook, schedule) fire only for enabled workflows."""
        with self.db.write() as conn:
            record = self._get(conn, workflow_id)
            conn.execute(
                "UPDATE workflows SET enabled = ?, updated_at = ? WHERE id = ?",
                (int(enabled), time.time(), record.id),
            )
            if enabled and not record.enabled:
                # a schedule starts counting slots from now, not from when it was saved
                conn.execute("DELETE FROM schedule_marks WHERE workflow_id = ?", (record.id,))
                _mark_schedules(conn, record.id, record.triggers, time.time())
        return self.get(record.id)

    @staticmethod
    def _add_version(
        conn: Any,
        workflow_id: str,
        version: int,
        definition: WorkflowDefinition,
        source: str,
        actor: str | None,
        now: float,
    ) -> None:
        conn.execute(
            "INSERT INTO workflow_versions (workflow_id, version, source, definition, "
            "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (workflow_id, version, source, json.dumps(definition.data), actor, now),
        )

    def get(self, id_or_name: str) -> WorkflowRecord:
        with self.db.read() as conn:
            return self._get(conn, id_or_name)

    @staticmethod
    def _get(conn: Any, id_or_name: str) -> WorkflowRecord:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM workflows WHERE id = ? OR name = ? ORDER BY id = ? DESC",
            (id_or_name, id_or_name, id_or_name),
        ).fetchone()
        if row is None:
            raise WorkflowNotFound("no such workflow")
        return WorkflowRecord.of(row)

    def list_all(self) -> "list[WorkflowRecord]":
        with self.db.read() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM workflows ORDER BY name").fetchall()
        return [WorkflowRecord.of(r) for r in rows]

    def versions(self, workflow_id: str) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            record = self._get(conn, workflow_id)
            rows = conn.execute(
                "SELECT version, created_by, created_at FROM workflow_versions "
                "WHERE workflow_id = ? ORDER BY version DESC",
                (record.id,),
            ).fetchall()
        return [
            {
                "version": v,
                "created_by": by,
                "created_at": iso(at),
                "current": v == record.current_version,
            }
            for v, by, at in rows
        ]

    def version(
        self, workflow_id: str, version: int | None = None
    ) -> tuple[WorkflowDefinition, str, int]:
        """(definition, source text, version number); the current one by default."""
        with self.db.read() as conn:
            record = self._get(conn, workflow_id)
            number = record.current_version if version is None else version
            row = conn.execute(
                "SELECT definition, source FROM workflow_versions "
                "WHERE workflow_id = ? AND version = ?",
                (record.id, number),
            ).fetchone()
        if row is None:
            raise WorkflowNotFound(f"workflow {record.name!r} has no version {number}")
        return from_data(json.loads(row[0])), row[1], number

    def delete(self, workflow_id: str) -> None:
        """Delete the workflow with its versions and runs (cascade)."""
        with self.db.write() as conn:
            record = self._get(conn, workflow_id)
            conn.execute("DELETE FROM workflows WHERE id = ?", (record.id,))

    def last_runs(self) -> dict[str, dict[str, Any]]:
        """Per workflow id: the status and time of its newest run (for listings)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT workflow_id, id, status, queued_at FROM runs WHERE seq IN "
                "(SELECT max(seq) FROM runs GROUP BY workflow_id)"
            ).fetchall()
        return {w: {"id": r, "status": s, "queued_at": iso(q)} for w, r, s, q in rows}
