"""/settings (appliance admins): a read-only overview of what the appliance runs with,
and a backup button.

Nothing can be changed here (settings live in appliance.toml); no secret is shown, only
whether one is set. A backup is written by the same code as `appliance backup`, without
the master key, and the page says plainly that it is useless without that key.
"""

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import UiBackend
from ui.backend_account import BackupDone, SettingsGroup
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call
from ui.components.layout import NavItem, add_nav_item, frame
from ui.components.widgets import LIST_ROW, empty_state

SETTINGS = "/settings"


def _group(group: SettingsGroup) -> None:
    with ui.card().classes("w-full").props("flat bordered"):
        ui.label(group.title).classes("text-subtitle1 font-medium")
        for row in group.rows:
            with ui.row().classes(LIST_ROW):
                # label above the value on a narrow window, beside it on a wide one
                ui.label(row.label).classes("w-full sm:w-56 opacity-80")
                ui.label(row.value).classes("flex-1 min-w-[12rem] font-mono text-body2 break-all")
                if row.note:
                    ui.label(row.note).classes("w-full text-caption opacity-60")


class BackupCard:
    """Write a backup now; say where it went and what else must be kept."""

    def __init__(self, ctx: PageContext, backend: UiBackend, warning: str) -> None:
        self.ctx, self.backend = ctx, backend
        with ui.card().classes("w-full").props("flat bordered data-testid=backup-card"):
            ui.label("Backup").classes("text-subtitle1 font-medium")
            ui.label(
                "Writes a complete, still-encrypted copy of every workspace, account and "
                "setting into a new folder on this machine. Copy that folder to a USB disk "
                "or another computer afterwards."
            ).classes("text-body2 max-w-prose")
            with ui.row().classes("items-start gap-2 no-wrap"):
                ui.icon("warning").classes("text-orange-10 text-xl")
                ui.label(warning).classes("text-body2 text-orange-10 max-w-prose").props(
                    "data-testid=backup-warning"
                )
            self.button = ui.button("Back up now", icon="backup", on_click=self.run).props(
                "data-testid=backup-now"
            )
            self.result = ui.column().classes("w-full gap-1")

    async def run(self) -> None:
        self.button.props("loading")
        done = await call("The backup", self.backend.run_backup, self.ctx.token)
        self.button.props(remove="loading")
        if isinstance(done, Failed):
            return
        self._show(done)

    def _show(self, done: BackupDone) -> None:
        self.result.clear()
        with self.result:
            ui.label(f"Backup written ({done.files} files) to:").classes("text-positive")
            with ui.row().classes("items-center gap-1 no-wrap max-w-full"):
                ui.label(done.path).classes("font-mono text-caption break-all").props(
                    "data-testid=backup-path"
                )
                ui.button(
                    icon="content_copy", on_click=lambda: ui.clipboard.write(done.path)
                ).props("flat dense round aria-label='Copy the folder path'")


def register(backend: UiBackend) -> None:
    """Define /settings and its drawer entry (appliance admins only)."""
    add_nav_item(NavItem("Settings", "tune", SETTINGS, lambda ctx: ctx.user.is_admin), None)

    @ui.page(SETTINGS, title="Settings · Agent Appliance")
    def settings_page(request: Request) -> RedirectResponse | None:
        ctx = open_page(backend, request)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Settings", SETTINGS):
            ui.label("Settings").classes("text-h5").props("data-testid=settings-title")
            if not ctx.user.is_admin:
                empty_state("lock", "For administrators", "Only appliance admins see this page.")
                return None
            BackupCard(ctx, backend, backend.backup_info(ctx.token))
            ui.label(
                "What the appliance runs with. To change a value, edit appliance.toml on the "
                "appliance's computer and restart it (see the user guide)."
            ).classes("opacity-80 max-w-prose")
            with ui.column().classes("w-full gap-3").props("data-testid=settings-overview"):
                for group in backend.settings_overview(ctx.token):
                    _group(group)
        return None
