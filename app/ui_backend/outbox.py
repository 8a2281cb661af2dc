"""The Outbox page's backend: the tenant's messages (viewer) and redelivery (editor)."""

from agents.act import outbox
from agents.act.views import message_view
from app.runtime import Runtime
from app.services import Services
from app.ui_backend.gate import SessionGate
from ui.backend import OutboxRow


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
