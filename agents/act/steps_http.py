"""The `webhook`, `http` and `crm` workflow steps.

Each renders its request in `run` and returns it as an outbox row to write when the step
completes (`on_commit`) plus the dispatcher task to queue afterwards (`after_commit`).
Reads (HTTP GET/HEAD, CRM find_contact) change nothing at the receiver, so they are
called at once and their response (size-limited) is the step's output.

Parameters (rendered `with`):
  webhook: connector (name or id of a webhook connector) | url; json (the body); headers
  http:    connector (http) + path | url; method; json; headers
  crm:     connector (crm); operation; fields (the operation's parameters)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from agents.act import crm_profiles, http_sender, outbox
from agents.act.connector_kinds import METHODS, check_url
from agents.act.dispatcher import DeliverTask, Dispatcher
from agents.act.errors import ActError
from agents.act.http_sender import Connector
from agents.act.schedule import Attempt
from agents.act.templates import render_json
from agents.ingest.sources.connectors import ConnectorConfigError, ConnectorRecord
from agents.supervisor.step import Step, StepContext, StepError, StepResult

_SAFE_HEADER = frozenset({"authorization", "cookie", "proxy-authorization", "host"})


def find_connector(
    dispatcher: Dispatcher, tenant_id: str, ref: str, kind: str
) -> tuple[ConnectorRecord, Connector]:
    """The connector named or with id `ref`, of `kind`; StepError when there is none."""
    store = dispatcher.connectors(tenant_id)
    matches = [r for r in store.list(kind) if ref in (r.id, r.name)]
    if not matches:
        raise StepError(f"No {kind} connector {ref!r}.", code="unknown_connector", retryable=False)
    record = matches[0]
    if not record.enabled:
        raise StepError(f"The connector {record.name!r} is switched off.", code="connector_off")
    return record, Connector(record.id, record.kind, record.config, store.secrets(record.id))


def plain_headers(given: Any) -> dict[str, str]:
    """Headers a step may set itself: strings, and none that carries credentials."""
    if not given:
        return {}
    if not isinstance(given, dict):
        raise StepError("headers must be an object.", code="invalid_params", retryable=False)
    bad = [k for k in given if str(k).lower() in _SAFE_HEADER]
    if bad:
        raise StepError(
            f"Set credentials in a connector, not as header {bad[0]!r}.",
            code="invalid_params",
            retryable=False,
        )
    return {str(k): str(v) for k, v in given.items()}


def endpoint_of(connector_id: str | None, url: str) -> str:
    """The endpoint key (what a 410 disables): the connector, or the URL without query."""
    if connector_id:
        return f"connector:{connector_id}"
    parts = urlsplit(url)
    return f"url:{parts.scheme}://{parts.netloc}{parts.path}"


class _OutboxStep(Step):
    side_effects = True

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def queue(
        self,
        ctx: StepContext,
        kind: str,
        payload: dict[str, Any],
        endpoint: str,
        connector_id: str | None,
    ) -> StepResult:
        """The StepResult that writes `payload` to the outbox and queues its delivery."""
        try:
            message = outbox.new_message(
                ctx.idempotency_key,
                kind,
                payload,
                endpoint=endpoint,
                max_bytes=self.dispatcher.limits.max_body_bytes,
                connector_id=connector_id,
                run_id=ctx.run_id,
                step_id=ctx.step_id,
            )
        except ActError as error:
            raise StepError(error.message, code=error.code, retryable=False) from error
        now = time.time()
        task = DeliverTask(ctx.tenant_id, message.id)

        def write(conn: Any) -> None:
            outbox.insert_message(conn, message, now)

        def enqueue() -> None:
            self.dispatcher.trigger(task.tenant_id, task.message_id)

        output = {"message_id": message.id, "state": "pending", "kind": kind}
        return StepResult(output=output, on_commit=[write], after_commit=[enqueue])

    def read_now(self, call: Callable[[], Attempt]) -> dict[str, Any]:
        try:
            attempt = call()
        except ActError as error:
            raise StepError(error.message, code=error.code, retryable=False) from error
        if attempt.outcome != "delivered":
            raise StepError(
                attempt.error or "The call failed.",
                code="call_failed",
                retryable=attempt.outcome == "retry",
            )
        return {"response": attempt.response}


def _json_body(params: dict[str, Any], connector: Connector | None, ctx: StepContext) -> Any:
    if "json" in params:
        return params["json"]
    template = connector.config.get("body_template") if connector else ""
    if template:
        context = {"data": params.get("data", {}), "inputs": ctx.inputs, "trigger": ctx.trigger}
        try:
            return render_json(template, context)
        except ActError as error:
            raise StepError(error.message, code=error.code, retryable=False) from error
    return None


_STR = {"type": "string"}
_HEADERS = {"type": "object", "additionalProperties": {"type": "string"}}


class WebhookStep(_OutboxStep):
    agent = "webhook"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"connector": _STR, "url": _STR, "json": {}, "headers": _HEADERS},
        "anyOf": [{"required": ["connector"]}, {"required": ["url"]}],
    }
    description = "POST a JSON body to a webhook, signed with Standard Webhooks headers."

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        connector: Connector | None = None
        headers = plain_headers(params.get("headers"))
        if params.get("connector"):
            _, connector = find_connector(
                self.dispatcher, ctx.tenant_id, params["connector"], "webhook"
            )
            url = str(connector.config["url"])
            headers = {**connector.config.get("headers", {}), **headers}
        else:
            url = _checked_url(params.get("url"))
        body = json.dumps(params.get("json", {}), ensure_ascii=False)
        payload = {"method": "POST", "url": url, "headers": headers, "body": body}
        connector_id = connector.id if connector else None
        return self.queue(ctx, "webhook", payload, endpoint_of(connector_id, url), connector_id)


def _checked_url(url: Any) -> str:
    try:
        check_url(str(url or ""))
    except ConnectorConfigError as error:
        raise StepError(error.message, code="invalid_params", retryable=False) from error
    return str(url)


class HttpStep(_OutboxStep):
    agent = "http"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "connector": _STR,
            "path": _STR,
            "url": _STR,
            "method": _STR,
            "json": {},
            "data": {},
            "headers": _HEADERS,
        },
        "anyOf": [{"required": ["connector"]}, {"required": ["url"]}],
    }
    description = "Call a REST endpoint (connector + path, or a plain url); reads run at once."

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        connector: Connector | None = None
        headers = plain_headers(params.get("headers"))
        if params.get("connector"):
            _, connector = find_connector(
                self.dispatcher, ctx.tenant_id, params["connector"], "http"
            )
            base = str(connector.config["base_url"])
            url = urljoin(
                base if base.endswith("/") else base + "/", str(params.get("path", "")).lstrip("/")
            )
            method = str(params.get("method") or connector.config.get("method") or "POST").upper()
            headers = {**connector.config.get("headers", {}), **headers}
        else:
            url = _checked_url(params.get("url"))
            method = str(params.get("method") or "POST").upper()
        if method not in (*METHODS, "HEAD"):
            raise StepError(
                f"method {method!r} is not supported.", code="invalid_params", retryable=False
            )
        body = _json_body(params, connector, ctx)
        payload = {
            "method": method,
            "url": url,
            "headers": headers,
            "body": None if body is None else json.dumps(body, ensure_ascii=False),
        }
        if method in ("GET", "HEAD"):
            limits = self.dispatcher.limits
            output = self.read_now(
                lambda: http_sender.send(
                    self.dispatcher.client,
                    ctx.idempotency_key,
                    "http",
                    payload,
                    connector,
                    max_response=limits.max_response_bytes,
                    timeout=limits.timeout_s,
                )
            )
            return StepResult(output=output)
        connector_id = connector.id if connector else None
        return self.queue(ctx, "http", payload, endpoint_of(connector_id, url), connector_id)


class CrmStep(_OutboxStep):
    agent = "crm"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "connector": _STR,
            "operation": {"enum": list(crm_profiles.OPERATIONS)},
            "fields": {"type": "object"},
        },
        "required": ["connector", "operation"],
    }
    description = "create_contact, add_note, create_deal or find_contact in HubSpot or Odoo."

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        if not params.get("connector"):
            raise StepError(
                "A crm step needs a 'connector'.", code="invalid_params", retryable=False
            )
        _, connector = find_connector(self.dispatcher, ctx.tenant_id, params["connector"], "crm")
        operation = str(params.get("operation", ""))
        fields = params.get("fields") or {}
        try:
            crm_profiles.check_operation(operation, fields)
        except ActError as error:
            raise StepError(error.message, code=error.code, retryable=False) from error
        if operation in crm_profiles.READ_OPERATIONS:
            return StepResult(output=self._read(ctx, connector, operation, fields))
        payload = {"operation": operation, "params": fields, "profile": connector.config["profile"]}
        return self.queue(ctx, "crm", payload, endpoint_of(connector.id, ""), connector.id)

    def _read(
        self, ctx: StepContext, connector: Connector, operation: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        call = crm_profiles.http_call(connector.config, connector.secrets, operation, fields)
        auth = connector if crm_profiles.uses_header_auth(connector.config) else None
        limits = self.dispatcher.limits
        output = self.read_now(
            lambda: http_sender.send(
                self.dispatcher.client,
                ctx.idempotency_key,
                "crm",
                call,
                auth,
                max_response=limits.max_response_bytes,
                timeout=limits.timeout_s,
            )
        )
        result, error = crm_profiles.result_of(
            connector.config, operation, output["response"].get("json")
        )
        if error:
            raise StepError(error, code="crm_refused", retryable=False)
        return result
