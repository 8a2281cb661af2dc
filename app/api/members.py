"""GET|POST /tenants/{tenant}/members and DELETE .../members/{user} (owners and admins)."""

from typing import Any, Literal

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from app.api.deps import AuthDep, ClientDep, ServicesDep, TenantAccessDep
from app.api.limits import Bounded
from app.errors import AppError, NotFound
from app.services import Services
from storage.records import MembershipRecord

_MANAGE = {"min_role": "owner", "admin_ok": True, "users_only": True}


class LastOwner(AppError):
    status_code = 409
    code = "last_owner"


class MemberBody(msgspec.Struct):
    username: Bounded
    role: Literal["owner", "editor", "viewer"]


def member_json(m: MembershipRecord) -> dict[str, Any]:
    return {"user": m.username, "user_id": m.user_id, "role": m.role, "since": m.created_at}


def _keep_an_owner(services: Services, tenant_id: str, user_id: str) -> None:
    owners = [m for m in services.system.memberships(tenant_id=tenant_id) if m.role == "owner"]
    if [m.user_id for m in owners] == [user_id]:
        raise LastOwner("a tenant must keep at least one owner; add another owner first")


class MembersController(Controller):
    path = "/members"
    tags = ["members"]
    opt = _MANAGE

    @get("/", sync_to_thread=True)
    def list_members(
        self, tenant_access: TenantAccessDep, services: ServicesDep
    ) -> list[dict[str, Any]]:
        """Who belongs to the tenant, with their roles."""
        return [
            member_json(m) for m in services.system.memberships(tenant_id=tenant_access.tenant_id)
        ]

    @post("/", status_code=HTTP_200_OK, sync_to_thread=True)
    def set_member(
        self,
        data: JSONBody[MemberBody],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """Add a user to the tenant or change their role."""
        user = services.system.find_user(data.username)
        previous = services.system.role_of(tenant_access.tenant_id, user.id)
        if previous == "owner" and data.role != "owner":
            _keep_an_owner(services, tenant_access.tenant_id, user.id)
        services.system.set_membership(tenant_access.tenant_id, user.id, data.role)
        services.system.audit(
            "member.set",
            actor=tenant_access.principal.username,
            tenant_id=tenant_access.tenant_id,
            target=user.username,
            client=client,
            detail={"role": data.role, "previous": previous},
        )
        member = services.system.memberships(tenant_id=tenant_access.tenant_id, user_id=user.id)
        return member_json(member[0])

    @delete("/{user:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def remove_member(
        self,
        user: FromPath[str],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        auth: AuthDep,
        client: ClientDep,
    ) -> None:
        """Remove a member; their API keys for this tenant are revoked with it."""
        record = services.system.find_user(user)
        previous = services.system.role_of(tenant_access.tenant_id, record.id)
        if previous is None:
            raise NotFound(f"{record.username} is not a member of this tenant")
        if previous == "owner":
            _keep_an_owner(services, tenant_access.tenant_id, record.id)
        services.system.remove_membership(tenant_access.tenant_id, record.id)
        revoked = auth.api_keys.revoke_member(tenant_access.tenant_id, record.id)
        services.system.audit(
            "member.remove",
            actor=tenant_access.principal.username,
            tenant_id=tenant_access.tenant_id,
            target=record.username,
            client=client,
            detail={"previous": previous, "api_keys_revoked": revoked},
        )
