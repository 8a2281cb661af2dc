"""Sending webhook, HTTP and CRM messages: the stored request plus the connector's secrets.

Secrets are added here, at send time, never stored in the outbox row: a webhook's
Standard Webhooks signature (`webhook-id` = the message id), a connector's auth (bearer,
basic, header key, or an HMAC signature of timestamp and body), and the Idempotency-Key
header (the message id) for HTTP and CRM calls.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from agents.act.errors import ActError
from agents.act.guarded_http import send_following
from agents.act.schedule import Attempt, http_outcome, parse_retry_after
from agents.signatures import appliance_signature, standard_headers


@dataclass(frozen=True)
class Connector:
    """A connector as the senders see it: settings and secrets (never logged)."""

    id: str
    kind: str
    config: dict[str, Any]
    secrets: dict[str, str] = field(repr=False)


def auth_headers(config: dict[str, Any], secrets: dict[str, str], body: bytes) -> dict[str, str]:
    """The headers a connector's `auth` setting adds (bearer, basic, header key, HMAC)."""
    auth = config.get("auth", "none")
    if auth == "bearer":
        return {"Authorization": f"Bearer {secrets['token']}"}
    if auth == "basic":
        pair = f"{config.get('username', '')}:{secrets['password']}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    if auth == "header":
        return {str(config.get("auth_header") or "X-API-Key"): secrets["api_key"]}
    if auth == "hmac":
        stamp = int(time.time())
        return {
            "X-Appliance-Timestamp": str(stamp),
            "X-Appliance-Signature": appliance_signature(secrets["hmac_secret"], stamp, body),
        }
    return {}


def response_view(response: httpx.Response, max_bytes: int) -> dict[str, Any]:
    """The response as it goes into outputs and the outbox: status, content type, JSON
    when it parses (within `max_bytes`), else text cut to `max_bytes`."""
    content = response.content[: max_bytes + 1]
    view: dict[str, Any] = {
        "status": response.status_code,
        "content_type": response.headers.get("content-type", ""),
    }
    truncated = len(content) > max_bytes
    content = content[:max_bytes]
    if not truncated and "json" in view["content_type"]:
        try:
            view["json"] = json.loads(content)
            return view
        except ValueError:
            pass
    view["text"] = content.decode("utf-8", "replace")
    view["truncated"] = truncated
    return view


def build_request(
    client: httpx.Client,
    message_id: str,
    kind: str,
    payload: dict[str, Any],
    connector: Connector | None,
    timeout: float = 30.0,
) -> tuple[httpx.Request, list[str]]:
    """The request to send and the names of headers that carry secrets."""
    body = payload.get("body")
    content = body.encode() if isinstance(body, str) else None
    headers: dict[str, str] = dict(payload.get("headers") or {})
    secret_names: list[str] = []
    if kind == "webhook":
        secret = connector.secrets.get("secret") if connector else None
        headers.update(standard_headers(message_id, int(time.time()), content or b"", secret))
    else:
        headers["Idempotency-Key"] = message_id
        if connector is not None:
            added = auth_headers(connector.config, connector.secrets, content or b"")
            headers.update(added)
            secret_names = list(added)
    if content is not None:
        headers.setdefault("Content-Type", "application/json")
    request = client.build_request(
        str(payload.get("method") or "POST"),
        str(payload["url"]),
        headers=headers,
        content=content,
        timeout=timeout,
    )
    return request, secret_names


def call(
    client: httpx.Client,
    request: httpx.Request,
    secret_headers: list[str],
    max_response: int,
) -> tuple[Attempt, httpx.Response | None]:
    """Send one request; the attempt's outcome from its status (or transport error)."""
    try:
        response = send_following(client, request, secret_headers)
        response.read()
    except httpx.TimeoutException:
        return Attempt("retry", error="The receiver did not answer in time."), None
    except httpx.TransportError as error:
        return Attempt("retry", error=f"Could not connect: {type(error).__name__}."), None
    outcome = http_outcome(response.status_code)
    problem = None
    if outcome != "delivered":
        problem = f"The receiver answered {response.status_code} {response.reason_phrase}."
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    view = response_view(response, max_response)
    return Attempt(outcome, response.status_code, problem, retry_after, view), response


def send(
    client: httpx.Client,
    message_id: str,
    kind: str,
    payload: dict[str, Any],
    connector: Connector | None,
    *,
    max_response: int,
    timeout: float,
) -> Attempt:
    """Deliver a webhook or HTTP message (CRM messages go through crm_profiles first)."""
    try:
        request, secret_names = build_request(client, message_id, kind, payload, connector, timeout)
    except (KeyError, ValueError, httpx.InvalidURL) as error:
        return Attempt("dead", error=f"The stored request is not valid: {type(error).__name__}.")
    try:
        attempt, _ = call(client, request, secret_names, max_response)
    except ActError as error:
        return Attempt("dead", error=error.message, code=error.code)
    return attempt
