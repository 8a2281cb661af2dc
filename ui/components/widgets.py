"""Small building blocks used on several pages: empty states, state badges, stat tiles."""

from collections.abc import Callable

from nicegui import ui

from ui.components.formatting import STATE_COLORS


def empty_state(icon: str, title: str, hint: str, testid: str = "empty-state") -> ui.column:
    """A friendly 'nothing here yet' block telling the user what to do next."""
    with (
        ui.column()
        .classes("w-full items-center text-center py-8 gap-1 opacity-80")
        .props(f"data-testid={testid}") as box
    ):
        ui.icon(icon).classes("text-5xl opacity-60")
        ui.label(title).classes("text-subtitle1 font-medium")
        ui.label(hint).classes("text-body2 opacity-80 max-w-prose")
    return box


def state_badge(state: str) -> ui.badge:
    """A coloured badge for a document state."""
    return ui.badge(state, color=STATE_COLORS.get(state, "grey-7")).props(
        f"data-testid=state-{state}"
    )


def stat_tile(
    label: str, value: object, testid: str, on_click: Callable[[], None] | None = None
) -> None:
    """A number with a caption (counts on the dashboard)."""
    card = (
        ui.card()
        .classes("min-w-[6rem] flex-1 items-center gap-0 p-3")
        .props(f"data-testid={testid}")
    )
    if on_click is not None:
        card.classes("cursor-pointer").on("click", on_click).props("tabindex=0 role=button")
        card.on("keydown.enter", on_click)
    with card:
        ui.label(str(value)).classes("text-h5 font-medium").props("data-testid=value")
        ui.label(label).classes("text-caption opacity-70")


def section_title(text: str) -> None:
    ui.label(text).classes("text-h6")


# one line of a list (members, keys, tenants): wraps on narrow screens, hairline between
LIST_ROW = "w-full items-center gap-x-3 gap-y-0 py-2 border-b border-gray-400/30"


def no_workspace() -> None:
    """The empty state of a page that needs a workspace when the user is in none."""
    empty_state("apartment", "No workspace", "You are not a member of any workspace yet.")
