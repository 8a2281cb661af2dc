"""Timestamps as stored in every database: UTC, ISO 8601, second precision or finer."""

from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
