"""The one JSON-lines log format: a log record plus the ids of the work in hand.

Each line: ts, level, logger, event (the message), then whichever of request_id,
tenant_id, user, run_id, step_id, agent (from agents.telemetry.context, or the record's
`extra`) are set, then allowlisted extras such as duration_ms. Only allowlisted extras
are written, so a value passed by mistake in `extra` (a document's text, a secret) never
reaches a log line through this formatter.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from agents.telemetry import context

# extras a record may carry (log.info("...", extra={"duration_ms": 3.2, "task": "x"}))
EXTRA_FIELDS = (
    "duration_ms",
    "status",
    "method",
    "route",
    "task",
    "outcome",
    "code",
    "document_id",
    "source",
    "mode",
    "error",
    "count",
    "repeated",
)
CONTEXT_FIELDS = tuple(context.FIELDS)


def utc_iso(timestamp: float) -> str:
    """`2026-01-02T03:04:05.123456Z`: fixed width, so it sorts as text."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields of one line, in order, without the exception text."""
    fields: dict[str, Any] = {
        "ts": utc_iso(record.created),
        "level": record.levelname,
        "logger": record.name,
        "event": record.getMessage(),
    }
    for name, var in context.FIELDS.items():
        value = record.__dict__.get(name, var.get())
        if value is not None:
            fields[name] = value
    for name in EXTRA_FIELDS:
        value = record.__dict__.get(name)
        if value is not None:
            fields[name] = value
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record)
        if record.exc_info:
            fields["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            fields["exc"] = self.formatException(record.exc_info)
        return json.dumps(fields, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The plain format, with the request or run id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [f"{k}={v}" for k, v in context.current().items() if k in ("request_id", "run_id")]
        return f"{line} [{' '.join(ids)}]" if ids else line
