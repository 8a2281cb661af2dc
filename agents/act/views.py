"""How outbox messages are shown to users (API and UI): no bodies, no secrets.

The payload never holds connector secrets; the view still leaves out bodies (they may be
large and hold document text) and URL query strings (some services put tokens there).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from agents.act.outbox import OutboxMessage


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def summary(message: OutboxMessage) -> str:
    """One line saying what the message is."""
    payload = message.payload
    if message.kind == "email":
        attachments = len(payload.get("attachments") or [])
        extra = f", {attachments} attachment(s)" if attachments else ""
        return f"Mail to {', '.join(payload.get('to', []))}: {payload.get('subject', '')}{extra}"
    if message.kind == "crm":
        return f"{payload.get('profile', 'CRM')} {payload.get('operation', '')}"
    return f"{payload.get('method', 'POST')} {_without_query(str(payload.get('url', '')))}"


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds")


def message_view(message: OutboxMessage, disabled: dict[str, str]) -> dict[str, Any]:
    """The JSON shape of one message; `disabled` maps disabled endpoints to their reason."""
    return {
        "id": message.id,
        "kind": message.kind,
        "state": message.state,
        "summary": summary(message),
        "connector_id": message.connector_id,
        "attempts": message.attempts,
        "next_attempt_at": _iso(message.next_attempt_at) if message.state == "pending" else None,
        "last_status": message.last_status,
        "last_error": message.last_error,
        "last_code": message.last_code,
        "endpoint_disabled": disabled.get(message.endpoint),
        "response": message.response,
        "run_id": message.run_id,
        "step_id": message.step_id,
        "created_at": message.created_at,
        "delivered_at": message.delivered_at,
    }
