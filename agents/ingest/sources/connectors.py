"""Tenant connectors: IMAP/POP3 mailboxes and inbound hooks, stored in the tenant database.

A connector row holds its non-secret settings as JSON (`config`) and its secrets (the
mail password; a hook's HMAC secret and/or token) sealed with AES-256-GCM under
`derive_key(tenant_key, "connector-secrets")`, the connector id bound as associated
data, so a sealed blob copied onto another row does not open. Nothing here returns or
logs a secret except `secrets()`, which the mail poller and the hook checker call.

Updates follow one rule for secrets: a name left out (or given as "") keeps the stored
value, a new string replaces it, `None` removes it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlcipher3

from agents.ingest.errors import IngestError
from agents.ingest.sources.mail import MailboxConfig, MailConfigError
from storage.clock import now_iso
from storage.crypto import derive_key, unwrap, wrap
from storage.database import Database
from storage.errors import ConflictError, NotFoundError

KINDS = ("imap", "pop3", "hook")
MAIL_KINDS = ("imap", "pop3")
SECRET_NAMES: dict[str, tuple[str, ...]] = {
    "imap": ("password",),
    "pop3": ("password",),
    "hook": ("secret", "token"),
}
SECRET_PURPOSE = "connector-secrets"  # noqa: S105 - an HKDF label, not a secret
MIN_HOOK_SECRET = 16
_MAX_NAME = 100
_COLUMNS = (
    "id, kind, name, config, secret, enabled, created_at, updated_at, "
    "last_run_at, last_status, last_message"
)


class ConnectorConfigError(IngestError):
    """The settings given for a connector are not valid; the message says which."""

    status_code = 422
    code = "invalid_connector"
    default_message = "The connector settings are not valid."


class MailFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The non-secret settings of a mailbox, as JSON carries them (see MailboxConfig)."""

    host: str
    username: str
    port: int | None = None
    security: str = "tls"
    folder: str = "INBOX"
    search: list[str | int] = msgspec.field(default_factory=lambda: ["UNSEEN"])
    take: str = "attachments"
    after_success: str = "mark_seen"
    move_to: str | None = None
    delete_after_success: bool = False
    on_failure: str = "leave"
    batch_size: int = 100
    max_message_bytes: int = 100 * 1024 * 1024
    timeout: float = 30.0
    ca_file: str | None = None
    verify_tls: bool = True


class HookFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The non-secret settings of an inbound hook."""

    description: str = ""
    # a record field (dotted path for nested ones) whose value becomes the document title
    title_field: str | None = None


@dataclass(frozen=True)
class ConnectorRecord:
    """One connector without its secrets; `secrets_set` names the secrets it holds."""

    id: str
    kind: str
    name: str
    config: dict[str, Any]
    enabled: bool
    secrets_set: frozenset[str]
    created_at: str
    updated_at: str
    last_run_at: str | None
    last_status: str | None
    last_message: str | None

    @property
    def is_mail(self) -> bool:
        return self.kind in MAIL_KINDS


def public(record: ConnectorRecord) -> dict[str, Any]:
    """The JSON shape for API and UI: each secret only as {"set": bool}, never its value."""
    markers = {name: {"set": name in record.secrets_set} for name in SECRET_NAMES[record.kind]}
    return {
        "id": record.id,
        "kind": record.kind,
        "name": record.name,
        "enabled": record.enabled,
        "config": {**record.config, **markers},
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "last_run_at": record.last_run_at,
        "last_status": record.last_status,
        "last_message": record.last_message,
    }


def split_secrets(kind: str, config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config without secrets, secrets found in it): a password put into `config` by a
    client is treated as a secret, never stored in the clear."""
    names = SECRET_NAMES.get(kind, ())
    plain = {k: v for k, v in config.items() if k not in names}
    # {"set": true} markers echoed back from a GET mean "unchanged"
    found = {k: v for k, v in config.items() if k in names and not isinstance(v, dict)}
    return plain, found


