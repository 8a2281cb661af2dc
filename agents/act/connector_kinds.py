"""The outbound connector kinds: smtp, webhook, http, crm. Settings and secret names.

They are stored by the ingest ConnectorStore like mailboxes (secrets sealed under a
subkey of the tenant key); the composition root hands `OUTBOUND_KINDS` to the store.
Secrets: smtp `password`; webhook `secret` (a `whsec_` Standard Webhooks secret);
http and crm `token` (bearer), `password` (basic), `api_key` (header key or Odoo's key),
`hmac_secret` (HMAC-signed requests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

from agents.ingest.sources.connectors import ConnectorConfigError, ConnectorKind

HTTP_SECRETS = ("token", "password", "api_key", "hmac_secret")
AUTH_SECRET = {"bearer": "token", "basic": "password", "header": "api_key", "hmac": "hmac_secret"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class SmtpFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str
    port: int | None = None
    security: str = "starttls"  # starttls | tls | none
    username: str = ""
    from_address: str
    to: list[str] = msgspec.field(default_factory=list)
    cc: list[str] = msgspec.field(default_factory=list)
    subject_template: str = ""
    text_template: str = ""
    html_template: str = ""
    timeout: float = 30.0
    verify_tls: bool = True
    ca_file: str | None = None


class WebhookFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: str
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    description: str = ""


class HttpFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    base_url: str
    method: str = "POST"
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    auth: str = "none"  # none | bearer | basic | header | hmac
    username: str = ""  # basic auth
    auth_header: str = "X-API-Key"  # header-key auth
    body_template: str = ""  # JSON (Jinja2, sandboxed) rendered over the step's data
    timeout: float = 30.0


class CrmFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    profile: str  # hubspot | odoo
    base_url: str
    auth: str = "bearer"
    username: str = ""
    auth_header: str = "X-API-Key"
    database: str = ""  # odoo
    uid: int = 0  # odoo user id
    timeout: float = 30.0


def check_url(url: str, what: str = "url") -> None:
    """An absolute http(s) URL without credentials in it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectorConfigError(f"The {what} must be an absolute http:// or https:// URL.")
    if parts.username or parts.password:
        raise ConnectorConfigError(f"Put credentials in the secrets, not in the {what}.")


def _convert(kind: type[msgspec.Struct], config: Mapping[str, Any]) -> Any:
    try:
        return msgspec.convert(dict(config), type=kind)
    except msgspec.ValidationError as error:
        raise ConnectorConfigError(f"Invalid connector settings: {error}") from error


def _check_auth(auth: str, secrets: Mapping[str, str], username: str) -> None:
    if auth == "none":
        return
    if auth not in AUTH_SECRET:
        raise ConnectorConfigError(f"auth must be none or one of {', '.join(AUTH_SECRET)}.")
    if not secrets.get(AUTH_SECRET[auth]):
        raise ConnectorConfigError(f"{auth} auth needs the secret {AUTH_SECRET[auth]!r}.")
    if auth == "basic" and not username:
        raise ConnectorConfigError("basic auth needs a 'username'.")


def validate_smtp(config: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    fields = _convert(SmtpFields, config)
    if fields.security not in ("starttls", "tls", "none"):
        raise ConnectorConfigError("security must be starttls, tls or none.")
    if "@" not in fields.from_address:
        raise ConnectorConfigError("from_address must be an e-mail address.")
    if fields.username and not secrets.get("password"):
        raise ConnectorConfigError("An SMTP login needs a 'password'.")
    return dict(msgspec.to_builtins(fields))


def validate_webhook(config: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    fields = _convert(WebhookFields, config)
    check_url(fields.url)
    secret = secrets.get("secret", "")
    if secret and len(secret) < 16:
        raise ConnectorConfigError("The webhook secret must be at least 16 characters long.")
    return dict(msgspec.to_builtins(fields))


def validate_http(config: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    fields = _convert(HttpFields, config)
    check_url(fields.base_url, "base_url")
    if fields.method.upper() not in METHODS:
        raise ConnectorConfigError(f"method must be one of {', '.join(METHODS)}.")
    fields.method = fields.method.upper()
    _check_auth(fields.auth, secrets, fields.username)
    return dict(msgspec.to_builtins(fields))


def validate_crm(config: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    fields = _convert(CrmFields, config)
    check_url(fields.base_url, "base_url")
    if fields.profile == "odoo":
        if not fields.database or fields.uid <= 0 or not secrets.get("api_key"):
            raise ConnectorConfigError(
                "An Odoo connector needs 'database', 'uid' and the secret 'api_key'."
            )
    elif fields.profile == "hubspot":
        _check_auth(fields.auth, secrets, fields.username)
    else:
        raise ConnectorConfigError("profile must be hubspot or odoo.")
    return dict(msgspec.to_builtins(fields))


OUTBOUND_KINDS: dict[str, ConnectorKind] = {
    "smtp": ConnectorKind(("password",), validate_smtp),
    "webhook": ConnectorKind(("secret",), validate_webhook),
    "http": ConnectorKind(HTTP_SECRETS, validate_http),
    "crm": ConnectorKind(HTTP_SECRETS, validate_crm),
}
