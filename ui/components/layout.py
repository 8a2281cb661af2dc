"""The one frame around every signed-in page: header, navigation drawer, session watch.

The header always shows the current workspace (a tenant; a switcher when the user has
several), the theme toggle and the account menu (change password, sign out). Later pages
(Reports, Workflows, Logs) add themselves to the drawer with `add_nav_item`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from nicegui import ui

from ui.components.context import EXPIRED, PageContext
from ui.components.feedback import call

SESSION_END = "/ui-session/end"
ACCOUNT = "/account"
SESSION_CHECK_S = 30.0


@dataclass(frozen=True)
class NavItem:
    label: str
    icon: str
    path: str
    visible: Callable[[PageContext], bool] = lambda ctx: True


NAV_ITEMS: list[NavItem] = [
    NavItem("Dashboard", "dashboard", "/"),
    NavItem("Documents", "description", "/documents", lambda ctx: ctx.tenant is not None),
    NavItem("Ask", "forum", "/ask", lambda ctx: ctx.tenant is not None),
    NavItem("Mailboxes", "mail", "/connectors", lambda ctx: ctx.tenant is not None),
    NavItem("Admin", "admin_panel_settings", "/admin", lambda ctx: ctx.can_administer),
    NavItem("API keys", "key", "/admin", lambda ctx: not ctx.can_administer and bool(ctx.tenants)),
]


def add_nav_item(item: NavItem, before: str | None = "Admin") -> None:
    """Register a later page in the drawer (placed before the Admin entry by default)."""
    labels = [existing.label for existing in NAV_ITEMS]
    if item.label in labels:
        return  # pages are registered again when a process builds a second server
    NAV_ITEMS.insert(labels.index(before) if before in labels else len(NAV_ITEMS), item)


def _tenant_indicator(ctx: PageContext, path_after_switch: str) -> None:
    current = ctx.tenant
    if len(ctx.tenants) > 1 and current is not None:

        def switch(event: object) -> None:
            ctx.switch(str(getattr(event, "value", "")))
            ui.navigate.to(path_after_switch)

        ui.select(
            {t.id: f"{t.name} ({t.role})" for t in ctx.tenants},
            value=current.id,
            on_change=switch,
        ).props(
            "dense borderless dark options-dense data-testid=tenant-switcher "
            "aria-label='Current workspace'"
        ).classes("min-w-[9rem]")
    else:
        text = f"{current.name} ({current.role})" if current else "no workspace"
        ui.label(text).classes("text-sm").props("data-testid=current-tenant")


def frame(ctx: PageContext, title: str, path_after_switch: str = "/") -> ui.column:
    """Build header and drawer; returns the column the page's content goes into."""
    dark = ui.dark_mode(ctx.state.dark)

    def toggle_dark() -> None:
        ctx.state.dark = not ctx.state.dark
        dark.set_value(ctx.state.dark)

    with ui.header(elevated=True).classes("items-center justify-between px-2 py-1 gap-1"):
        with ui.row().classes("items-center gap-1 no-wrap"):
            menu = ui.button(icon="menu").props("flat round color=white aria-label='Menu'")
            ui.label("Agent Appliance").classes("text-lg font-medium gt-xs")
            ui.label(title).classes("text-lg opacity-80 gt-sm").props("data-testid=page-title")
        with ui.row().classes("items-center gap-1 no-wrap"):
            ui.icon("apartment").classes("gt-xs")
            _tenant_indicator(ctx, path_after_switch)
            ui.button(icon="dark_mode", on_click=toggle_dark).props(
                "flat round color=white aria-label='Toggle dark mode'"
            )
            with ui.button(icon="account_circle").props(
                "flat round color=white aria-label='Account' data-testid=account-menu"
            ):
                with ui.menu():
                    ui.label(ctx.user.username).classes("px-4 py-2 font-medium").props(
                        "data-testid=current-user"
                    )
                    ui.menu_item("Change password", lambda: ui.navigate.to(ACCOUNT)).props(
                        "data-testid=change-password"
                    )
                    ui.menu_item("Sign out", lambda: ui.navigate.to(SESSION_END)).props(
                        "data-testid=sign-out"
                    )
                    ui.menu_item(
                        "Sign out everywhere",
                        lambda: ui.navigate.to(f"{SESSION_END}?everywhere=true"),
                    )
    with ui.left_drawer(value=None, bordered=True).props("width=220") as drawer:
        with ui.column().classes("w-full gap-0 pt-2").props("role=navigation"):
            for item in NAV_ITEMS:
                if not item.visible(ctx):
                    continue
                link = ui.link(target=item.path).classes(
                    "flex items-center gap-3 px-4 py-2 no-underline rounded "
                    "text-inherit hover:bg-gray-500/10 focus:bg-gray-500/20"
                )
                if item.path == path_after_switch:  # the section this page belongs to
                    link.classes("bg-gray-500/15 font-medium").props("aria-current=page")
                with link:
                    ui.icon(item.icon).classes("text-xl opacity-80")
                    ui.label(item.label)
    menu.on_click(drawer.toggle)
    _watch_session(ctx)
    return ui.column().classes("w-full max-w-screen-xl mx-auto p-4 gap-4").props("id=main")


def _watch_session(ctx: PageContext) -> None:
    """Leave for sign-in once the session ends, even if the user does nothing.

    The check does not count as activity, so an open page does not keep a session alive.
    """

    async def check() -> None:
        alive = await call("", ctx.backend.session_alive, ctx.token)
        if alive is False:
            ui.navigate.to(EXPIRED)

    ui.timer(SESSION_CHECK_S, check)
