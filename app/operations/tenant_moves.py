"""Moving a tenant between nodes: export (sealed for the target) and import, audited."""

from pathlib import Path
from typing import Any

from app.operations.actor import Actor
from app.operations.tenants import settle_tenant
from app.services import Services
from storage.records import TenantRecord, UserRecord
from storage.tenant_transfer import export_tenant, import_tenant
from storage.transfer_keys import public_transfer_key


def transfer_key(services: Services) -> str:
    """This node's public transfer key: what a source node seals an export to."""
    return public_transfer_key(services.master)


def export(
    services: Services, actor: Actor, tenant: TenantRecord, recipient_key: str, out: Path
) -> dict[str, Any]:
    """Write the tenant's export to `out`, its key sealed for the target node."""
    manifest = export_tenant(services.tenants, tenant, recipient_key, out)
    services.system.audit(
        "tenant.export",
        actor=actor.username,
        tenant_id=tenant.id,
        target=tenant.slug,
        client=actor.client,
        detail={"files": len(manifest["files"])},
    )
    return manifest


def import_(
    services: Services, actor: Actor, source: Path, owner: UserRecord | None
) -> TenantRecord:
    """Register an exported tenant here, with its drop-box folder and, when given, an owner
    (users, memberships and API keys live in each node's system database: they do not move)."""
    record = import_tenant(services.tenants, services.system, services.master, source)
    return settle_tenant(
        services.system, services.data.inbox_dir, actor, record, "tenant.import", owner
    )
