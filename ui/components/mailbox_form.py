"""The create/edit dialog of a mailbox: the port follows the protocol and encryption
unless the user typed their own, every missing or wrong field is marked at once (the
summary sits above the buttons, never over them), and Test tries the settings as typed
before anything is saved. Its password field never shows a stored password."""

from typing import Any, Protocol

from nicegui import ui

from ui.backend import ConnectorView, TenantChoice, TestOutcome, UiBackend
from ui.components.context import PageContext
from ui.components.feedback import Failed, call

SECURITY = {"tls": "TLS", "starttls": "STARTTLS", "plain": "none (this machine only)"}
TAKE = {"attachments": "attachments", "body": "mail body", "both": "attachments and body"}
AFTER = {
    "mark_seen": "mark as read",
    "move": "move to a folder",
    "delete": "delete",
    "none": "leave as it is",
}
# the standard port of each protocol, with TLS from the start or without
DEFAULT_PORTS = {
    ("imap", True): 993,
    ("imap", False): 143,
    ("pop3", True): 995,
    ("pop3", False): 110,
}


def default_port(protocol: str, security: str) -> int:
    """993/143 for IMAP, 995/110 for POP3 (TLS / STARTTLS or none)."""
    return DEFAULT_PORTS[(protocol if protocol in ("imap", "pop3") else "imap", security == "tls")]


class MailboxPage(Protocol):
    """What the form needs of the Mailboxes page that opened it."""

    ctx: PageContext
    backend: UiBackend
    tenant: TenantChoice
    root: ui.element

    async def reload(self) -> None: ...


def problems(values: dict[str, Any], needs_password: bool, password: str) -> dict[str, str]:
    """Field name -> what is wrong with it, for every field at once."""
    found: dict[str, str] = {}
    if not values["name"]:
        found["name"] = "Give the mailbox a name, e.g. Invoices"
    host = values["host"]
    if not host:
        found["host"] = "Enter the mail server, e.g. imap.example.com"
    elif " " in host or "/" in host or ":" in host:
        found["host"] = "Only the server name, without spaces, port or https://"
    port = values["port"]
    if port is not None and not 1 <= int(port) <= 65535:
        found["port"] = "A port is a number from 1 to 65535"
    if not values["username"]:
        found["username"] = "Enter the account name you sign in to the mailbox with"
    if needs_password and not password:
        found["password"] = "Enter the password of the mail account"  # noqa: S105 - a hint
    if values["protocol"] == "imap" and values["after_success"] == "move" and not values["move_to"]:
        found["move_to"] = "Name the folder to move added mail to"
    return found


