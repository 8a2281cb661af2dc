"""Storing the records of an inbound hook delivery as documents, one per record."""

import datetime as dt
import re
from typing import Any

from agents.ingest.errors import IngestError
from agents.ingest.service import IngestService
from agents.ingest.sources.connectors import ConnectorRecord
from agents.ingest.sources.hooks import record_metadata, render

_NAME_CHARS = re.compile(r"[^\w.-]+")


def store_records(
    ingest: IngestService,
    tenant_id: str,
    hook: ConnectorRecord,
    records: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Each record as one document; returns per record {id, state, duplicate} or error."""
    now = dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    base = _NAME_CHARS.sub("-", hook.name).strip("-.")[:60] or "hook"
    # Without it, a record whose first fields are named like mail headers (from, to,
    # subject, date) reads as a mail to format detection, which keeps only those fields.
    # The heading holds nothing per record, so identical records stay duplicates.
    heading = f"Record from hook {hook.name}"
    items: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        filename = f"{base}-{stamp}-{index + 1}.json.txt"
        metadata = record_metadata(
            record,
            hook_id=hook.id,
            hook_name=hook.name,
            index=index,
            received_at=now.isoformat(timespec="seconds"),
            title_field=hook.config.get("title_field"),
        )
        try:
            result = ingest.receive(
                tenant_id,
                render(record, heading).encode("utf-8"),
                filename=filename,
                source="hook",
                source_ref=hook.id,
                metadata=metadata,
            )
        except IngestError as error:
            items.append(
                {
                    "filename": filename,
                    "state": "failed",
                    "error": {"code": error.code, "message": error.message},
                }
            )
            continue
        document = result.document
        items.append(
            {
                "id": document.id,
                "state": document.state,
                "duplicate": result.duplicate,
                "filename": document.filename,
            }
        )
    return items
