"""Audit entries about connectors, written alike by the API and the UI."""

from typing import Any

from agents.ingest.sources.connectors import ConnectorRecord
from app.auth.tenant_access import TenantAccess
from storage.system_store import SystemStore


def audit_connector(
    system: SystemStore,
    action: str,
    access: TenantAccess,
    record: ConnectorRecord,
    client: str | None,
    **detail: Any,
) -> None:
    """One audit entry about a connector; `detail` must hold no secret values. A test
    that failed (`ok=False`) is recorded with the outcome "failed"."""
    system.audit(
        action,
        actor=access.principal.username,
        tenant_id=access.tenant_id,
        target=record.id,
        client=client,
        outcome="failed" if detail.get("ok") is False else "ok",
        detail={"name": record.name, "kind": record.kind, **detail},
    )
