"""Finds tenant routes in a built app's route table and checks each passes TenantGuard
(the request gate runs it on every route carrying the tenant router's TENANT_SCOPED opt).

build_api runs the check, so an app with an unguarded tenant route does not start; the
tests run it too, together with a request-level probe of every route found here.

The one exception to "a tenant route needs a signed-in member" is the inbound hook route,
which authenticates the hook's sender instead (opt "hook", see tenant_scope). Exceptions
are listed here, explicitly: any other route carrying opt "hook", or a tenant route
marked "public", makes the app refuse to start.
"""

import re

from litestar import Litestar
from litestar.handlers.base import BaseRouteHandler
from litestar.routes import HTTPRoute, WebSocketRoute

from app.api.tenant_scope import TENANT_SCOPED

# any route with /tenants/<parameter> in its path is a tenant route, wherever it was declared
_TENANT_ROUTE = re.compile(r"/tenants/\{[^}]+\}(/|$)")

# (method, path) of every route allowed to authenticate a hook instead of a user
HOOK_ROUTES = frozenset({("POST", "/api/v1/tenants/{tenant:str}/hooks/{hook_id:str}")})


def tenant_routes(app: Litestar) -> list[tuple[str, str, BaseRouteHandler]]:
    """(path, method, handler) for every route under /tenants/{...}, from the route table.

    Websocket and ASGI routes appear with method "WEBSOCKET" / "ASGI" so the guard check
    covers them too.
    """
    found: list[tuple[str, str, BaseRouteHandler]] = []
    for route in app.routes:
        if not _TENANT_ROUTE.search(route.path):
            continue
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                found += [(route.path, method, handler) for method in sorted(handler.http_methods)]
        else:
            kind = "WEBSOCKET" if isinstance(route, WebSocketRoute) else "ASGI"
            found.append((route.path, kind, route.route_handler))
    return sorted(found, key=lambda item: (item[0], item[1]))


def unguarded_tenant_routes(app: Litestar) -> list[str]:
    """'METHOD path' of each tenant route that does not pass TenantGuard."""
    return [
        f"{method} {path}"
        for path, method, handler in tenant_routes(app)
        if not handler.opt.get(TENANT_SCOPED)
    ]


def unexpected_anonymous_routes(app: Litestar) -> list[str]:
    """'METHOD path' of each route skipping user sign-in that it may not skip: opt "hook"
    outside HOOK_ROUTES, or a tenant route marked "public"."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        tenant = bool(_TENANT_ROUTE.search(route.path))
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                hook = bool(handler.opt.get("hook"))
                if (hook and (method, route.path) not in HOOK_ROUTES) or (
                    tenant and handler.opt.get("public")
                ):
                    found.append(f"{method} {route.path}")
    return found


def assert_tenant_routes_guarded(app: Litestar) -> None:
    """Refuse to build an app with a tenant route outside the guard, or with a route
    that skips user sign-in without being one of the listed hook routes."""
    missing = unguarded_tenant_routes(app)
    if missing:
        raise RuntimeError("tenant routes without TenantGuard: " + ", ".join(missing))
    anonymous = unexpected_anonymous_routes(app)
    if anonymous:
        raise RuntimeError("routes skipping sign-in without being listed: " + ", ".join(anonymous))
