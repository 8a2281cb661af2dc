"""Testing a mailbox's settings before they are saved (owners), with the values as typed
in the form; editing a saved mailbox with the password left empty tests the saved one.
Nothing is stored: a failed test leaves no connector behind."""

from typing import Any

import msgspec

from agents.ingest.sources.connectors import (
    MAIL_KINDS,
    ConnectorConfigError,
    ConnectorStore,
    MailFields,
    mailbox_config,
)
from agents.ingest.sources.mail import test_connection
from app.services import Services
from app.ui_backend.errors import InvalidInput
from app.ui_backend.gate import SessionGate
from ui.backend import TestOutcome

_MAIL_FIELDS = frozenset(MailFields.__struct_fields__)


class ConnectorCheckMethods:
    """The MailboxCheckBackend part of ApplianceUiBackend."""

    _gate: SessionGate
    _services: Services

    def test_mailbox_settings(
        self,
        token: str | None,
        tenant_id: str,
        connector_id: str | None,
        fields: dict[str, Any],
        password: str | None,
    ) -> TestOutcome:
        """Log in with these settings and look, changing nothing anywhere."""
        access = self._gate.access(token, tenant_id, "owner")
        kind = str(fields.get("protocol", ""))
        if kind not in MAIL_KINDS:
            raise InvalidInput("choose IMAP or POP3")
        secret = password
        if not secret and connector_id:
            tenants = self._services.tenants
            store = ConnectorStore(
                tenants.database(access.tenant_id), tenants.data_key(access.tenant_id)
            )
            secret = store.secrets(connector_id).get("password")
        if not secret:
            return TestOutcome(False, "Enter the password of the mail account to test it.")
        values = {k: v for k, v in fields.items() if k in _MAIL_FIELDS}
        try:
            checked = msgspec.to_builtins(msgspec.convert(values, type=MailFields))
            config = mailbox_config(kind, checked, {"password": secret})
        except (msgspec.ValidationError, ConnectorConfigError) as error:
            return TestOutcome(False, f"These settings cannot work: {_plain(error)}")
        result = test_connection(config)
        return TestOutcome(result.ok, result.message)


def _plain(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error)
    return str(message).rstrip(".") + "."
