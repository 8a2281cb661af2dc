"""The public form of audit entries, shown alike by the API and the UI."""

import json
from typing import Any

from storage.records import AuditRecord


def entry_json(record: AuditRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "at": record.at,
        "actor": record.actor,
        "action": record.action,
        "tenant_id": record.tenant_id,
        "target": record.target,
        "client": record.client,
        "outcome": record.outcome,
        "detail": json.loads(record.detail) if record.detail else None,
    }
