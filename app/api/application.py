"""Assembles the Litestar app: routers, middleware, app-level dependencies, error rendering.

Layers, outermost first: the request gate (host check -> authentication, principal in
scope["user"] -> per-principal rate limit -> tenant guard; app/api/gate.py) -> route
guards (admin, user) -> handler. Security headers are added by a before_send hook, so
errors and 404s carry them too.
"""

import re
from collections.abc import Sequence
from typing import Any

from litestar import Litestar, Request, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.routes import HTTPRoute

from app.api.analysis import AnalysisController
from app.api.api_keys import ApiKeysController
from app.api.audit import AuditController, tenant_entries
from app.api.auth import AuthController
from app.api.authn import Authentication
from app.api.connectors import ConnectorsController
from app.api.contract import ContractJsonPlugin
from app.api.document_tags import DocumentTagsController
from app.api.documents import DocumentsController
from app.api.gate import RequestGate
from app.api.guards import require_principal
from app.api.headers import api_before_send
from app.api.health import HealthController
from app.api.hooks import HooksController
from app.api.hosts import AllowedHosts
from app.api.limits import LimitedRequest
from app.api.members import MembersController
from app.api.outbox import OutboxController
from app.api.rate_limit import RateLimit
from app.api.reports import ReportsController, ReportTemplatesController
from app.api.route_audit import assert_tenant_routes_guarded
from app.api.runs import RunsController
from app.api.search import search_chunks
from app.api.tenant_scope import build_tenant_router
from app.api.tenants import TenantsController, delete_tenant, show_tenant
from app.api.users import UsersController
from app.api.workflows import WorkflowsController
from app.auth.client_address import check_trusted_proxies, client_address
from app.auth.principal import Principal
from app.errors import render_exception
from app.observability.logs_api import appliance_logs, tenant_logs
from app.observability.metrics_route import metrics_endpoint
from app.observability.status_api import tenant_status
from app.observability.wiring import collect_queue
from app.runtime import Runtime

API_PREFIX = "/api/v1"
_PARAMETER_TYPE = re.compile(r"\{(\w+)(?::[^}]+)?\}")

# Controllers scoped to one tenant. Later issues append theirs (documents, search, ...);
# the router puts every one of them behind the tenant guard.
TENANT_HANDLERS: list[Any] = [
    show_tenant,
    delete_tenant,
    MembersController,
    ApiKeysController,
    tenant_entries,
    DocumentsController,
    DocumentTagsController,
    search_chunks,
    AnalysisController,
    ConnectorsController,
    tenant_logs,
    tenant_status,
    OutboxController,
    WorkflowsController,
    RunsController,
    # reports (issue 14)
    ReportsController,
    ReportTemplatesController,
    # inbound hooks: opt "hook", the one route authenticating its caller instead of a user
    # (route_audit.HOOK_ROUTES lists it; tenant_scope.TenantGuard handles it)
    HooksController,
]


def build_api(runtime: Runtime, extra_tenant_handlers: Sequence[Any] = ()) -> Litestar:
    """The REST API; settings, services and the runtime's agents are app-level dependencies.

    `extra_tenant_handlers` go behind the tenant guard like TENANT_HANDLERS (tests use it).
    """
    services = runtime.services
    settings = services.settings
    kit = runtime.auth
    observability = runtime.observability
    collect_queue(observability, services, runtime.queue.status)
    trusted = list(settings.server.trusted_proxies)
    check_trusted_proxies(trusted)

    def provide_client(request: Request[Any, Any, Any]) -> str:
        return client_address(request.scope, trusted)

    def provide_principal(request: Request[Any, Any, Any]) -> Principal:
        return require_principal(request)

    public = Router(
        path="/", route_handlers=[HealthController], opt={"public": True, "no_rate_limit": True}
    )
    api_v1 = Router(
        path=API_PREFIX,
        route_handlers=[
            public,
            AuthController,
            TenantsController,
            UsersController,
            AuditController,
            appliance_logs,
            build_tenant_router(services.tenants, [*TENANT_HANDLERS, *extra_tenant_handlers]),
        ],
    )
    # outside /api/v1, like every Prometheus target; absent when metrics are off
    observed = [metrics_endpoint] if observability.metrics.enabled else []
    allowed: dict[str, bytes] = {}

    async def allow_header(message: Any, scope: Any) -> None:
        # Litestar's OPTIONS answer lists only the methods of the first handler it merged
        # into a path; the route table knows them all
        if scope.get("method") == "OPTIONS" and message.get("type") == "http.response.start":
            methods = allowed.get(_PARAMETER_TYPE.sub(r"{\1}", scope.get("path_template", "")))
            if methods:
                kept = [(k, v) for k, v in message["headers"] if k.lower() != b"allow"]
                message["headers"] = [*kept, (b"allow", methods)]

    app = Litestar(
        route_handlers=[api_v1, *observed],
        middleware=[
            RequestGate(
                AllowedHosts(settings.server.allowed_hosts),
                Authentication(kit.authenticator),
                RateLimit(settings.security.api_rate_limit_per_minute, trusted),
                services.system,
            )
        ],
        dependencies={
            "runtime": Provide(lambda: runtime, sync_to_thread=False),
            "services": Provide(lambda: services, sync_to_thread=False),
            "settings": Provide(lambda: services.settings, sync_to_thread=False),
            "queue": Provide(lambda: runtime.queue, sync_to_thread=False),
            "auth": Provide(lambda: kit, sync_to_thread=False),
            "ingest": Provide(lambda: runtime.ingest, sync_to_thread=False),
            "analysis": Provide(lambda: runtime.analysis, sync_to_thread=False),
            "answerer": Provide(runtime.require_answerer, sync_to_thread=False),
            "llm": Provide(runtime.require_llm, sync_to_thread=False),
            "enqueue": Provide(lambda: runtime.enqueue, sync_to_thread=False),
            "observability": Provide(lambda: observability, sync_to_thread=False),
            "metrics": Provide(lambda: observability.metrics, sync_to_thread=False),
            "dispatcher": Provide(lambda: runtime.dispatcher, sync_to_thread=False),
            "supervisor": Provide(lambda: runtime.supervisor, sync_to_thread=False),
            "reports": Provide(lambda: runtime.reports, sync_to_thread=False),
            "client": Provide(provide_client, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        exception_handlers={Exception: render_exception},
        before_send=[api_before_send, allow_header],
        openapi_config=OpenAPIConfig(
            title="Agent Appliance",
            version="1",
            render_plugins=[ContractJsonPlugin()],
            openapi_router=Router(
                path=f"{API_PREFIX}/schema",
                route_handlers=[],
                opt={"public": True},
                include_in_schema=False,
            ),
        ),
        request_max_body_size=settings.server.max_body_mb * 1024 * 1024,
        request_class=LimitedRequest,
        debug=False,
        # our own logging (stderr + <data>/logs) is configured once by the CLI
        logging_config=None,
    )
    assert_tenant_routes_guarded(app)
    allowed.update(
        (_PARAMETER_TYPE.sub(r"{\1}", route.path), ", ".join(sorted(route.methods)).encode())
        for route in app.routes
        if isinstance(route, HTTPRoute)
    )
    return app


__all__ = ["API_PREFIX", "TENANT_HANDLERS", "build_api"]
