"""Mailbox connectors through the tenant's ConnectorStore, with the API's roles and audit.

Reading needs membership; creating, changing, testing and deleting need the owner role
(as in app/api/connectors.py). Only `ConnectorView`s leave here: whether a password is
set, never the password.
"""

from typing import Any

from agents.ingest.sources.connectors import MAIL_KINDS, ConnectorRecord, ConnectorStore, MailFields
from agents.ingest.sources.mail import test_connection
from app.api.limits import NAME
from app.auth.tenant_access import TenantAccess
from app.operations.connectors import audit_connector
from app.services import Services
from app.ui_backend.errors import InvalidInput
from app.ui_backend.gate import SessionGate
from ui.backend import ConnectorView, TestOutcome

_MAIL_FIELDS = frozenset(MailFields.__struct_fields__)


def view(record: ConnectorRecord) -> ConnectorView:
    """What the browser may see of a mailbox connector."""
    config = record.config
    last = None
    if record.last_run_at:
        last = f"{record.last_status or 'ran'} at {record.last_run_at[:16].replace('T', ' ')}"
        if record.last_message:
            last += f": {record.last_message}"
    return ConnectorView(
        id=record.id,
        name=record.name,
        protocol=record.kind,
        host=str(config.get("host", "")),
        port=config.get("port"),
        security=str(config.get("security", "tls")),
        username=str(config.get("username", "")),
        folder=str(config.get("folder", "INBOX")),
        has_password="password" in record.secrets_set,
        enabled=record.enabled,
        settings={k: v for k, v in config.items() if k in _MAIL_FIELDS},
        last_result=last,
    )


class ConnectorMethods:
    _gate: SessionGate
    _services: Services

    def connectors_available(self) -> bool:
        return True

    def _store(
        self, token: str | None, tenant_id: str, needed: str
    ) -> tuple[ConnectorStore, TenantAccess]:
        access = self._gate.access(token, tenant_id, needed)
        tenants = self._services.tenants
        store = ConnectorStore(
            tenants.database(access.tenant_id), tenants.data_key(access.tenant_id)
        )
        return store, access

    def connectors(self, token: str | None, tenant_id: str) -> list[ConnectorView]:
        store, _ = self._store(token, tenant_id, "viewer")
        return [view(r) for r in store.list() if r.kind in MAIL_KINDS]

    def save_connector(
        self,
        token: str | None,
        tenant_id: str,
        connector_id: str | None,
        fields: dict[str, Any],
        password: str | None,
    ) -> ConnectorView:
        """Create (no id) or change a mailbox; an empty password keeps the stored one."""
        store, access = self._store(token, tenant_id, "owner")
        kind = str(fields.get("protocol", ""))
        if kind not in MAIL_KINDS:
            raise InvalidInput("choose IMAP or POP3")
        name = str(fields.get("name") or "")
        NAME.check("name", name)
        enabled = bool(fields.get("enabled", True))
        config = {k: v for k, v in fields.items() if k in _MAIL_FIELDS}
        secrets = {"password": password} if password else {}
        client = self._gate.client(token)
        if connector_id is None:
            record = store.create(kind, name, config, secrets, enabled=enabled)
            audit_connector(
                self._services.system,
                "connector.create",
                access,
                record,
                client,
                secrets_set=sorted(record.secrets_set),
            )
            return view(record)
        if store.get(connector_id).kind != kind:
            raise InvalidInput("a mailbox cannot change between IMAP and POP3; add a new one")
        record = store.update(
            connector_id, name=name, config=config, secrets=secrets, enabled=enabled
        )
        audit_connector(
            self._services.system,
            "connector.update",
            access,
            record,
            client,
            changed=["name", "config", "enabled"],
            secrets_changed=sorted(secrets),
        )
        return view(record)

    def delete_connector(self, token: str | None, tenant_id: str, connector_id: str) -> None:
        store, access = self._store(token, tenant_id, "owner")
        record = store.delete(connector_id)
        audit_connector(
            self._services.system, "connector.delete", access, record, self._gate.client(token)
        )

    def test_connector(self, token: str | None, tenant_id: str, connector_id: str) -> TestOutcome:
        """Log in and look, changing nothing; the message is for people."""
        store, access = self._store(token, tenant_id, "owner")
        record, config = store.mailbox(connector_id)
        result = test_connection(config)
        audit_connector(
            self._services.system,
            "connector.test",
            access,
            record,
            self._gate.client(token),
            ok=result.ok,
            code=result.code,
        )
        return TestOutcome(result.ok, result.message, None if result.ok else result.code)
