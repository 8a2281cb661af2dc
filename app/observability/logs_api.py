"""GET /tenants/{tenant}/logs (members) and GET /logs (appliance admins)."""

from typing import Any

from litestar import Request, get

from agents.telemetry.activity_log import ActivityLog
from app.api.deps import ServicesDep, TenantDbDep
from app.api.guards import admin_guard
from app.observability.log_file import search_log_file
from app.observability.log_query import InvalidLogQuery, parse_log_query
from storage.errors import NotFoundError


def _params(request: Request[Any, Any, Any]) -> dict[str, str]:
    # a repeated parameter counts once, its last value (as most web frameworks do)
    return {key: values[-1] for key, values in request.query_params.dict().items()}


@get("/logs", opt={"min_role": "viewer"}, sync_to_thread=True, tags=["logs"])
def tenant_logs(request: Request[Any, Any, Any], tenant_db: TenantDbDep) -> dict[str, Any]:
    """This tenant's activity log, newest first.

    `level` (minimum), `agent`, `run_id`, `q` (words in the event), `since` (ISO time or
    15m/2h/7d), `limit` (1-500), `cursor` (from `next_cursor`)."""
    query = parse_log_query(_params(request))
    entries, cursor = ActivityLog(tenant_db).search(query)
    return {"entries": [e.public() for e in entries], "next_cursor": cursor}


@get("/logs", guards=[admin_guard], sync_to_thread=True, tags=["logs"])
def appliance_logs(request: Request[Any, Any, Any], services: ServicesDep) -> dict[str, Any]:
    """The appliance-wide log (every tenant and the system), from the JSON log file; the
    same parameters as a tenant's log plus `tenant` (slug or id)."""
    params = _params(request)
    query = parse_log_query(params, allow_tenant=True)
    tenant_id = None
    if params.get("tenant"):
        try:
            tenant_id = services.system.find_tenant(params["tenant"]).id
        except NotFoundError:
            raise InvalidLogQuery("tenant", "no such tenant") from None
    entries, cursor = search_log_file(services.data.logs_dir, query, tenant_id)
    return {"entries": entries, "next_cursor": cursor}
