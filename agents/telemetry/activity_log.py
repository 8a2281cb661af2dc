"""The per-tenant activity log: a table in the tenant database, appended in batches,
searched newest first with cursor paging, pruned by age and row count.

Rows hold log events (what happened, ids, durations), never document text or secrets;
that is the writers' duty, and the JSON formatter's field allowlist keeps free-form
values out.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.database import Database

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_COLUMNS = (
    "id, at, level, logger, agent, event, request_id, user, run_id, step_id, duration_ms, detail"
)


@dataclass(frozen=True)
class ActivityEntry:
    """One event; `at` is ISO-8601 UTC (`2026-01-02T03:04:05.123456Z`), sortable as text."""

    at: str
    level: str
    logger: str
    event: str
    agent: str | None = None
    request_id: str | None = None
    user: str | None = None
    run_id: str | None = None
    step_id: str | None = None
    duration_ms: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "level": self.level,
            "logger": self.logger,
            "agent": self.agent,
            "event": self.event,
            "request_id": self.request_id,
            "user": self.user,
            "run_id": self.run_id,
            "step_id": self.step_id,
            "duration_ms": self.duration_ms,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ActivityQuery:
    """Filters of GET /tenants/{t}/logs, already validated."""

    min_level: int = 0
    agent: str | None = None
    run_id: str | None = None
    q: str | None = None
    since: str | None = None
    limit: int = 100
    before_id: int | None = None


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ActivityLog:
    """The activity_log table of one tenant database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append_many(self, entries: Sequence[ActivityEntry]) -> None:
        rows = [
            (
                e.at,
                e.level,
                LEVELS.get(e.level, 20),
                e.logger,
                e.agent,
                e.event,
                e.request_id,
                e.user,
                e.run_id,
                e.step_id,
                e.duration_ms,
                json.dumps(e.detail, default=str),
            )
            for e in entries
        ]
        # derivable from nothing else, but losing the last second of it in a power cut is
        # acceptable: no fsync of its own
        with self.db.write(durable=False) as conn:
            conn.executemany(
                "INSERT INTO activity_log (at, level, levelno, logger, agent, event, request_id,"
                " user, run_id, step_id, duration_ms, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def search(self, query: ActivityQuery) -> tuple[list[ActivityEntry], int | None]:
        """Newest first; the second value is the cursor of the next (older) page."""
        where = ["1 = 1"]
        args: list[Any] = []
        if query.min_level:
            where.append("levelno >= ?")
            args.append(query.min_level)
        if query.agent:
            where.append("agent = ?")
            args.append(query.agent)
        if query.run_id:
            where.append("run_id = ?")
            args.append(query.run_id)
        if query.since:
            where.append("at >= ?")
            args.append(query.since)
        if query.before_id is not None:
            where.append("id < ?")
            args.append(query.before_id)
        if query.q:
            where.append("(event LIKE ? ESCAPE '\\' OR detail LIKE ? ESCAPE '\\')")
            args += [like_pattern(query.q)] * 2
        sql = (
            f"SELECT {_COLUMNS} FROM activity_log WHERE {' AND '.join(where)}"
            " ORDER BY id DESC LIMIT ?"
        )
        with self.db.read() as conn:
            rows = conn.execute(sql, [*args, query.limit + 1]).fetchall()
        entries = [_entry(row) for row in rows[: query.limit]]
        more = len(rows) > query.limit
        return entries, (entries[-1].id if more and entries else None)

    def prune(self, older_than: str, max_rows: int) -> int:
        """Delete entries older than `older_than` (ISO UTC) and all but the newest `max_rows`."""
        with self.db.write(durable=False) as conn:
            gone = conn.execute("DELETE FROM activity_log WHERE at < ?", (older_than,)).rowcount
            newest = conn.execute("SELECT max(id) FROM activity_log").fetchone()[0]
            if newest is not None:
                gone += conn.execute(
                    "DELETE FROM activity_log WHERE id <= ?", (newest - max_rows,)
                ).rowcount
        return int(gone)


def _entry(row: Sequence[Any]) -> ActivityEntry:
    (entry_id, at, level, logger, agent, event, request_id, user, run_id, step_id, ms, detail) = row
    return ActivityEntry(
        at=at,
        level=level,
        logger=logger,
        event=event,
        agent=agent,
        request_id=request_id,
        user=user,
        run_id=run_id,
        step_id=step_id,
        duration_ms=ms,
        detail=json.loads(detail or "{}"),
        id=entry_id,
    )
