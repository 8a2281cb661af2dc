"""Tenant memberships: adding, changing and removing members, keeping an owner."""

from typing import Any

from app.auth.api_keys import ApiKeys
from app.auth.principal import Role
from app.errors import AppError, NotFound
from app.operations.actor import Actor
from storage.records import MembershipRecord
from storage.system_store import SystemStore


class LastOwner(AppError):
    status_code = 409
    code = "last_owner"


def member_json(m: MembershipRecord) -> dict[str, Any]:
    return {"user": m.username, "user_id": m.user_id, "role": m.role, "since": m.created_at}


def keep_an_owner(system: SystemStore, tenant_id: str, user_id: str) -> None:
    """Refuse a change that would leave the tenant without an owner."""
    owners = [m for m in system.memberships(tenant_id=tenant_id) if m.role == "owner"]
    if [m.user_id for m in owners] == [user_id]:
        raise LastOwner(
            "a workspace (tenant) must keep at least one owner; add another owner first"
        )


def set_member(
    system: SystemStore, actor: Actor, tenant_id: str, username: str, role: Role
) -> MembershipRecord:
    """Add `username` to the tenant or change their role."""
    user = system.find_user(username)
    previous = system.role_of(tenant_id, user.id)
    if previous == "owner" and role != "owner":
        keep_an_owner(system, tenant_id, user.id)
    system.set_membership(tenant_id, user.id, role)
    system.audit(
        "member.set",
        actor=actor.username,
        tenant_id=tenant_id,
        target=user.username,
        client=actor.client,
        detail={"role": role, "previous": previous},
    )
    return system.memberships(tenant_id=tenant_id, user_id=user.id)[0]


def remove_member(
    system: SystemStore, api_keys: ApiKeys, actor: Actor, tenant_id: str, username: str
) -> None:
    """Remove a member; their API keys for this tenant are revoked with it."""
    record = system.find_user(username)
    previous = system.role_of(tenant_id, record.id)
    if previous is None:
        raise NotFound(f"{record.username} is not a member of this workspace (tenant)")
    if previous == "owner":
        keep_an_owner(system, tenant_id, record.id)
    system.remove_membership(tenant_id, record.id)
    revoked = api_keys.revoke_member(tenant_id, record.id)
    system.audit(
        "member.remove",
        actor=actor.username,
        tenant_id=tenant_id,
        target=record.username,
        client=actor.client,
        detail={"previous": previous, "api_keys_revoked": revoked},
    )
