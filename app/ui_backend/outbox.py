"""The Outbox page's backend: the tenant's messages (viewer), redelivery (editor), and
the outbound connectors (smtp, webhook, http, crm; owner to change and test)."""

from typing import Any

from agents.act import outbox
from agents.act.connection_test import test_outbound
from agents.act.connector_kinds import OUTBOUND_KINDS
from agents.act.views import message_view
from agents.ingest.sources.connectors import ConnectorRecord, ConnectorStore
from app.auth.tenant_access import TenantAccess
from app.operations.connectors import audit_connector
from app.runtime import Runtime
from app.services import Services
from app.ui_backend.errors import InvalidInput
from app.ui_backend.gate import SessionGate
from ui.backend import OutboundView, OutboxRow, TestOutcome


class OutboxMethods:
    _gate: SessionGate
    _services: Services
    _runtime: Runtime

    def outbox(
        self, token: str | None, tenant_id: str, state: str | None
    ) -> tuple[list[OutboxRow], dict[str, int]]:
        access = self._gate.access(token, tenant_id, "viewer")
        db = self._services.tenants.database(access.tenant_id)
        messages, _ = outbox.list_messages(db, state or None, 200)
        disabled = outbox.disabled_endpoints(db)
        rows = []
        for message in messages:
            shown = message_view(message, disabled)
            rows.append(
                OutboxRow(
                    id=message.id,
                    kind=message.kind,
                    state=message.state,
                    summary=shown["summary"],
                    attempts=message.attempts,
                    last_error=message.last_error,
                    next_attempt_at=shown["next_attempt_at"],
                    endpoint_disabled=shown["endpoint_disabled"],
                    created_at=message.created_at,
                    delivered_at=message.delivered_at,
                )
            )
        return rows, outbox.counts(db)

    def redeliver(self, token: str | None, tenant_id: str, message_id: str) -> None:
        access = self._gate.access(token, tenant_id, "editor")
        self._runtime.dispatcher.redeliver(access.tenant_id, message_id)


def outbound_view(record: ConnectorRecord) -> OutboundView:
    return OutboundView(
        id=record.id,
        kind=record.kind,
        name=record.name,
        enabled=record.enabled,
        settings=dict(record.config),
        secrets_set={name: name in record.secrets_set for name in record.secret_names},
    )


class OutboundConnectorMethods:
    """Outbound connectors for the UI: viewer reads; owner creates, changes and tests (as
    the API). An empty secret field keeps the stored secret."""

    _gate: SessionGate
    _services: Services
    _runtime: Runtime

    def _outbound_store(
        self, token: str | None, tenant_id: str, needed: str
    ) -> tuple[ConnectorStore, TenantAccess]:
        access = self._gate.access(token, tenant_id, needed)
        return self._runtime.dispatcher.connectors(access.tenant_id), access

    def outbound_connectors(self, token: str | None, tenant_id: str) -> list[OutboundView]:
        store, _ = self._outbound_store(token, tenant_id, "viewer")
        return [outbound_view(r) for r in store.list() if r.kind in OUTBOUND_KINDS]

    def save_outbound(
        self,
        token: str | None,
        tenant_id: str,
        connector_id: str | None,
        kind: str,
        name: str,
        settings: dict[str, Any],
        secrets: dict[str, str],
    ) -> OutboundView:
        store, access = self._outbound_store(token, tenant_id, "owner")
        if kind not in OUTBOUND_KINDS:
            raise InvalidInput(f"choose one of {', '.join(OUTBOUND_KINDS)}")
        given = {k: v for k, v in secrets.items() if v}
        client = self._gate.client(token)
        if connector_id is None:
            record = store.create(kind, name, settings, given)
            action = "connector.create"
        else:
            record = store.update(connector_id, name=name, config=settings, secrets=given)
            action = "connector.update"
        audit_connector(
            self._services.system, action, access, record, client, secrets_changed=sorted(given)
        )
        return outbound_view(record)

    def test_outbound(self, token: str | None, tenant_id: str, connector_id: str) -> TestOutcome:
        store, access = self._outbound_store(token, tenant_id, "owner")
        record = store.get(connector_id)
        result = test_outbound(
            self._runtime.dispatcher.policy, record.kind, record.config, store.secrets(record.id)
        )
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
