"""The one gate in front of `/api/v1/tenants/{tenant}/...`: the guard and tenant DI.

Every handler under the tenant router passes `TenantGuard` before any parameter is
parsed. The guard resolves the tenant and the caller's role and leaves a TenantAccess in
the connection state; the router's dependencies (`tenant_access`, `tenant_db`,
`tenant_blobs`) are derived from that alone, so a handler never names a tenant id itself.

Per-route rules come from the handler's `opt`:
  min_role   "viewer" | "editor" | "owner"; default viewer for GET/HEAD/OPTIONS, else editor
  admin_ok   appliance admins pass without membership (tenant and member management, audit)
  users_only API keys are refused (403): keys do data work, not account management
  hook       the one exception to "a user signs in": an inbound hook route. No principal
             is attached (see authn); the guard requires hook credentials (a signature
             or token header, else 401), resolves the tenant (unknown: the usual 404) and
             leaves the TenantRecord as `hook_tenant`; the handler then checks the
             signature/token against the hook's secret. Only the routes listed in
             route_audit.HOOK_ROUTES may carry it; build_api refuses any other.

Later issues add their controllers to `TENANT_HANDLERS` in app/api/application.py and
take `tenant_db` / `tenant_blobs` / `tenant_access` parameters; they never call
`services.tenants.database(...)` themselves.
"""

from collections.abc import Sequence
from typing import Any

from litestar import Request, Router
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ControllerRouterHandler

from agents.ingest.hooks import HookAuthError, HookCredentials
from agents.ingest.ledger import DocumentLedger
from app.api.deps import TenantAccessDep
from app.api.guards import require_principal
from app.auth.tenant_access import TenantAccess, TenantNotFound, resolve_access
from app.errors import AppError
from storage.blobs import BlobStore
from storage.database import Database
from storage.errors import NotFoundError
from storage.records import TenantRecord
from storage.system_store import SystemStore
from storage.tenants import TenantRegistry

TENANT_PATH = "/tenants/{tenant:str}"
_STATE_KEY = "tenant_access"
_HOOK_STATE_KEY = "hook_tenant"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TenantGuardMissing(AppError):
    """A handler asked for tenant data without passing the tenant guard: a programming error."""

    status_code = 500
    code = "tenant_guard_missing"


def required_role(handler: BaseRouteHandler, method: str) -> str:
    """The minimum tenant role a route needs (from opt, else by HTTP method)."""
    role = handler.opt.get("min_role")
    if role:
        return str(role)
    return "viewer" if method in _READ_METHODS else "editor"


class TenantGuard:
    """Membership and role check for one tenant route; 404 for non-members."""

    def __init__(self, system: SystemStore) -> None:
        self._system = system

    def __deepcopy__(self, memo: dict[int, Any]) -> "TenantGuard":
        # Litestar deep-copies routers on registration; the store (locks, connections)
        # must be shared, not copied
        return self

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        # a coroutine, run on the event loop: a sync guard would go to a worker thread,
        # which cost more than its two indexed lookups in system.db
        if handler.opt.get("hook"):
            self._hook(connection)
            return
        principal = require_principal(connection)
        method = str(connection.scope.get("method", "GET"))
        access = resolve_access(
            self._system,
            principal,
            str(connection.path_params.get("tenant", "")),
            required_role(handler, method),
            admin_ok=bool(handler.opt.get("admin_ok")),
            users_only=bool(handler.opt.get("users_only")),
        )
        connection.state[_STATE_KEY] = access

    def _hook(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Inbound hook: credentials first (401 whatever the tenant), then the tenant."""
        if not HookCredentials.from_headers(connection.headers).present:
            raise HookAuthError(
                "Send X-Appliance-Signature with X-Appliance-Timestamp, or X-Appliance-Hook-Token."
            )
        try:
            tenant = self._system.find_tenant(str(connection.path_params.get("tenant", "")))
        except NotFoundError:
            raise TenantNotFound() from None
        connection.state[_HOOK_STATE_KEY] = tenant


def provide_tenant_access(request: Request[Any, Any, Any]) -> TenantAccess:
    access = request.state.get(_STATE_KEY)
    if not isinstance(access, TenantAccess):
        raise TenantGuardMissing("tenant route without the tenant guard")
    return access


def provide_hook_tenant(request: Request[Any, Any, Any]) -> TenantRecord:
    """The tenant of an inbound hook route (no principal: the hook authenticates itself)."""
    tenant = request.state.get(_HOOK_STATE_KEY)
    if not isinstance(tenant, TenantRecord):
        raise TenantGuardMissing("hook route without the tenant guard")
    return tenant


def tenant_providers(tenants: TenantRegistry) -> dict[str, Provide]:
    """The router-level providers; each derives from `tenant_access` alone.

    Litestar resolves dependencies of one level concurrently in an anyio task group when
    there are several; keeping every provider one step from `tenant_access` means a
    handler's dependencies resolve in a straight line, which measured ~60 us less per
    request than a diamond through `services` (docs/benchmarks.md, api suite).
    """

    def provide_tenant_db(tenant_access: TenantAccessDep) -> Database:
        return tenants.database(tenant_access.tenant_id)

    def provide_tenant_blobs(tenant_access: TenantAccessDep) -> BlobStore:
        return tenants.blobs(tenant_access.tenant_id)

    def provide_ledger(tenant_access: TenantAccessDep) -> DocumentLedger:
        tenant_id = tenant_access.tenant_id
        return DocumentLedger(tenants.database(tenant_id), tenants.blobs(tenant_id))

    return {
        "tenant_access": Provide(provide_tenant_access, sync_to_thread=False),
        "tenant_db": Provide(provide_tenant_db, sync_to_thread=False),
        "tenant_blobs": Provide(provide_tenant_blobs, sync_to_thread=False),
        "ledger": Provide(provide_ledger, sync_to_thread=False),
        "hook_tenant": Provide(provide_hook_tenant, sync_to_thread=False),
    }


def build_tenant_router(
    system: SystemStore, tenants: TenantRegistry, handlers: Sequence[ControllerRouterHandler]
) -> Router:
    """The router every tenant-scoped controller goes into (later issues append to it)."""
    return Router(
        path=TENANT_PATH,
        route_handlers=list(handlers),
        guards=[TenantGuard(system)],
        dependencies=tenant_providers(tenants),
        tags=["tenant"],
    )
