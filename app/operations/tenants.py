"""Creating and deleting tenants: data key, database, drop-box folder, first owner, audit."""

import shutil
from pathlib import Path
from typing import Any

from app.operations.actor import Actor
from app.services import Services
from storage.records import TenantRecord, UserRecord
from storage.system_store import SystemStore
from storage.tenants import TenantRegistry


def tenant_json(record: TenantRecord, role: str | None = None) -> dict[str, Any]:
    """The public form of a tenant (with the caller's role where it matters)."""
    body: dict[str, Any] = {
        "id": record.id,
        "slug": record.slug,
        "name": record.name,
        "created_at": record.created_at,
    }
    if role is not None:
        body["role"] = role
    return body


def create_tenant(
    services: Services,
    actor: Actor,
    slug: str,
    display_name: str | None,
    owner: UserRecord | None,
) -> TenantRecord:
    """A tenant with a new data key, an empty database, its drop-box folder and, when
    `owner` is given, its first owner. Every front end creates tenants this way."""
    return create_tenant_in(
        services.tenants, services.system, services.data.inbox_dir, actor, slug, display_name, owner
    )


def create_tenant_in(
    tenants: TenantRegistry,
    system: SystemStore,
    inbox_root: Path,
    actor: Actor,
    slug: str,
    display_name: str | None,
    owner: UserRecord | None,
) -> TenantRecord:
    """`create_tenant` for callers without open services (`appliance init --demo`)."""
    record = tenants.create(slug, display_name or None)
    return settle_tenant(system, inbox_root, actor, record, "tenant.create", owner)


def settle_tenant(
    system: SystemStore,
    inbox_root: Path,
    actor: Actor,
    record: TenantRecord,
    action: str,
    owner: UserRecord | None,
) -> TenantRecord:
    """What a tenant new to this node gets once registered (created or imported): its
    drop-box folder, the `action` audit entry and, when given, its first owner."""
    (inbox_root / record.slug).mkdir(mode=0o700, parents=True, exist_ok=True)
    system.audit(
        action,
        actor=actor.username,
        tenant_id=record.id,
        target=record.slug,
        client=actor.client,
    )
    if owner is not None:
        system.set_membership(record.id, owner.id, "owner")
        system.audit(
            "member.set",
            actor=actor.username,
            tenant_id=record.id,
            target=owner.username,
            client=actor.client,
            detail={"role": "owner", "previous": None},
        )
    return record


def delete_tenant(services: Services, actor: Actor, tenant: TenantRecord) -> None:
    """Destroy the tenant's key first (its data is unreadable from then on), then its
    files and its drop-box folder."""
    services.tenants.delete(tenant.id)
    inbox = services.data.inbox_dir / tenant.slug
    if inbox.is_dir():
        shutil.rmtree(inbox, ignore_errors=True)
    services.system.audit(
        "tenant.delete",
        actor=actor.username,
        tenant_id=tenant.id,
        target=tenant.slug,
        client=actor.client,
    )
