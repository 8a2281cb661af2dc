"""GET|POST /tenants/{tenant}/members and DELETE .../members/{user} (owners and admins)."""

from typing import Any

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from app.api.deps import AuthDep, ClientDep, ServicesDep, TenantAccessDep
from app.api.limits import Bounded
from app.auth.principal import Role
from app.operations import Actor
from app.operations.members import member_json, remove_member, set_member

_MANAGE = {"min_role": "owner", "admin_ok": True, "users_only": True}


class MemberBody(msgspec.Struct):
    username: Bounded
    role: Role


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
        actor = Actor(tenant_access.principal.username, client)
        member = set_member(
            services.system, actor, tenant_access.tenant_id, data.username, data.role
        )
        return member_json(member)

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
        actor = Actor(tenant_access.principal.username, client)
        remove_member(services.system, auth.api_keys, actor, tenant_access.tenant_id, user)
