"""Mailboxes: IMAP and POP3 connectors of the tenant; owners create, edit, test, delete.

The password is write-only: the browser gets only whether one is set, the edit form
starts empty ("leave empty to keep"), and the field is cleared as soon as it was saved.
"""

from typing import Any

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import ConnectorView, TenantChoice, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call, show_error
from ui.components.layout import frame
from ui.components.widgets import empty_state, no_workspace

PASSWORD_MASK = "••••••••"  # noqa: S105 - dots shown in place of a password
SECURITY = {"tls": "TLS", "starttls": "STARTTLS", "plain": "none (this machine only)"}
TAKE = {"attachments": "attachments", "body": "mail body", "both": "attachments and body"}
AFTER = {
    "mark_seen": "mark as read",
    "move": "move to a folder",
    "delete": "delete",
    "none": "leave as it is",
}


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
        ui.notify(f"Connecting to {c.host}…")
        outcome = await call(
            "Testing the mailbox", self.backend.test_connector, self.ctx.token, self.tenant.id, c.id
        )
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


class MailboxForm:
    """The create/edit dialog; its password field never shows a stored password."""

    def __init__(self, page: ConnectorsView, existing: ConnectorView | None) -> None:
        self.page, self.existing = page, existing
        s: dict[str, Any] = dict(existing.settings) if existing else {}
        with (
            ui.dialog() as self.dialog,
            ui.card().classes("w-[34rem] max-w-full gap-2").props("data-testid=mailbox-form"),
        ):
            ui.label("Edit mailbox" if existing else "Add mailbox").classes("text-h6")
            self.name = ui.input("Name", value=existing.name if existing else "").props(
                "data-testid=mailbox-name"
            )
            self.protocol = ui.toggle(
                {"imap": "IMAP", "pop3": "POP3"}, value=existing.protocol if existing else "imap"
            )
            if existing:
                self.protocol.disable()  # a stored mailbox keeps its protocol
            with ui.row().classes("w-full gap-2 no-wrap"):
                self.host = ui.input("Server", value=existing.host if existing else "")
                self.host.classes("flex-1").props("data-testid=mailbox-host")
                self.port = (
                    ui.number(
                        "Port",
                        value=existing.port if existing else None,
                        format="%d",
                        min=1,
                        max=65535,
                    )
                    .classes("w-28")
                    .props("data-testid=mailbox-port")
                )
            self.security = ui.select(
                SECURITY, label="Encryption", value=existing.security if existing else "tls"
            ).props("data-testid=mailbox-security")
            self.username = ui.input(
                "Account name", value=existing.username if existing else ""
            ).props("data-testid=mailbox-username")
            has_password = bool(existing and existing.has_password)
            self.password = ui.input(
                "Password",
                password=True,
                password_toggle_button=True,
                placeholder="leave empty to keep the saved password" if has_password else "",
            ).props("autocomplete=new-password data-testid=mailbox-password")
            if has_password:
                self.password.props("hint='Leave empty to keep the saved password'")
            self.folder = ui.input("Folder", value=str(s.get("folder", "INBOX")))
            self.take = ui.select(TAKE, label="Take", value=str(s.get("take", "attachments")))
            self.after = ui.select(
                AFTER,
                label="After a mail was added",
                value=str(s.get("after_success", "mark_seen")),
            )
            self.move_to = ui.input("Move to folder", value=str(s.get("move_to") or ""))
            self.pop_delete = ui.checkbox(
                "Delete from the server after it was added",
                value=bool(s.get("delete_after_success")),
            )
            self.enabled = ui.switch(
                "Fetch mail on schedule", value=existing.enabled if existing else True
            )
            for field in (
                self.name,
                self.host,
                self.security,
                self.username,
                self.password,
                self.folder,
                self.take,
                self.after,
                self.move_to,
            ):
                field.classes("w-full")
            self.folder.bind_visibility_from(self.protocol, "value", value="imap")
            self.after.bind_visibility_from(self.protocol, "value", value="imap")
            self.move_to.bind_visibility_from(self.after, "value", value="move")
            self.pop_delete.bind_visibility_from(self.protocol, "value", value="pop3")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=self._close).props("flat")
                ui.button("Save", on_click=self._save).props("data-testid=save-mailbox")

    def _fields(self) -> dict[str, Any]:
        base = dict(self.existing.settings) if self.existing else {}
        imap = self.protocol.value == "imap"
        base.update(
            name=(self.name.value or "").strip(),
            protocol=self.protocol.value,
            host=(self.host.value or "").strip(),
            port=int(self.port.value) if self.port.value else None,
            security=self.security.value,
            username=(self.username.value or "").strip(),
            folder=(self.folder.value or "INBOX").strip() if imap else "INBOX",
            take=self.take.value,
            after_success=self.after.value if imap else "none",
            move_to=(self.move_to.value or "").strip() or None,
            delete_after_success=bool(self.pop_delete.value) and not imap,
            enabled=bool(self.enabled.value),
        )
        return base

    def _close(self) -> None:
        self.password.value = ""
        self.dialog.close()
        self.dialog.delete()

    async def _save(self) -> None:
        secret = self.password.value or None
        saved = await call(
            "Saving the mailbox",
            self.page.backend.save_connector,
            self.page.ctx.token,
            self.page.tenant.id,
            self.existing.id if self.existing else None,
            self._fields(),
            secret,
        )
        if isinstance(saved, Failed):
            return  # the form stays filled in so the user can correct it
        ui.notify(f"Mailbox “{saved.name}” saved", type="positive")
        self._close()
        with self.page.root:  # this dialog, the handler's home, is gone now
            await self.page.reload()