def validate_config(
    kind: str, config: Mapping[str, Any], secrets: Mapping[str, str]
) -> dict[str, Any]:
    """The normalised non-secret config (defaults filled in), or ConnectorConfigError."""
    if kind not in KINDS:
        raise ConnectorConfigError(f"kind must be one of {', '.join(KINDS)}.")
    if kind in MAIL_KINDS:
        fields = _convert(MailFields, config)
        mailbox_config(kind, msgspec.to_builtins(fields), secrets)
        return dict(msgspec.to_builtins(fields))
    hook = _convert(HookFields, config)
    if not any(secrets.get(name) for name in SECRET_NAMES["hook"]):
        raise ConnectorConfigError("A hook needs a 'secret' (for HMAC signatures) or a 'token'.")
    for name in SECRET_NAMES["hook"]:
        if secrets.get(name) and len(secrets[name]) < MIN_HOOK_SECRET:
            raise ConnectorConfigError(
                f"The hook {name} must be at least {MIN_HOOK_SECRET} characters long."
            )
    return dict(msgspec.to_builtins(hook))


def mailbox_config(
    kind: str, config: Mapping[str, Any], secrets: Mapping[str, str]
) -> MailboxConfig:
    """The mail package's MailboxConfig for a stored mail connector."""
    password = secrets.get("password") or ""
    if not password:
        raise ConnectorConfigError("A mailbox connector needs a 'password'.")
    values = dict(config)
    values["search"] = tuple(values.get("search") or ())
    try:
        return MailboxConfig(protocol=kind, password=password, **values)  # type: ignore[arg-type]
    except MailConfigError as error:
        raise ConnectorConfigError(error.message) from error
    except TypeError as error:  # a config stored by an older version with other fields
        raise ConnectorConfigError(f"The mailbox settings are incomplete: {error}") from error


def _convert(kind: type[msgspec.Struct], config: Mapping[str, Any]) -> Any:
    try:
        return msgspec.convert(dict(config), type=kind)
    except msgspec.ValidationError as error:
        raise ConnectorConfigError(f"Invalid connector settings: {error}") from error


def _clean_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned or len(cleaned) > _MAX_NAME or any(ord(c) < 32 for c in cleaned):
        raise ConnectorConfigError(f"The name must be 1-{_MAX_NAME} printable characters.")
    return cleaned


