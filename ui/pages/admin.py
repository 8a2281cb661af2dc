"""Admin: workspaces (tenants) and users (appliance admins), members and audit (owners
and admins), API keys (every member, for themselves; owners see everyone's).

Each section only offers what the role allows; the backend applies the same checks as
the API on every call.
"""

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import UiBackend
from ui.components.context import PageContext, open_page
from ui.components.layout import frame
from ui.components.widgets import empty_state
from ui.pages.admin_audit import AuditSection
from ui.pages.admin_keys import ApiKeysSection
from ui.pages.admin_people import MembersSection, TenantsSection
from ui.pages.admin_users import UsersSection


def tabs_for(ctx: PageContext) -> list[tuple[str, str, str]]:
    """(name, label, icon) of the sections this user may use."""
    tabs: list[tuple[str, str, str]] = []
    if ctx.user.is_admin:
        tabs += [("tenants", "Workspaces", "apartment"), ("users", "Users", "group")]
    if ctx.can_administer:
        tabs.append(("members", "Members", "manage_accounts"))
    if ctx.tenants:
        tabs.append(("keys", "API keys", "key"))
    if ctx.can_administer:
        tabs.append(("audit", "Audit log", "history"))
    return tabs


def register(backend: UiBackend) -> None:
    """Define /admin."""

    @ui.page("/admin", title="Admin · Agent Appliance")
    def admin_page(request: Request, tab: str = "") -> RedirectResponse | None:
        ctx = open_page(backend, request)
        if isinstance(ctx, RedirectResponse):
            return ctx
        # members who manage nothing only have their API keys here: the page says so
        title = "Admin" if ctx.can_administer else "API keys"
        ui.page_title(f"{title} · Agent Appliance")
        with frame(ctx, title, "/admin"):
            available = tabs_for(ctx)
            if not available:
                empty_state("lock", "Nothing to manage", "You are not a member of any workspace.")
                return None
            ui.label(title).classes("text-h5").props("data-testid=admin-title")
            names = [name for name, _, _ in available]
            with (
                ui.tabs()
                .classes("w-full")
                .props("align=left inline-label outside-arrows mobile-arrows") as tabs
            ):
                for name, label, icon in available:
                    ui.tab(name, label, icon).props(f"data-testid=tab-{name}")
            sections = {
                "tenants": TenantsSection,
                "users": UsersSection,
                "members": MembersSection,
                "keys": ApiKeysSection,
                "audit": AuditSection,
            }
            with ui.tab_panels(tabs, value=tab if tab in names else names[0]).classes("w-full"):
                for name in names:
                    with ui.tab_panel(name).classes("p-0 pt-4"):
                        sections[name](ctx, backend)
        return None
