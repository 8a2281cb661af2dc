"""The one guard in front of `/api/v1/tenants/{tenant}/...`, and the tenant DI.

Every route under the tenant router passes `TenantGuard`, run by the request gate
(app/api/gate.py) right after authentication, before any parameter is parsed or
dependency resolved. The guard resolves the tenant and the caller's role and leaves a
TenantAccess in the request state; the router's dependencies (`tenant_access`, `tenant_db`,
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
from litestar.datastructures import Headers
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ControllerRouterHandler, Scope

from agents.documents.ledger import DocumentLedger
from agents.ingest.sources.hooks import HookAuthError, HookCredentials
from app.api.authn import AuthenticationRequired
from app.auth.principal import Principal
from app.auth.tenant_access import TenantAccess, TenantNotFound, resolve_access
from app.errors import AppError
from storage.blobs import BlobStore
from storage.database import Database
from storage.errors import NotFoundError
from storage.records import TenantRecord
from storage.system_store import SystemLookups, SystemStore
from storage.tenants import TenantRegistry

TENANT_PATH = "/tenants/{tenant:str}"
# route opt set by the tenant router: the request gate runs TenantGuard on such routes
TENANT_SCOPED = "tenant_scoped"
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
    """Membership and role check for one tenant route; 404 for non-members.

    The request gate (app/api/gate.py) runs it for every route carrying the TENANT_SCOPED
    opt, which the tenant router sets on everything in it, before the handler's
    parameters and dependencies are resolved."""

    def __init__(self, system: SystemStore) -> None:
        self._system = system

    def check(
        self,
        scope: Scope,
        handler: BaseRouteHandler,
        principal: Principal | None,
        lookups: SystemLookups | None,
    ) -> None:
        """Leaves the TenantAccess (or, on a hook route, the TenantRecord) in the scope."""
        state = scope["state"]
        tenant_ref = str(scope["path_params"].get("tenant", ""))
        if handler.opt.get("hook"):
            state[_HOOK_STATE_KEY] = self._hook(scope, tenant_ref)
            return
        if principal is None or lookups is None:
            raise AuthenticationRequired("sign in first")
        method = str(scope.get("method", "GET"))
        state[_STATE_KEY] = resolve_access(
            lookups,
            principal,
            tenant_ref,
            required_role(handler, method),
            admin_ok=bool(handler.opt.get("admin_ok")),
            users_only=bool(handler.opt.get("users_only")),
        )

    def _hook(self, scope: Scope, tenant_ref: str) -> TenantRecord:
        """Inbound hook: credentials first (401 whatever the tenant), then the tenant."""
        if not HookCredentials.from_headers(Headers.from_scope(scope)).present:
            raise HookAuthError(
                "Send X-Appliance-Signature with X-Appliance-Timestamp, or X-Appliance-Hook-Token."
            )
        try:
            return self._system.find_tenant(tenant_ref)
        except NotFoundError:
            raise TenantNotFound() from None


def provide_tenant_access(request: Request[Any, Any, Any]) -> TenantAccess:
    access = request.scope["state"].get(_STATE_KEY)
    if not isinstance(access, TenantAccess):
        raise TenantGuardMissing("tenant route without the tenant guard")
    return access


def provide_hook_tenant(request: Request[Any, Any, Any]) -> TenantRecord:
    """The tenant of an inbound hook route (no principal: the hook authenticates itself)."""
    tenant = request.scope["state"].get(_HOOK_STATE_KEY)
    if not isinstance(tenant, TenantRecord):
        raise TenantGuardMissing("hook route without the tenant guard")
    return tenant


def tenant_providers(tenants: TenantRegistry) -> dict[str, Provide]:
    """The router-level providers; each derives from the guard's TenantAccess alone.

    Each reads it from the request itself rather than through the `tenant_access`
    provider: every level of dependencies costs Litestar a signature parse and a call
    (~8 us per request, docs/benchmarks.md, api suite), and providers that depend on
    each other in a diamond made it resolve each level in an anyio task group.
    """

    def provide_tenant_db(request: Request[Any, Any, Any]) -> Database:
        return tenants.database(provide_tenant_access(request).tenant_id)

    def provide_tenant_blobs(request: Request[Any, Any, Any]) -> BlobStore:
        return tenants.blobs(provide_tenant_access(request).tenant_id)

    def provide_ledger(request: Request[Any, Any, Any]) -> DocumentLedger:
        tenant_id = provide_tenant_access(request).tenant_id
        return DocumentLedger(tenants.database(tenant_id), tenants.blobs(tenant_id))

    return {
        "tenant_access": Provide(provide_tenant_access, sync_to_thread=False),
        "tenant_db": Provide(provide_tenant_db, sync_to_thread=False),
        "tenant_blobs": Provide(provide_tenant_blobs, sync_to_thread=False),
        "ledger": Provide(provide_ledger, sync_to_thread=False),
        "hook_tenant": Provide(provide_hook_tenant, sync_to_thread=False),
    }


def build_tenant_router(
    tenants: TenantRegistry, handlers: Sequence[ControllerRouterHandler]
) -> Router:
    """The router every tenant-scoped controller goes into (later issues append to it).

    Its opt marks each route for the tenant guard; route_audit checks that every route
    under /tenants/{...} carries it."""
    return Router(
        path=TENANT_PATH,
        route_handlers=list(handlers),
        opt={TENANT_SCOPED: True},
        dependencies=tenant_providers(tenants),
        tags=["tenant"],
    )
