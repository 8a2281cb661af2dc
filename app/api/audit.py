"""GET /audit (appliance admins) and GET /tenants/{tenant}/audit (owners and admins)."""

from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import QueryParameter

from app.api.deps import ServicesDep, TenantAccessDep
from app.api.guards import admin_guard
from app.operations.audit import entry_json
from app.services import Services

MAX_LIMIT = 500


def page(
    services: Services, tenant_id: str | None, limit: int, before: int | None
) -> dict[str, Any]:
    entries = services.system.audit_entries(tenant_id=tenant_id, limit=limit, before_id=before)
    return {
        "entries": [entry_json(e) for e in entries],
        # pass as ?before= to get the next (older) page
        "next_before": entries[-1].id if len(entries) == limit else None,
    }


_LIMIT = QueryParameter(ge=1, le=MAX_LIMIT, description="entries per page, newest first")
# ids fit in 53 bits (exact in every JSON number implementation); SQLite takes 64
MAX_ID = 2**53 - 1
_BEFORE = QueryParameter(ge=1, le=MAX_ID, description="only entries older than this id")


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]
    guards = [admin_guard]

    @get("/", sync_to_thread=True)
    def all_entries(
        self,
        services: ServicesDep,
        limit: Annotated[int, _LIMIT] = 100,
        before: Annotated[int | None, _BEFORE] = None,
    ) -> dict[str, Any]:
        """The whole audit log: sign-ins, tokens, keys, tenants, members."""
        return page(services, None, limit, before)


@get(
    "/audit",
    opt={"min_role": "owner", "admin_ok": True, "users_only": True},
    sync_to_thread=True,
    tags=["audit"],
)
def tenant_entries(
    tenant_access: TenantAccessDep,
    services: ServicesDep,
    limit: Annotated[int, _LIMIT] = 100,
    before: Annotated[int | None, _BEFORE] = None,
) -> dict[str, Any]:
    """This tenant's audit log."""
    return page(services, tenant_access.tenant_id, limit, before)
