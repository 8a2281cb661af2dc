"""The tenant's activity from the ledger tables: documents and arrivals per day, per
source and per state, over the last `days` days (UTC)."""

import datetime as dt
from typing import Any

from agents.report.dataset import ReportData
from storage.database import Database


def tenant_activity(db: Database, days: int) -> ReportData:
    """ReportData with datasets per_day, by_source, by_state and total values."""
    until = dt.datetime.now(dt.UTC).date()
    since = until - dt.timedelta(days=days - 1)
    start = since.isoformat()
    with db.read() as conn:
        documents = conn.execute(
            "SELECT substr(created_at, 1, 10) AS day, count(*), "
            "sum(state IN ('failed', 'unsupported')) FROM documents "
            "WHERE created_at >= ? GROUP BY day",
            (start,),
        ).fetchall()
        arrivals = conn.execute(
            "SELECT substr(received_at, 1, 10) AS day, count(*), sum(outcome = 'duplicate') "
            "FROM arrivals WHERE received_at >= ? GROUP BY day",
            (start,),
        ).fetchall()
        sources = conn.execute(
            "SELECT source, count(*), sum(outcome = 'added'), sum(outcome = 'duplicate'), "
            "sum(outcome = 'failed') FROM arrivals WHERE received_at >= ? "
            "GROUP BY source ORDER BY count(*) DESC",
            (start,),
        ).fetchall()
        states = conn.execute(
            "SELECT state, count(*) FROM documents GROUP BY state ORDER BY count(*) DESC"
        ).fetchall()
    per_day: dict[str, dict[str, Any]] = {}
    for offset in range(days):
        day = (since + dt.timedelta(days=offset)).isoformat()
        per_day[day] = {"day": day, "documents": 0, "arrivals": 0, "duplicates": 0, "failed": 0}
    for day, count, failed in documents:
        if day in per_day:
            per_day[day].update(documents=int(count), failed=int(failed or 0))
    for day, count, duplicates in arrivals:
        if day in per_day:
            per_day[day].update(arrivals=int(count), duplicates=int(duplicates or 0))
    by_source = [
        {
            "source": s,
            "arrivals": int(n),
            "added": int(a or 0),
            "duplicates": int(d or 0),
            "failed": int(f or 0),
        }
        for s, n, a, d, f in sources
    ]
    by_state = [{"state": s, "documents": int(n)} for s, n in states]
    counts = {row["state"]: row["documents"] for row in by_state}
    values = {
        "total_documents": sum(counts.values()),
        "total_arrivals": sum(r["arrivals"] for r in by_source),
        "failed_documents": counts.get("failed", 0) + counts.get("unsupported", 0),
        "indexed_documents": counts.get("indexed", 0),
        "since": start,
        "until": until.isoformat(),
        "days": days,
    }
    return ReportData(
        {"per_day": list(per_day.values()), "by_source": by_source, "by_state": by_state}, values
    )
