"""The tenant's outbox: GET /outbox?state=&limit=&cursor=, GET /outbox/{id},
POST /outbox/{id}/redeliver, and POST /outbox to send a webhook or HTTP call now.

Reading needs the viewer role, redelivering and sending the editor role. Messages are
shown without bodies or secrets (agents/act/views.py). `POST /outbox` runs the same
`webhook` / `http` step a workflow would, with the caller's `key` as the idempotency key
(the same key twice makes one message), so a sender outside a workflow also gets the
outbox's never-lost delivery.
"""

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from agents.act import outbox
from agents.act.steps_http import HttpStep, WebhookStep
from agents.act.views import message_view
from agents.supervisor.step import StepContext, StepError
from app.api.deps import DispatcherDep, TenantAccessDep, TenantDbDep
from app.errors import AppError


class StepRefused(AppError):
    status_code = 422
    code = "invalid_action"


class NewOutboxMessage(msgspec.Struct, forbid_unknown_fields=True):
    """POST body: a webhook (connector | url, json) or an http call (connector + path |
    url, method, json). `key` makes the request idempotent."""

    kind: Literal["webhook", "http"]
    key: str | None = None
    connector: str | None = None
    url: str | None = None
    path: str | None = None
    method: str | None = None
    json: dict[str, Any] | list[Any] | None = None


class OutboxController(Controller):
    path = "/outbox"
    tags = ["outbox"]

    @get("/", sync_to_thread=True)
    def list_outbox(
        self,
        tenant_db: TenantDbDep,
        state_filter: Annotated[
            Literal["pending", "delivering", "delivered", "dead", "disabled"] | None,
            QueryParameter(name="state"),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="items per page")] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """Messages newest first, optionally of one state; `next_cursor` pages on."""
        items, next_cursor = outbox.list_messages(
            tenant_db, state_filter or None, max(1, min(limit, 200)), cursor
        )
        disabled = outbox.disabled_endpoints(tenant_db)
        return {
            "items": [message_view(m, disabled) for m in items],
            "next_cursor": next_cursor,
            "counts": outbox.counts(tenant_db),
        }

    @get("/{message_id:str}", sync_to_thread=True)
    def show_message(self, message_id: FromPath[str], tenant_db: TenantDbDep) -> dict[str, Any]:
        return message_view(
            outbox.get_message(tenant_db, message_id), outbox.disabled_endpoints(tenant_db)
        )

    @post("/{message_id:str}/redeliver", status_code=HTTP_200_OK, sync_to_thread=True)
    def redeliver(
        self,
        message_id: FromPath[str],
        tenant_access: TenantAccessDep,
        tenant_db: TenantDbDep,
        dispatcher: DispatcherDep,
    ) -> dict[str, Any]:
        """Send a dead, disabled or delivered message again (409 while it is pending)."""
        message = dispatcher.redeliver(tenant_access.tenant_id, message_id)
        return message_view(message, outbox.disabled_endpoints(tenant_db))

    @post("/", status_code=HTTP_202_ACCEPTED, sync_to_thread=True)
    def send_now(
        self,
        data: JSONBody[NewOutboxMessage],
        tenant_access: TenantAccessDep,
        tenant_db: TenantDbDep,
        dispatcher: DispatcherDep,
    ) -> dict[str, Any]:
        """Queue a webhook or HTTP call through the outbox; 202 with the message."""
        if data.kind not in ("webhook", "http"):
            raise StepRefused("kind must be webhook or http")
        step = WebhookStep(dispatcher) if data.kind == "webhook" else HttpStep(dispatcher)
        key = data.key or uuid.uuid4().hex
        ctx = StepContext(tenant_access.tenant_id, run_id=f"api-{key}", step_id=data.kind)
        params = {k: v for k, v in msgspec.to_builtins(data).items() if v is not None}
        params.pop("kind", None)
        params.pop("key", None)
        try:
            result = step.run(ctx, params)
        except StepError as error:
            raise StepRefused(error.message) from error
        with tenant_db.write() as conn:
            for write in result.on_commit:
                write(conn)
        for after in result.after_commit:
            after()
        message_id = result.output.get("message_id")
        if message_id is None:  # a read (GET) ran at once
            return {"output": result.output}
        return message_view(
            outbox.get_message(tenant_db, message_id), outbox.disabled_endpoints(tenant_db)
        )
