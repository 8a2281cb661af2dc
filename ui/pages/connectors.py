"""Mailboxes: IMAP and POP3 connectors of the tenant; owners create, edit, test, delete.

The password is write-only: the browser gets only whether one is set, the edit form
starts empty ("leave empty to keep"), and the field is cleared as soon as it was saved.
"""

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import ConnectorView, TenantChoice, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call, show_error
from ui.components.layout import frame
from ui.components.mailbox_form import SECURITY, TAKE, MailboxForm
from ui.components.widgets import empty_state, no_workspace

PASSWORD_MASK = "••••••••"  # noqa: S105 - dots shown in place of a password


def register(backend: UiBackend) -> None:
    """Define /connectors."""

    @ui.page("/connectors", title="Mailboxes · Agent Appliance")
    def connectors_page(request: Request, tenant: str = "") -> RedirectResponse | None:
        ctx = open_page(backend, request, tenant or None)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Mailboxes", "/connectors"):
            current = ctx.tenant
            if current is None:
                no_workspace()
            elif not backend.connectors_available():
                empty_state(
                    "mail",
                    "Mailboxes are not available",
                    "This appliance was built without the connector store.",
                )
            else:
                ConnectorsView(ctx, backend, current)
        return None


class ConnectorsView:
    def __init__(self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        # dialogs and notices go here: the cards that start them are redrawn on reload
        self.root = ui.context.client.content
        with ui.row().classes("w-full items-center justify-between"):
            ui.label("Mailboxes").classes("text-h5")
            if tenant.can_manage:
                ui.button("Add mailbox", icon="add", on_click=lambda: self._edit(None)).props(
                    "data-testid=add-mailbox"
                )
        ui.label(
            "Mail arriving in these mailboxes is added to the documents of "
            f"{tenant.name}: attachments, the mail body, or both."
        ).classes("opacity-70")
        self.list = ui.column().classes("w-full gap-3")
        self._show(self._load())

    def _load(self) -> list[ConnectorView]:
        try:
            return self.backend.connectors(self.ctx.token, self.tenant.id)
        except Exception as exc:  # noqa: BLE001 - shown; the page still renders
            show_error(exc, "Loading mailboxes")
            return []

    async def reload(self) -> None:
        found = await call(
            "Loading mailboxes", self.backend.connectors, self.ctx.token, self.tenant.id
        )
        if not isinstance(found, Failed):
            self._show(found)

    def _show(self, connectors: list[ConnectorView]) -> None:
        self.list.clear()
        with self.list:
            if not connectors:
                hint = (
                    "Add a mailbox to bring in mail automatically."
                    if self.tenant.can_manage
                    else "An owner of this workspace can add mailboxes."
                )
                empty_state("mail", "No mailboxes yet", hint)
            for connector in connectors:
                self._card(connector)

    def _card(self, c: ConnectorView) -> None:
        with ui.card().classes("w-full gap-1").props(f"flat bordered data-testid=mailbox-{c.id}"):
            with ui.row().classes("w-full items-center justify-between"):
                with ui.row().classes("items-center gap-2"):
                    ui.icon("mail").classes("text-xl")
                    ui.label(c.name).classes("text-subtitle1 font-medium")
                    ui.badge(c.protocol.upper(), color="primary")
                    if not c.enabled:
                        ui.badge("paused", color="grey-7")
                if self.tenant.can_manage:
                    with ui.row().classes("gap-1"):
                        ui.button(
                            "Test", icon="network_check", on_click=lambda: self._test(c)
                        ).props("flat dense data-testid=test-mailbox")
                        ui.button("Edit", icon="edit", on_click=lambda: self._edit(c)).props(
                            "flat dense data-testid=edit-mailbox"
                        )
                        ui.button(icon="delete", on_click=lambda: self._delete(c)).props(
                            "flat dense color=negative aria-label='Delete mailbox'"
                        )
            port = f":{c.port}" if c.port else ""
            facts = [
                ("Server", f"{c.host}{port} ({SECURITY.get(c.security, c.security)})"),
                ("Account", c.username),
                ("Password", PASSWORD_MASK if c.has_password else "not set"),
                ("Folder", c.folder if c.protocol == "imap" else "inbox (POP3)"),
                ("Takes", TAKE.get(str(c.settings.get("take")), "attachments")),
            ]
            if c.last_result:
                facts.append(("Last run", c.last_result))
            for label, value in facts:
                with ui.row().classes("gap-2 no-wrap"):
                    ui.label(label).classes("w-24 shrink-0 opacity-70 text-body2")
                    ui.label(value).classes("text-body2 break-all")

    async def _test(self, c: ConnectorView) -> None:
        with self.root:
            notice = ui.notification(f"Connecting to {c.host}…", spinner=True, timeout=None)
        try:
            outcome = await call(
                "Testing the mailbox",
                self.backend.test_connector,
                self.ctx.token,
                self.tenant.id,
                c.id,
            )
        finally:
            notice.dismiss()  # the result dialog says how it went
        if isinstance(outcome, Failed):
            return
        with self.root, ui.dialog() as dialog, ui.card().props("data-testid=test-result"):
            ui.label("Connection works" if outcome.ok else "Connection failed").classes(
                "text-h6 " + ("text-positive" if outcome.ok else "text-negative")
            )
            ui.label(outcome.message).classes("max-w-prose")
            if outcome.code:
                ui.label(f"for support: {outcome.code}").classes("text-caption opacity-60")
            ui.button("Close", on_click=dialog.close).props("flat")
        dialog.open()
        await self.reload()

    def _delete(self, c: ConnectorView) -> None:
        with self.root, ui.dialog() as dialog, ui.card():
            ui.label(f"Delete the mailbox “{c.name}”?").classes("text-h6")
            ui.label("Documents it already brought in stay. Mail is no longer fetched.")

            async def confirm() -> None:
                done = await call(
                    "Deleting the mailbox",
                    self.backend.delete_connector,
                    self.ctx.token,
                    self.tenant.id,
                    c.id,
                )
                dialog.close()
                if not isinstance(done, Failed):
                    with self.root:
                        ui.notify("Mailbox deleted", type="positive")
                    await self.reload()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Delete", on_click=confirm).props("color=negative")
        dialog.open()

    def _edit(self, c: ConnectorView | None) -> None:
        with self.root:
            MailboxForm(self, c).dialog.open()
