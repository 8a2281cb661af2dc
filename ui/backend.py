"""What the pages need from the rest of the appliance, as Protocols and plain records.

`ui` must not import `app` (the dependency runs app -> ui), so the composition root
implements these Protocols (app/ui_backend.py) on top of the same services the API uses.
Every call that touches data takes the browser session's cookie value (`token`): the
backend re-validates the session, the membership and the role on each call, so hiding a
button is only cosmetics and the server refuses anyway.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from storage.errors import ApplianceError
from ui.backend_account import AccountBackend, SettingsBackend
from ui.backend_tools import ConversationBackend, DocumentToolsBackend, MailboxCheckBackend

Row = dict[str, Any]


class SessionExpired(Exception):
    """The browser session ended (idle or absolute timeout, sign-out elsewhere)."""


class Unavailable(ApplianceError):
    """A service the page needs is not running (model not loaded, store not wired)."""

    status_code = 503
    code = "unavailable"


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    username: str
    is_admin: bool = False


@dataclass(frozen=True)
class TenantChoice:
    """A tenant the user belongs to, with what their role lets the UI offer."""

    id: str
    slug: str
    name: str
    role: str
    can_edit: bool  # upload, delete documents (editor and up)
    can_manage: bool  # members, connectors, audit (owner)


@dataclass(frozen=True)
class ModelStatus:
    kind: str  # "language model" | "embeddings"
    name: str
    loaded: bool
    memory_bytes: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Dashboard:
    counts: dict[str, int]
    queue: dict[str, Any]
    recent: list[Row]
    failures: list[Row]
    models: list[ModelStatus] = field(default_factory=list)


@dataclass(frozen=True)
class MonitoringSample:
    """Live figures at one moment. `counters` only grow (the page plots their rate);
    `gauges` are plotted as they are; latency is sum / count between two samples."""

    at: float
    counters: dict[str, float]
    gauges: dict[str, float]
    latency_sums: dict[str, float] = field(default_factory=dict)
    latency_counts: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectorView:
    """A mailbox connector as the browser may see it: never the password itself."""

    id: str
    name: str
    protocol: str
    host: str
    port: int | None
    security: str
    username: str
    folder: str
    has_password: bool
    enabled: bool = True
    settings: Mapping[str, Any] = field(default_factory=dict)
    last_result: str | None = None


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest class when imported into tests

    ok: bool
    message: str  # plain words for people
    code: str | None = None  # the machine code, shown only in small print


@dataclass(frozen=True)
class OutboxRow:
    """One outbox message as the Outbox page shows it: no body, no secret."""

    id: str
    kind: str
    state: str
    summary: str
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    endpoint_disabled: str | None
    created_at: str
    delivered_at: str | None


@dataclass(frozen=True)
class OutboundView:
    """An outbound connector (smtp, webhook, http, crm) as the browser may see it: its
    settings, and only whether each secret is set."""

    id: str
    kind: str
    name: str
    enabled: bool
    settings: Mapping[str, Any]
    secrets_set: Mapping[str, bool]


class OutboxBackend(Protocol):
    def outbound_connectors(self, token: str | None, tenant_id: str) -> list[OutboundView]: ...

    def save_outbound(
        self,
        token: str | None,
        tenant_id: str,
        connector_id: str | None,
        kind: str,
        name: str,
        settings: dict[str, Any],
        secrets: dict[str, str],
    ) -> OutboundView: ...

    def test_outbound(
        self, token: str | None, tenant_id: str, connector_id: str
    ) -> TestOutcome: ...

    def outbox(
        self, token: str | None, tenant_id: str, state: str | None
    ) -> tuple[list[OutboxRow], dict[str, int]]: ...

    def redeliver(self, token: str | None, tenant_id: str, message_id: str) -> None: ...


class AuthBackend(Protocol):
    """Sign-in and sessions; the cookie itself is set by an HTTP route, not the websocket."""

    cookie_name: str

    def client_address(self, scope: Mapping[str, Any]) -> str: ...

    def sign_in(self, username: str, password: str, client: str) -> str: ...

    def user_for_session(self, token: str | None, client: str | None = None) -> SignedIn | None: ...

    def session_alive(self, token: str | None) -> bool: ...

    def tenants(self, token: str | None) -> list[TenantChoice]: ...


class DocumentsBackend(Protocol):
    """Dashboard figures and documents of one tenant."""

    def dashboard(self, token: str | None, tenant_id: str) -> Dashboard: ...

    def documents(
        self,
        token: str | None,
        tenant_id: str,
        *,
        state: str | None = None,
        q: str | None = None,
        semantic: bool = False,
        limit: int = 200,
        tag: str | None = None,
    ) -> list[Row]: ...

    def semantic_search_available(self) -> bool: ...

    def document(self, token: str | None, tenant_id: str, document_id: str) -> Row: ...

    def document_pages(
        self, token: str | None, tenant_id: str, document_id: str
    ) -> list[tuple[int, str]]: ...

    def upload(self, token: str | None, tenant_id: str, filename: str, content: bytes) -> Row: ...

    def delete_document(self, token: str | None, tenant_id: str, document_id: str) -> None: ...

    def max_upload_bytes(self) -> int: ...

    def original(
        self, token: str | None, tenant_id: str, document_id: str
    ) -> tuple[str, bytes]: ...

    def models(self) -> list[ModelStatus]: ...


class AskBackend(Protocol):
    def answerer_available(self) -> bool: ...

    def inference_problems(self) -> list[str]:
        """One plain sentence per inference server that cannot be reached (empty: all
        answer, or every model is local)."""
        ...

    def ask_stream(
        self,
        token: str | None,
        tenant_id: str,
        question: str,
        document_ids: list[str] | None = None,
    ) -> Iterator[dict[str, Any]]: ...


class ConnectorsBackend(Protocol):
    """Mailbox connectors; secrets go in, never out."""

    def connectors_available(self) -> bool: ...

    def connectors(self, token: str | None, tenant_id: str) -> list[ConnectorView]: ...

    def save_connector(
        self,
        token: str | None,
        tenant_id: str,
        connector_id: str | None,
        fields: dict[str, Any],
        password: str | None,
    ) -> ConnectorView: ...

    def delete_connector(self, token: str | None, tenant_id: str, connector_id: str) -> None: ...

    def test_connector(
        self, token: str | None, tenant_id: str, connector_id: str
    ) -> TestOutcome: ...


class ReportsBackend(Protocol):
    """Reports of one tenant: templates, generate, list, preview, download, delete."""

    def reports_available(self) -> bool: ...

    def report_templates(self, token: str | None, tenant_id: str) -> list[Row]: ...

    def reports(self, token: str | None, tenant_id: str, limit: int = 100) -> list[Row]: ...

    def request_report(
        self,
        token: str | None,
        tenant_id: str,
        template_id: str,
        fmt: str,
        params: dict[str, Any],
        data: Any = None,
    ) -> Row: ...

    def report_file(
        self, token: str | None, tenant_id: str, report_id: str
    ) -> tuple[str, str, bytes]: ...  # (file name, media type, content)

    def report_preview(
        self, token: str | None, tenant_id: str, report_id: str, pages: int = 2
    ) -> list[bytes]: ...  # PNG images of the first pages

    def delete_report(self, token: str | None, tenant_id: str, report_id: str) -> None: ...


class AdminBackend(Protocol):
    """Tenants, users, memberships, API keys and the audit log."""

    def all_tenants(self, token: str | None) -> list[Row]: ...

    def create_tenant(self, token: str | None, name: str, display_name: str, owner: str) -> Row: ...

    def delete_tenant(self, token: str | None, tenant_id: str) -> None: ...

    def users(self, token: str | None) -> list[Row]: ...

    def create_user(self, token: str | None, username: str, password: str, admin: bool) -> Row: ...

    def members(self, token: str | None, tenant_id: str) -> list[Row]: ...

    def set_member(self, token: str | None, tenant_id: str, username: str, role: str) -> None: ...

    def remove_member(self, token: str | None, tenant_id: str, username: str) -> None: ...

    def api_keys(self, token: str | None, tenant_id: str) -> list[Row]: ...

    def create_api_key(
        self, token: str | None, tenant_id: str, name: str, role: str, expires: str | None
    ) -> tuple[str, Row]: ...

    def revoke_api_key(self, token: str | None, tenant_id: str, key_id: str) -> None: ...

    def audit(self, token: str | None, tenant_id: str | None, limit: int = 200) -> list[Row]: ...


class MonitoringBackend(Protocol):
    """Live figures and logs: a tenant's own, or with `tenant_id=None` the whole
    appliance (appliance admins only)."""

    def monitoring_available(self) -> bool: ...

    def monitoring_sample(self, token: str | None, tenant_id: str | None) -> MonitoringSample: ...

    def logs(
        self, token: str | None, tenant_id: str | None, filters: dict[str, str]
    ) -> tuple[list[Row], int | None]: ...


class WorkflowsBackend(Protocol):
    """Workflows and their runs: viewers read; editors save, enable, run, retry, cancel."""

    def workflows_available(self) -> bool: ...

    def workflows(self, token: str | None, tenant_id: str) -> list[Row]: ...

    def workflow(self, token: str | None, tenant_id: str, workflow_id: str) -> Row: ...

    def check_workflow(self, token: str | None, tenant_id: str, source: str) -> Row:
        """{"problems": [{step, line, field, message}], "definition": data | None}."""
        ...

    def save_workflow(
        self, token: str | None, tenant_id: str, workflow_id: str | None, source: str
    ) -> Row: ...

    def set_workflow_enabled(
        self, token: str | None, tenant_id: str, workflow_id: str, enabled: bool
    ) -> Row: ...

    def run_workflow(
        self, token: str | None, tenant_id: str, workflow_id: str, inputs: dict[str, Any]
    ) -> str: ...

    def runs(
        self, token: str | None, tenant_id: str, workflow: str | None = None, limit: int = 100
    ) -> list[Row]: ...

    def run(self, token: str | None, tenant_id: str, run_id: str) -> Row: ...

    def retry_run(self, token: str | None, tenant_id: str, run_id: str, start_from: str) -> Row: ...

    def cancel_run(self, token: str | None, tenant_id: str, run_id: str) -> Row: ...


class SessionForgetting(Protocol):
    def forget_session(self, token: str | None) -> None: ...


class UiBackend(
    AuthBackend,
    DocumentsBackend,
    AskBackend,
    ConnectorsBackend,
    OutboxBackend,
    ReportsBackend,
    AdminBackend,
    MonitoringBackend,
    WorkflowsBackend,
    DocumentToolsBackend,
    ConversationBackend,
    MailboxCheckBackend,
    SessionForgetting,
    AccountBackend,
    SettingsBackend,
    Protocol,
):
    """Everything the pages use; implemented by app.ui_backend.ApplianceUiBackend."""
