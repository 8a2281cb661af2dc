"""/help: a short guide inside the app, and the full user guide (docs/user-guide.md,
with its screenshots) rendered at /help/guide."""

from pathlib import Path

from nicegui import app, ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import UiBackend
from ui.components.context import open_page
from ui.components.dropbox import dropbox_note
from ui.components.layout import NavItem, add_nav_item, frame

HELP = "/help"
GUIDE = "/help/guide"
GUIDE_FILES = "/help/guide-files"
DOCS = Path(__file__).resolve().parents[2] / "docs"

STEPS = (
    (
        "upload_file",
        "Add documents",
        "Open Documents and drop files on the upload area (PDF, Word, Excel, text, mail). "
        "Each one is read and indexed; its badge turns green (indexed) when it is ready.",
    ),
    (
        "forum",
        "Ask questions",
        "Open Ask and write a question in your own words. The answer cites the documents and "
        "pages it used; click a citation to open the page.",
    ),
    (
        "search",
        "Find documents",
        "On Documents, search by title, or switch to search by meaning to find passages about "
        "a subject even when they use other words.",
    ),
    (
        "mail",
        "Collect mail",
        "Owners add a mailbox under Mailboxes; its attachments arrive as documents.",
    ),
    (
        "key",
        "Scripts and other programs",
        "API keys (under Admin or API keys) let a script use the appliance with your role.",
    ),
    (
        "lock_reset",
        "Your password",
        "Account menu (top right) → Change password. You are signed out everywhere afterwards.",
    ),
)


def register(backend: UiBackend) -> None:
    """Define /help and /help/guide, and the drawer entry."""
    add_nav_item(NavItem("Help", "help", HELP), None)
    if (DOCS / "user-guide").is_dir():
        app.add_static_files(GUIDE_FILES, DOCS / "user-guide")

    @ui.page(HELP, title="Help · Agent Appliance")
    def help_page(request: Request) -> RedirectResponse | None:
        ctx = open_page(backend, request)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Help", HELP):
            ui.label("Help").classes("text-h5").props("data-testid=help-title")
            ui.label(
                "The appliance keeps your documents on this machine, encrypted, and answers "
                "questions about them. Everything you need is in the menu on the left (☰)."
            ).classes("max-w-prose opacity-80")
            for icon, title, text in STEPS:
                with ui.row().classes("w-full items-start gap-3 no-wrap"):
                    ui.icon(icon).classes("text-2xl opacity-70")
                    with ui.column().classes("gap-0"):
                        ui.label(title).classes("font-medium")
                        ui.label(text).classes("text-body2 max-w-prose")
            if ctx.tenant is not None:
                dropbox_note(backend, ctx.token, ctx.tenant.id, ctx.tenant.name, centered=False)
            with ui.row().classes("gap-2"):
                ui.button("Read the full user guide", icon="menu_book").props(
                    f"href={GUIDE} data-testid=user-guide-link"
                )
        return None

    @ui.page(GUIDE, title="User guide · Agent Appliance")
    def guide_page(request: Request) -> RedirectResponse | None:
        ctx = open_page(backend, request)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "User guide", HELP):
            source = DOCS / "user-guide.md"
            if not source.is_file():
                ui.label("The user guide is not installed on this machine.")
                return None
            # the guide's pictures are 1280 px wide: they shrink to the window
            ui.add_css(
                ".user-guide img { max-width: 100%; height: auto; }"
                ".user-guide h1 { font-size: 2rem; line-height: 1.2; margin: 0.5rem 0; }"
                ".user-guide h2 { font-size: 1.5rem; line-height: 1.3; margin: 1.5rem 0 0.5rem; }"
            )
            text = source.read_text(encoding="utf-8").replace("](user-guide/", f"]({GUIDE_FILES}/")
            ui.markdown(text).classes("max-w-screen-md user-guide").props("data-testid=user-guide")
        return None
