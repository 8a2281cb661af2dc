"""Senders: the outbound connectors (SMTP mail, webhooks, HTTP APIs, CRMs) of the tenant.

Owners add, edit and test them. Secrets are write-only: the page shows only whether one
is set, the secret fields start empty ("leave empty to keep") and are never filled from
the server. Settings are edited as JSON (the fields each kind takes are listed in the
dialog); the test button reaches the server without sending anything.
"""

import json
from typing import Any

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import OutboundView, TenantChoice, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call, show_error
from ui.components.layout import NavItem, add_nav_item, frame
from ui.components.widgets import empty_state, no_workspace

KINDS = {"smtp": "E-mail (SMTP)", "webhook": "Webhook", "http": "HTTP API", "crm": "CRM"}
SECRETS = {
    "smtp": ("password",),
    "webhook": ("secret",),
    "http": ("token", "password", "api_key", "hmac_secret"),
    "crm": ("token", "password", "api_key", "hmac_secret"),
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "smtp": {
        "host": "mail.example.org",
        "port": 587,
        "security": "starttls",
        "username": "appliance",
        "from_address": "appliance@example.org",
        "to": [],
        "subject_template": "Report for {{ data.customer }}",
        "text_template": "Hello,\nthe report is attached.",
        "html_template": "",
    },
    "webhook": {"url": "https://erp.example.org/hooks/appliance", "headers": {}},
    "http": {"base_url": "https://api.example.org/v1/", "method": "POST", "auth": "bearer"},
    "crm": {"profile": "hubspot", "base_url": "https://api.hubapi.com", "auth": "bearer"},
}


def register(backend: UiBackend) -> None:
    """Define /senders and its drawer entry."""
    add_nav_item(NavItem("Senders", "send", "/senders", lambda ctx: ctx.tenant is not None))

    @ui.page("/senders", title="Senders · Agent Appliance")
    def senders_page(request: Request, tenant: str = "") -> RedirectResponse | None:
        ctx = open_page(backend, request, tenant or None)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Senders", "/senders"):
            if ctx.tenant is None:
                no_workspace()
            else:
                SendersView(ctx, backend, ctx.tenant)
        return None


class SendersView:
    def __init__(self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        self.root = ui.context.client.content
        with ui.row().classes("w-full items-center justify-between"):
            ui.label("Senders").classes("text-h5")
            if tenant.can_manage:
                ui.button("Add sender", icon="add", on_click=lambda: self._edit(None)).props(
                    "data-testid=add-sender"
                )
        ui.label(
            "Where workflows send mail, webhooks and API calls. Everything they send goes "
            "through the Outbox."
        ).classes("opacity-70")
        self.list = ui.column().classes("w-full gap-3")
        try:
            self._show(backend.outbound_connectors(ctx.token, tenant.id))
        except Exception as exc:  # noqa: BLE001 - shown; the page still renders
            show_error(exc, "Loading senders")

    async def reload(self) -> None:
        found = await call(
            "Loading senders", self.backend.outbound_connectors, self.ctx.token, self.tenant.id
        )
        if not isinstance(found, Failed):
            self._show(found)

    def _show(self, items: list[OutboundView]) -> None:
        self.list.clear()
        with self.list:
            if not items:
                empty_state("send", "No senders yet", "Add an SMTP server, webhook, API or CRM.")
            for item in items:
                with ui.card().classes("w-full").props(f"data-testid=sender-{item.name}"):
                    with ui.row().classes("w-full items-center justify-between"):
                        ui.label(f"{item.name} · {KINDS.get(item.kind, item.kind)}").classes(
                            "font-medium"
                        )
                        if self.tenant.can_manage:
                            with ui.row().classes("gap-1"):
                                ui.button("Test", on_click=lambda i=item: self._test(i)).props(
                                    "flat dense"
                                )
                                ui.button("Edit", on_click=lambda i=item: self._edit(i)).props(
                                    "flat dense"
                                )
                    target = item.settings.get("url") or item.settings.get("base_url")
                    target = target or item.settings.get("host", "")
                    secrets = ", ".join(
                        f"{n} {'set' if s else 'not set'}" for n, s in item.secrets_set.items()
                    )
                    ui.label(f"{target} · {secrets}").classes("text-sm opacity-70")

    async def _test(self, item: OutboundView) -> None:
        outcome = await call(
            "Testing", self.backend.test_outbound, self.ctx.token, self.tenant.id, item.id
        )
        if not isinstance(outcome, Failed):
            ui.notify(outcome.message, type="positive" if outcome.ok else "negative")

    def _edit(self, item: OutboundView | None) -> None:
        with self.root:
            SenderForm(self, item).dialog.open()


class SenderForm:
    """The create/edit dialog; secret fields are never filled from the server."""

    def __init__(self, page: SendersView, existing: OutboundView | None) -> None:
        self.page, self.existing = page, existing
        kind = existing.kind if existing else "webhook"
        with ui.dialog() as self.dialog, ui.card().classes("w-[36rem] max-w-full gap-2"):
            ui.label("Edit sender" if existing else "Add sender").classes("text-h6")
            self.name = ui.input("Name", value=existing.name if existing else "")
            self.kind = ui.toggle(KINDS, value=kind, on_change=lambda e: self._kind_changed())
            if existing:
                self.kind.disable()
            settings = dict(existing.settings) if existing else EXAMPLES[kind]
            self.settings = ui.textarea("Settings (JSON)", value=json.dumps(settings, indent=2))
            self.settings.classes("w-full font-mono").props("rows=10")
            self.secret_box = ui.column().classes("w-full gap-1")
            self.secrets: dict[str, Any] = {}
            self._secret_fields(kind)
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=self.dialog.close).props("flat")
                ui.button("Save", on_click=self._save).props("data-testid=sender-save")

    def _kind_changed(self) -> None:
        kind = str(self.kind.value)
        self.settings.set_value(json.dumps(EXAMPLES[kind], indent=2))
        self._secret_fields(kind)

    def _secret_fields(self, kind: str) -> None:
        self.secret_box.clear()
        self.secrets = {}
        with self.secret_box:
            for name in SECRETS[kind]:
                is_set = bool(self.existing and self.existing.secrets_set.get(name))
                hint = "set; leave empty to keep" if is_set else "not set"
                self.secrets[name] = ui.input(
                    f"{name} ({hint})", password=True, password_toggle_button=True
                ).classes("w-full")

    async def _save(self) -> None:
        try:
            settings = json.loads(self.settings.value or "{}")
        except ValueError as exc:
            ui.notify(f"The settings are not valid JSON: {exc}", type="negative")
            return
        secrets = {name: str(field.value or "") for name, field in self.secrets.items()}
        saved = await call(
            "Saving the sender",
            self.page.backend.save_outbound,
            self.page.ctx.token,
            self.page.tenant.id,
            self.existing.id if self.existing else None,
            str(self.kind.value),
            str(self.name.value or ""),
            settings,
            secrets,
        )
        for field in self.secrets.values():
            field.set_value("")  # a typed secret does not stay in the page
        if not isinstance(saved, Failed):
            self.dialog.close()
            await self.page.reload()