class ConnectorStore:
    """Connectors of one tenant: `db` is its database, `tenant_key` its data key."""

    def __init__(self, db: Database, tenant_key: bytes) -> None:
        self.db = db
        self._key = derive_key(tenant_key, SECRET_PURPOSE)

    # -- reading --

    def list(self, kind: str | None = None) -> list[ConnectorRecord]:
        where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM connectors {where} ORDER BY name", params
            ).fetchall()
        return [self._record(row) for row in rows]

    def get(self, connector_id: str) -> ConnectorRecord:
        return self._record(self._row(connector_id))

    def secrets(self, connector_id: str) -> dict[str, str]:
        """The connector's secrets in the clear, for the code that uses them."""
        return self._open(connector_id, self._row(connector_id)[4])

    def mailbox(self, connector_id: str) -> tuple[ConnectorRecord, MailboxConfig]:
        """A mail connector and the MailboxConfig to poll it with."""
        record = self.get(connector_id)
        if not record.is_mail:
            raise ConnectorConfigError(f"Connector {record.name!r} is not a mailbox.")
        return record, mailbox_config(record.kind, record.config, self.secrets(connector_id))

    # -- writing --

    def create(
        self,
        kind: str,
        name: str,
        config: Mapping[str, Any],
        secrets: Mapping[str, str | None] | None = None,
        *,
        enabled: bool = True,
    ) -> ConnectorRecord:
        """A new connector; its config is validated and its secrets sealed."""
        if kind not in KINDS:
            raise ConnectorConfigError(f"kind must be one of {', '.join(KINDS)}.")
        plain, inline = split_secrets(kind, config)
        merged = _merge_secrets(kind, {}, {**inline, **(secrets or {})})
        normalised = validate_config(kind, plain, merged)
        connector_id = uuid.uuid4().hex
        now = now_iso()
        try:
            with self.db.write() as conn:
                conn.execute(
                    f"INSERT INTO connectors ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        connector_id,
                        kind,
                        _clean_name(name),
                        json.dumps(normalised),
                        self._seal(connector_id, merged),
                        int(enabled),
                        now,
                        now,
                        None,
                        None,
                        None,
                    ),
                )
        except sqlcipher3.IntegrityError as error:
            raise ConflictError(f"a connector named {name!r} already exists") from error
        return self.get(connector_id)

    def update(
        self,
        connector_id: str,
        *,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str | None] | None = None,
        enabled: bool | None = None,
    ) -> ConnectorRecord:
        """Change what is given; `config` replaces the stored settings as a whole."""
        row = self._row(connector_id)
        current = self._record(row)
        plain, inline = split_secrets(current.kind, config if config is not None else {})
        merged = _merge_secrets(
            current.kind, self._open(connector_id, row[4]), {**inline, **(secrets or {})}
        )
        normalised = validate_config(
            current.kind, plain if config is not None else current.config, merged
        )
        try:
            with self.db.write() as conn:
                conn.execute(
                    "UPDATE connectors SET name = ?, config = ?, secret = ?, enabled = ?, "
                    "updated_at = ? WHERE id = ?",
                    (
                        _clean_name(name) if name is not None else current.name,
                        json.dumps(normalised),
                        self._seal(connector_id, merged),
                        int(current.enabled if enabled is None else enabled),
                        now_iso(),
                        connector_id,
                    ),
                )
        except sqlcipher3.IntegrityError as error:
            raise ConflictError(f"a connector named {name!r} already exists") from error
        return self.get(connector_id)

    def delete(self, connector_id: str) -> ConnectorRecord:
        """Remove a connector and (by cascade) its mail progress and hook deliveries."""
        record = self.get(connector_id)
        with self.db.write() as conn:
            conn.execute("DELETE FROM connectors WHERE id = ?", (connector_id,))
        return record

    def record_run(self, connector_id: str, status: str, message: str) -> None:
        """Remember the outcome of the latest poll or delivery (shown in the UI)."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE connectors SET last_run_at = ?, last_status = ?, last_message = ? "
                "WHERE id = ?",
                (now_iso(), status, message[:1000], connector_id),
            )

    # -- internals --

    def _row(self, connector_id: str) -> Any:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM connectors WHERE id = ?", (connector_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no connector {connector_id!r}")
        return row

    def _record(self, row: Any) -> ConnectorRecord:
        secrets = self._open(row[0], row[4])
        return ConnectorRecord(
            id=row[0],
            kind=row[1],
            name=row[2],
            config=json.loads(row[3] or "{}"),
            enabled=bool(row[5]),
            secrets_set=frozenset(k for k, v in secrets.items() if v),
            created_at=row[6],
            updated_at=row[7],
            last_run_at=row[8],
            last_status=row[9],
            last_message=row[10],
        )

    def _seal(self, connector_id: str, secrets: Mapping[str, str]) -> bytes | None:
        if not secrets:
            return None
        return wrap(self._key, json.dumps(dict(secrets)).encode(), connector_id)

    def _open(self, connector_id: str, sealed: bytes | None) -> dict[str, str]:
        if not sealed:
            return {}
        opened = json.loads(unwrap(self._key, bytes(sealed), connector_id))
        return {str(k): str(v) for k, v in opened.items()}


def due_mail_connectors(db: Database, not_run_since: str) -> list[str]:
    """Ids of enabled mail connectors never run, or last run before `not_run_since` (ISO)."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT id FROM connectors WHERE enabled = 1 AND kind IN ('imap', 'pop3') "
            "AND (last_run_at IS NULL OR last_run_at < ?) ORDER BY last_run_at",
            (not_run_since,),
        ).fetchall()
    return [str(row[0]) for row in rows]


def _merge_secrets(
    kind: str, stored: Mapping[str, str], given: Mapping[str, Any]
) -> dict[str, str]:
    """Apply an update's secrets to the stored ones: omitted or "" keeps, None removes."""
    names = SECRET_NAMES.get(kind, ())
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ConnectorConfigError(
            f"Unknown secret {unknown[0]!r}; a {kind} connector takes: {', '.join(names)}."
        )
    merged = dict(stored)
    for name, value in given.items():
        if value is None:
            merged.pop(name, None)
        elif not isinstance(value, str):
            raise ConnectorConfigError(f"The secret {name!r} must be a string.")
        elif value:
            merged[name] = value
    return merged
