"""The UI's window onto the services: implements ui.backend.UiBackend.

Every method re-checks the browser session and applies the same tenant and role rules
as the API (app.auth.tenant_access.resolve_access), and writes the same audit entries,
so the UI can never do more than the API would let the same user do.
"""

from app.auth.kit import AuthKit
from app.services import Services
from app.ui_backend.admin import AdminMethods
from app.ui_backend.ask import AskMethods
from app.ui_backend.connectors import ConnectorMethods
from app.ui_backend.documents import DocumentMethods
from app.ui_backend.gate import SessionGate
from app.ui_backend.reports import ReportMethods
from app.ui_backend.session import SessionMethods
from storage.system_store import SystemStore
from ui.backend import Unavailable


class ApplianceUiBackend(
    SessionMethods, DocumentMethods, AskMethods, ConnectorMethods, ReportMethods, AdminMethods
):
    """Built once by the composition root; holds no per-request state."""

    def __init__(self, kit: AuthKit, system: SystemStore, services: Services | None = None) -> None:
        self._kit = kit
        self._system = system
        self._maybe_services = services
        idle = services.settings.security.session_idle_minutes if services else 30
        self._gate = SessionGate(kit.sessions, system, idle)
        self._trusted = tuple(services.settings.server.trusted_proxies) if services else ()

    @property
    def _services(self) -> Services:  # type: ignore[override]
        if self._maybe_services is None:
            raise Unavailable("the appliance services are not wired into the UI")
        return self._maybe_services

    def forget_session(self, token: str | None) -> None:
        """Drop what the backend remembers about a session (at sign-out)."""
        if token:
            self._gate.forget(token)


__all__ = ["ApplianceUiBackend"]
