"""Runs of one tenant: GET /runs (filter by workflow, status, time; cursor paging),
GET /runs/{id} (steps with status, attempts, outputs, errors, timings),
POST /runs/{id}/retry {from: failed|start}, POST /runs/{id}/cancel.

Viewers read; editors retry and cancel.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from app.api.deps import ServicesDep, SupervisorDep, TenantAccessDep
from app.api.workflows import InvalidWorkflowRequest


class RetryRequest(msgspec.Struct, forbid_unknown_fields=True, rename={"start_from": "from"}):
    start_from: Literal["failed", "start"] = "failed"


def _epoch(value: str | None, name: str) -> float | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidWorkflowRequest(f"'{name}' is not an ISO 8601 time") from exc
    return moment.timestamp()


class RunsController(Controller):
    path = "/runs"
    tags = ["runs"]

    @get("/", sync_to_thread=True)
    def list_runs(
        self,
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        supervisor: SupervisorDep,
        workflow: FromQuery[str | None] = None,
        status: FromQuery[
            Literal["queued", "running", "succeeded", "failed", "cancelled"] | None
        ] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="items per page")] = 50,
        cursor: Annotated[str | None, QueryParameter(pattern=r"^[0-9]{1,15}$")] = None,
    ) -> dict[str, Any]:
        """Newest first. `since`/`until`: ISO 8601 times the run was queued in."""
        try:
            position = int(cursor) if cursor else None
        except ValueError as exc:
            raise InvalidWorkflowRequest("invalid cursor") from exc
        items, next_cursor = supervisor.list_runs(
            tenant_access.tenant_id,
            workflow=workflow,
            status=status,
            since=_epoch(since, "since"),
            until=_epoch(until, "until"),
            limit=max(1, min(limit, 200)),
            cursor=position,
        )
        return {"items": items, "next_cursor": str(next_cursor) if next_cursor else None}

    @get("/{run_id:str}", sync_to_thread=True)
    def show(
        self,
        run_id: FromPath[str],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        supervisor: SupervisorDep,
    ) -> dict[str, Any]:
        return supervisor.run_detail(tenant_access.tenant_id, run_id)

    @post("/{run_id:str}/retry", status_code=HTTP_200_OK, sync_to_thread=True)
    def retry(
        self,
        run_id: FromPath[str],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        supervisor: SupervisorDep,
        data: JSONBody[RetryRequest | None] = None,
    ) -> dict[str, Any]:
        """Run a finished run again from its failed step (earlier outputs kept) or the start."""
        start_from = data.start_from if data else "failed"
        return supervisor.retry(tenant_access.tenant_id, run_id, start_from)

    @post("/{run_id:str}/cancel", status_code=HTTP_200_OK, sync_to_thread=True)
    def cancel(
        self,
        run_id: FromPath[str],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        supervisor: SupervisorDep,
    ) -> dict[str, Any]:
        return supervisor.cancel(tenant_access.tenant_id, run_id)
