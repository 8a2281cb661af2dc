"""API keys: who sees which, issuing and revoking them."""

from typing import Any

from app.auth.api_keys import ApiKeyRecord
from app.auth.key_issuing import issue_key
from app.auth.kit import AuthKit
from app.auth.principal import role_at_least
from app.auth.tenant_access import TenantAccess
from app.errors import NotFound
from app.operations.actor import Actor
from storage.errors import NotFoundError
from storage.system_store import SystemStore


def visible(access: TenantAccess, key: ApiKeyRecord) -> bool:
    """A member sees their own keys; owners see everyone's in the tenant."""
    return key.user_id == access.principal.user_id or role_at_least(access.role, "owner")


def visible_keys(auth: AuthKit, access: TenantAccess) -> list[dict[str, Any]]:
    return [k.public() for k in auth.api_keys.for_tenant(access.tenant_id) if visible(access, k)]


def create_key(
    system: SystemStore,
    auth: AuthKit,
    access: TenantAccess,
    client: str | None,
    name: str,
    role: str,
    expires: str | None,
) -> tuple[str, ApiKeyRecord]:
    """(secret, record) for the caller in this tenant; the secret is shown only now."""
    user = system.find_user(access.principal.user_id)
    secret, record = issue_key(system, auth.api_keys, access.tenant, user, role, name, expires)
    system.audit(
        "api_key.create",
        actor=user.username,
        tenant_id=record.tenant_id,
        target=record.id,
        client=client,
        detail={
            "name": record.name,
            "role": record.role,
            "expires_at": record.public()["expires_at"],
        },
    )
    return secret, record


def revoke_key(
    system: SystemStore, auth: AuthKit, access: TenantAccess, actor: Actor, key_id: str
) -> None:
    """Revoke a key the caller may see; anything else is the same 404."""
    try:
        key: ApiKeyRecord | None = auth.api_keys.get(key_id)
    except NotFoundError:
        key = None
    if key is None or key.tenant_id != access.tenant_id or not visible(access, key):
        raise NotFound(f"no API key {key_id!r} in this workspace (tenant)")
    auth.api_keys.revoke(key.id)
    system.audit(
        "api_key.revoke",
        actor=actor.username,
        tenant_id=key.tenant_id,
        target=key.id,
        client=actor.client,
        detail={"name": key.name, "owner": key.username},
    )
