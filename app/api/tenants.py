"""GET|POST /tenants (admins; members see their own) and DELETE /tenants/{tenant}."""

from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.api.deps import ClientDep, PrincipalDep, ServicesDep, TenantAccessDep
from app.api.guards import admin_guard
from app.api.limits import NAME, SLUG, Bounded
from app.operations import Actor
from app.operations.tenants import create_tenant, tenant_json
from app.operations.tenants import delete_tenant as remove_tenant


class NewTenant(msgspec.Struct):
    name: Annotated[str, SLUG.schema()]  # the slug: URLs, the inbox folder
    display_name: Annotated[str, NAME.schema()] | None = None
    owner: Bounded | None = None  # username; default: the admin who creates it

    def check(self) -> None:
        """422 naming the field whose text breaks its rule."""
        SLUG.check("name", self.name)
        NAME.check("display_name", self.display_name)


class TenantsController(Controller):
    path = "/tenants"
    tags = ["tenants"]

    @get("/", sync_to_thread=True)
    def list_tenants(self, principal: PrincipalDep, services: ServicesDep) -> list[dict[str, Any]]:
        """Admins see every tenant; everyone else the tenants they belong to, with their role."""
        if principal.admin_powers:
            return [tenant_json(t) for t in services.system.list_tenants()]
        memberships = services.system.memberships(user_id=principal.user_id)
        if principal.key_tenant_id:
            memberships = [m for m in memberships if m.tenant_id == principal.key_tenant_id]
        return [
            tenant_json(services.system.find_tenant(m.tenant_id), principal.key_role or m.role)
            for m in memberships
        ]

    @post("/", guards=[admin_guard], status_code=HTTP_201_CREATED, sync_to_thread=True)
    def create_tenant(
        self,
        data: JSONBody[NewTenant],
        principal: PrincipalDep,
        services: ServicesDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """Create a tenant (new data key, empty database) with its first owner."""
        data.check()
        owner = services.system.find_user(data.owner or principal.user_id)
        actor = Actor(principal.username, client)
        return tenant_json(create_tenant(services, actor, data.name, data.display_name, owner))


@get("/", sync_to_thread=False, tags=["tenants"])
def show_tenant(tenant_access: TenantAccessDep) -> dict[str, Any]:
    """The tenant and the caller's role in it (any member, API keys included)."""
    return tenant_json(tenant_access.tenant, tenant_access.role)


@delete(
    "/",
    opt={"min_role": "owner", "admin_ok": True, "users_only": True},
    status_code=HTTP_204_NO_CONTENT,
    sync_to_thread=True,
    tags=["tenants"],
)
def delete_tenant(tenant_access: TenantAccessDep, services: ServicesDep, client: ClientDep) -> None:
    """Delete the tenant: its key is destroyed first, then its files (owners, admins)."""
    actor = Actor(tenant_access.principal.username, client)
    remove_tenant(services, actor, tenant_access.tenant)
