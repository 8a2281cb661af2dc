"""The `reports` table of one tenant: one row per requested report and its state.

status: queued -> running -> succeeded | failed. A row is written before its generation
is queued; the file is a blob of the tenant (blob_id) once it succeeded.
"""

import json
import uuid
from typing import Any

import msgspec

from agents.report.errors import ReportNotFoundError
from storage.clock import now_iso
from storage.database import Database
from storage.keyset import newest_first
from storage.process_identity import process_token, token_alive

STATUSES = ("queued", "running", "succeeded", "failed")
_COLUMNS = (
    "id, template, title, params, format, status, size, pages, created_by, run_id, step_key, "
    "input_blob_id, blob_id, error_code, error_message, created_at, finished_at, claimed_by"
)


class ReportRecord(msgspec.Struct, frozen=True):
    id: str
    template: str
    title: str
    params: dict[str, Any]
    format: str
    status: str
    size: int | None
    pages: int | None
    created_by: str
    run_id: str | None
    step_key: str | None
    input_blob_id: str | None
    blob_id: str | None
    error_code: str | None
    error_message: str | None
    created_at: str
    finished_at: str | None
    claimed_by: str | None = None  # the process generating it (never shown)

    def public(self) -> dict[str, Any]:
        """The JSON shape the API and UI show (no blob ids)."""
        return {
            "id": self.id,
            "template": self.template,
            "title": self.title,
            "params": self.params,
            "format": self.format,
            "status": self.status,
            "size": self.size,
            "pages": self.pages,
            "created_by": self.created_by,
            "run_id": self.run_id,
            "error": {"code": self.error_code, "message": self.error_message}
            if self.error_code
            else None,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
        }


def _record(row: Any) -> ReportRecord:
    values = list(row)
    values[3] = json.loads(values[3] or "{}")
    return ReportRecord(*values)


class ReportStore:
    """Reads and writes the reports table of one tenant database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(
        self,
        *,
        template: str,
        title: str,
        params: dict[str, Any],
        fmt: str,
        created_by: str,
        run_id: str | None = None,
        step_key: str | None = None,
        input_blob_id: str | None = None,
    ) -> ReportRecord:
        report_id = uuid.uuid4().hex
        with self.db.write() as conn:
            conn.execute(
                f"INSERT INTO reports ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, 'queued', NULL, NULL, "
                "?, ?, ?, ?, NULL, NULL, NULL, ?, NULL, NULL)",
                (
                    report_id,
                    template,
                    title,
                    json.dumps(params),
                    fmt,
                    created_by,
                    run_id,
                    step_key,
                    input_blob_id,
                    now_iso(),
                ),
            )
        return self.get(report_id)

    def get(self, report_id: str) -> ReportRecord:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM reports WHERE id = ?", (report_id,)
            ).fetchone()
        if row is None:
            raise ReportNotFoundError(f"no report {report_id}")
        return _record(row)

    def by_step_key(self, step_key: str) -> ReportRecord | None:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM reports WHERE step_key = ?", (step_key,)
            ).fetchone()
        return _record(row) if row else None

    def page(
        self, *, limit: int = 50, cursor: str | None = None, status: str | None = None
    ) -> tuple[list[ReportRecord], str | None]:
        """Newest first, keyset-paged by (created_at, id)."""
        clauses: list[str] = []
        params: list[Any] = []
        if status:
            clauses.append("status = ?")
            params.append(status)
        return newest_first(
            self.db,
            f"SELECT {_COLUMNS} FROM reports",
            _record,
            clauses=clauses,
            params=params,
            limit=limit,
            cursor=cursor,
        )

    def unfinished(self) -> list[ReportRecord]:
        """Reports a stopped process left queued or running, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM reports WHERE status IN ('queued', 'running') "
                "ORDER BY created_at"
            ).fetchall()
        return [_record(r) for r in rows]

    def claim(self, report_id: str) -> bool:
        """Mark the report running for this process; False when another live process is
        generating it already (a second delivery of its task)."""
        token = process_token()
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT status, claimed_by FROM reports WHERE id = ?", (report_id,)
            ).fetchone()
            if row is None:
                return True  # the caller's own read says it is gone
            status, holder = row
            if status == "running" and holder not in (None, token) and token_alive(holder):
                return False
            conn.execute(
                "UPDATE reports SET status = 'running', claimed_by = ?, error_code = NULL, "
                "error_message = NULL WHERE id = ?",
                (token, report_id),
            )
        return True

    def succeed(self, report_id: str, blob_id: str, size: int, pages: int | None) -> bool:
        """Record the finished file; False if the report was deleted meanwhile."""
        with self.db.write() as conn:
            changed = conn.execute(
                "UPDATE reports SET status = 'succeeded', blob_id = ?, size = ?, pages = ?, "
                "input_blob_id = NULL, finished_at = ? WHERE id = ?",
                (blob_id, size, pages, now_iso(), report_id),
            ).rowcount
        return bool(changed)

    def fail(self, report_id: str, code: str, message: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE reports SET status = 'failed', error_code = ?, error_message = ?, "
                "finished_at = ? WHERE id = ?",
                (code, message[:500], now_iso(), report_id),
            )

    def delete(self, report_id: str) -> ReportRecord:
        record = self.get(report_id)
        with self.db.write() as conn:
            conn.execute("DELETE FROM reports WHERE id = ?", (report_id,))
        return record
