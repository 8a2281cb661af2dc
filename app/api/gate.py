"""The request gate: every API request's checks, in order, in one middleware layer.

1. Host header against `server.allowed_hosts` (app/api/hosts.py), 400 otherwise.
2. Authentication (app/api/authn.py): a Principal in scope["user"]; none on routes
   marked `public` or `hook`.
3. Rate limit per API key, user or client address (app/api/rate_limit.py), 429 past it;
   routes marked `no_rate_limit` pass. Its RateLimit-* headers go on the response.
4. The tenant guard (app/api/tenant_scope.py) on every route of the tenant router.

One layer instead of a middleware per step and a Litestar guard: each layer and each
guard call (Litestar copies the route handler for it) cost several microseconds per
request, as much as the checks themselves (docs/benchmarks.md, api suite). The user and
the tenant role are read through one SystemLookups, so one request asks system.db once
whether anything changed.
"""

from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from agents.telemetry import context
from app.api.authn import Authentication
from app.api.headers import EXTRA_HEADERS_KEY
from app.api.hosts import AllowedHosts, HostRejected
from app.api.rate_limit import RateLimit
from app.api.tenant_scope import TENANT_SCOPED, TenantGuard, tenant_id_of
from storage.system_store import SystemStore


class RequestGate(ASGIMiddleware):
    """Host check, authentication, rate limit and tenant guard for the API."""

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    def __init__(
        self,
        allowed_hosts: AllowedHosts,
        authentication: Authentication,
        rate_limit: RateLimit,
        system: SystemStore,
    ) -> None:
        self.allowed_hosts = allowed_hosts
        self.authentication = authentication
        self.rate_limit = rate_limit
        self.system = system
        self.tenant_guard = TenantGuard(system)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if not self.allowed_hosts.allows_scope(scope):
            raise HostRejected("this host name is not in server.allowed_hosts")
        handler = scope["route_handler"]
        opt = handler.opt
        # Inbound hook routes (route_audit.HOOK_ROUTES) are called by outside systems that
        # prove themselves with the hook's own signature or token, checked by the tenant
        # guard and the hook handler; a user login is neither needed nor looked at there.
        if opt.get("public") or opt.get("hook"):
            principal = lookups = None
        else:
            lookups = self.system.lookups()
            principal = await self.authentication.principal(scope, lookups)
        scope["user"] = principal
        if principal is not None:
            # log lines written while handling the request name the caller (never in metrics)
            context.user.set(principal.username)
        if not opt.get("no_rate_limit"):
            extra: dict[str, Any] = scope  # type: ignore[assignment]
            extra[EXTRA_HEADERS_KEY] = self.rate_limit.take(principal, scope)
        if opt.get(TENANT_SCOPED):
            self.tenant_guard.check(scope, handler, principal, lookups)
            context.tenant_id.set(tenant_id_of(scope))
        await next_app(scope, receive, send)
