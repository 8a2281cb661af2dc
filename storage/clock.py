"""Timestamps as stored in every database: UTC, ISO 8601, second precision or finer."""

from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def seconds_since(iso: str, now: float) -> float:
    """Seconds from a timestamp `now_iso` wrote to `now` (epoch seconds); infinite for a
    timestamp that cannot be read, so what carries it counts as long overdue."""
    try:
        return now - datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return float("inf")