class MailboxForm:
    """The dialog; `dialog.open()` shows it."""

    def __init__(self, page: MailboxPage, existing: ConnectorView | None) -> None:
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
                {"imap": "IMAP", "pop3": "POP3"},
                value=existing.protocol if existing else "imap",
                on_change=self._suggest_port,
            ).props("data-testid=mailbox-protocol")
            if existing:
                self.protocol.disable()  # a stored mailbox keeps its protocol
            with ui.row().classes("w-full gap-2 no-wrap"):
                self.host = ui.input("Server", value=existing.host if existing else "")
                self.host.classes("flex-1").props("data-testid=mailbox-host")
                start_port = (
                    existing.port
                    if existing and existing.port
                    else default_port(self.protocol.value, existing.security if existing else "tls")
                )
                self.port = (
                    ui.number("Port", value=start_port, format="%d", min=1, max=65535)
                    .classes("w-28")
                    .props("data-testid=mailbox-port")
                )
            self.security = ui.select(
                SECURITY,
                label="Encryption",
                value=existing.security if existing else "tls",
                on_change=self._suggest_port,
            ).props("data-testid=mailbox-security")
            self.username = ui.input(
                "Account name", value=existing.username if existing else ""
            ).props("data-testid=mailbox-username")
            self.has_password = bool(existing and existing.has_password)
            self.password = ui.input(
                "Password",
                password=True,
                password_toggle_button=True,
                placeholder="leave empty to keep the saved password" if self.has_password else "",
            ).props("autocomplete=new-password data-testid=mailbox-password")
            if self.has_password:
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
            self.inputs = {
                "name": self.name,
                "host": self.host,
                "port": self.port,
                "username": self.username,
                "password": self.password,
                "move_to": self.move_to,
            }
            for field in (self.name, self.host, self.security, self.username, self.password):
                field.classes("w-full")
            for field in (self.folder, self.take, self.after, self.move_to):
                field.classes("w-full")
            self.folder.bind_visibility_from(self.protocol, "value", value="imap")
            self.after.bind_visibility_from(self.protocol, "value", value="imap")
            self.move_to.bind_visibility_from(self.after, "value", value="move")
            self.pop_delete.bind_visibility_from(self.protocol, "value", value="pop3")
            # what is wrong, or how the test went: above the buttons, never over them
            self.status = ui.column().classes("w-full gap-1").props("data-testid=mailbox-status")
            with ui.row().classes("w-full justify-end items-center gap-2"):
                self.testing = ui.spinner(size="sm")
                self.testing.set_visibility(False)
                ui.button("Test", icon="network_check", on_click=self._test).props(
                    "outline data-testid=test-unsaved-mailbox"
                )
                ui.button("Cancel", on_click=self._close).props("flat")
                ui.button("Save", on_click=self._save).props("data-testid=save-mailbox")

    def _suggest_port(self) -> None:
        """Follow the protocol and encryption, unless the user typed a port of their own."""
        standard = set(DEFAULT_PORTS.values())
        if self.port.value in (None, "") or int(self.port.value) in standard:
            self.port.value = default_port(self.protocol.value, self.security.value)

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

    def _checked(self, for_test: bool) -> dict[str, Any] | None:
        """The values if every field is fine; else each bad field marked and listed."""
        values = self._fields()
        wrong = problems(values, not self.has_password, self.password.value or "")
        if for_test:
            wrong.pop("name", None)  # a test does not need a name yet
        for key, field in self.inputs.items():
            if key in wrong:
                field.props(f"error error-message='{wrong[key]}'")
            else:
                field.props(remove="error error-message")
        self.status.clear()
        if not wrong:
            return values
        with self.status:
            ui.label(
                f"Please correct the {len(wrong)} marked field{'s' if len(wrong) > 1 else ''}."
            ).classes("text-negative text-body2").props("data-testid=mailbox-problems")
        return None

    def _close(self) -> None:
        self.password.value = ""
        self.dialog.close()
        self.dialog.delete()

    async def _test(self) -> None:
        values = self._checked(for_test=True)
        if values is None:
            return
        self.testing.set_visibility(True)
        try:
            outcome = await call(
                "Testing the mailbox",
                self.page.backend.test_mailbox_settings,
                self.page.ctx.token,
                self.page.tenant.id,
                self.existing.id if self.existing else None,
                values,
                self.password.value or None,
            )
        finally:
            self.testing.set_visibility(False)
        if not isinstance(outcome, Failed):
            self._show_outcome(outcome)

    def _show_outcome(self, outcome: TestOutcome) -> None:
        self.status.clear()
        with (
            self.status,
            ui.row()
            .classes("items-start gap-2 no-wrap")
            .props(f"data-testid=mailbox-test-result data-ok={str(outcome.ok).lower()}"),
        ):
            ui.icon("check_circle" if outcome.ok else "error").classes(
                "text-xl " + ("text-positive" if outcome.ok else "text-negative")
            )
            with ui.column().classes("gap-0"):
                ui.label("Connection works" if outcome.ok else "Connection failed").classes(
                    "font-medium"
                )
                ui.label(outcome.message).classes("text-body2")

    async def _save(self) -> None:
        values = self._checked(for_test=False)
        if values is None:
            return
        saved = await call(
            "Saving the mailbox",
            self.page.backend.save_connector,
            self.page.ctx.token,
            self.page.tenant.id,
            self.existing.id if self.existing else None,
            values,
            self.password.value or None,
        )
        if isinstance(saved, Failed):
            return  # the form stays filled in so the user can correct it
        ui.notify(f"Mailbox “{saved.name}” saved", type="positive")
        self._close()
        with self.page.root:  # this dialog, the handler's home, is gone now
            await self.page.reload()
