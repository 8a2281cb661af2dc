"""The UI's window onto the services: implements ui.backend.UiBackend.

Every method re-checks the browser session and applies the same tenant and role rules
as the API (app.auth.tenant_access.resolve_access), and writes the same audit entries,
so the UI can never do more than the API would let the same user do.
"""

from app.runtime import Runtime
from app.services import Services
from app.ui_backend.account import AccountMethods
from app.ui_backend.admin import AdminMethods
from app.ui_backend.ask import AskMethods
from app.ui_backend.connector_check import ConnectorCheckMethods
from app.ui_backend.connectors import ConnectorMethods
from app.ui_backend.conversations import ConversationMethods
from app.ui_backend.document_tools import DocumentToolMethods
from app.ui_backend.documents import DocumentMethods
from app.ui_backend.gate import SessionGate
from app.ui_backend.monitoring import MonitoringMethods
from app.ui_backend.outbox import OutboundConnectorMethods, OutboxMethods
from app.ui_backend.reports import ReportMethods
from app.ui_backend.session import SessionMethods
from app.ui_backend.settings_view import SettingsMethods
from app.ui_backend.workflows import WorkflowMethods


class ApplianceUiBackend(
    SessionMethods,
    DocumentMethods,
    AskMethods,
    ConnectorMethods,
    OutboxMethods,
    OutboundConnectorMethods,
    AdminMethods,
    MonitoringMethods,
    WorkflowMethods,
    ReportMethods,
    AccountMethods,
    SettingsMethods,
    DocumentToolMethods,
    ConversationMethods,
    ConnectorCheckMethods,
):
    """Built once by the composition root; holds no per-request state."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._services: Services = runtime.services
        self._kit = runtime.auth
        self._system = runtime.services.system
        settings = runtime.settings
        idle = settings.security.session_idle_minutes
        self._gate = SessionGate(self._kit.sessions, self._system, idle)
        self._trusted = tuple(settings.server.trusted_proxies)

    def forget_session(self, token: str | None) -> None:
        """Drop what the backend remembers about a session (at sign-out)."""
        if token:
            self._gate.forget(token)


__all__ = ["ApplianceUiBackend"]
