"""The appliance-wide log view (appliance admins): the JSON-lines log file, searched.

Reads the current file and the newest rotated one, newest line first, with the same
filters as a tenant's activity log plus `tenant`. The cursor is the time of the last
entry shown (microseconds since the epoch); the next page holds older entries. Lines
that are not JSON (written with `[logging] format = "text"`) are skipped.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agents.telemetry.activity_log import LEVELS, ActivityQuery
from app.logging_setup import LOG_FILE

FILES_READ = 2  # appliance.log and appliance.log.1


def micros(ts: str) -> int:
    moment = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


def _lines_newest_first(logs_dir: Path) -> Iterator[str]:
    names = [LOG_FILE] + [f"{LOG_FILE}.{n}" for n in range(1, FILES_READ)]
    for name in names:
        try:
            lines = (logs_dir / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        yield from reversed(lines)


def _matches(entry: dict[str, Any], query: ActivityQuery, tenant_id: str | None) -> bool:
    if query.min_level and LEVELS.get(str(entry.get("level")), 0) < query.min_level:
        return False
    if query.agent and entry.get("agent") != query.agent:
        return False
    if query.run_id and entry.get("run_id") != query.run_id:
        return False
    if tenant_id and entry.get("tenant_id") != tenant_id:
        return False
    if query.since and str(entry.get("ts", "")) < query.since:
        return False
    if query.q:
        needle = query.q.lower()
        haystack = f"{entry.get('event', '')} {entry.get('logger', '')}".lower()
        if needle not in haystack:
            return False
    return True


def search_log_file(
    logs_dir: Path, query: ActivityQuery, tenant_id: str | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    """Matching entries newest first, and the cursor of the next page (None at the end)."""
    found: list[dict[str, Any]] = []
    for line in _lines_newest_first(logs_dir):
        try:
            entry = json.loads(line)
            at = micros(entry["ts"])
        except (ValueError, KeyError, TypeError):
            continue
        if query.before_id is not None and at >= query.before_id:
            continue
        if _matches(entry, query, tenant_id):
            found.append(entry)
            if len(found) > query.limit:
                break
    more = len(found) > query.limit
    page = found[: query.limit]
    return page, (micros(page[-1]["ts"]) if more and page else None)
