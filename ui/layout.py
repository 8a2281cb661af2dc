"""The shared page frame: header, navigation drawer, dark-mode toggle."""

from collections.abc import Callable

from nicegui import ui

NAV_ITEMS = [
    ("Dashboard", "dashboard", "/"),
]


def frame(title: str, username: str, on_sign_out: Callable[[], None]) -> None:
    """Header and drawer around every signed-in page; content follows the call."""
    dark = ui.dark_mode()
    with ui.left_drawer(value=True).classes("bg-grey-2") as drawer:
        for label, icon, target in NAV_ITEMS:
            ui.link(label, target).classes("flex items-center gap-2 p-2").props(f"icon={icon}")
    with ui.header().classes("items-center justify-between"):
        with ui.row().classes("items-center"):
            ui.button(icon="menu", on_click=lambda: drawer.toggle()).props(
                "flat color=white aria-label=menu"
            )
            ui.label("Agent Appliance").classes("text-lg font-medium")
            ui.label(f"/ {title}").classes("text-lg opacity-80")
        with ui.row().classes("items-center"):
            ui.button(icon="dark_mode", on_click=dark.toggle).props(
                "flat color=white aria-label='toggle dark mode'"
            )
            ui.label(username).classes("text-sm").props("data-testid=current-user")
            ui.button("Sign out", on_click=on_sign_out).props("flat color=white")
