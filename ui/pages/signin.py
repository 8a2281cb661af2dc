"""The sign-in page.

The websocket that carries this page's events cannot set cookies, so a correct password
yields a one-time ticket and the browser navigates to an HTTP route that swaps it for the
HttpOnly session cookie (app/server.py).
"""

import asyncio
from urllib.parse import quote

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import AuthBackend
from ui.components.feedback import reason

SESSION_START = "/ui-session/start"

NOTICES = {
    "expired": "Your session ended. Please sign in again.",
    "signed-out": "You are signed out.",
    "password-changed": "Your password was changed. Sign in with the new one.",
}


def error_text(exc: BaseException) -> str:
    """What the sign-in form says about a failed attempt."""
    code = getattr(exc, "code", None)
    if code == "too_many_attempts":
        wait = (reason(exc) or "").rpartition("try again in ")[2] or "a few minutes"
        return f"Too many failed sign-ins. Sign-in is locked for now; try again in {wait}."
    if code == "invalid_credentials":
        return "Wrong username or password."
    return reason(exc) or "Sign-in failed; see the server log."


def register(backend: AuthBackend) -> None:
    """Define /login."""

    @ui.page("/login", title="Sign in · Agent Appliance")
    def login_page(request: Request, notice: str = "") -> RedirectResponse | None:
        if backend.user_for_session(request.cookies.get(backend.cookie_name)) is not None:
            return RedirectResponse("/", status_code=303)
        client = backend.client_address(request.scope)
        with ui.card().classes("absolute-center w-11/12 max-w-sm p-6 gap-3"):
            ui.label("Agent Appliance").classes("text-h5")
            ui.label("Sign in to continue").classes("text-subtitle2 opacity-70")
            if notice in NOTICES:
                ui.label(NOTICES[notice]).classes("text-orange-10").props(
                    "role=status data-testid=sign-in-notice"
                )
            # a <form> so password managers recognise the fields; it never submits itself
            # (Enter and the button are handled here, once each)
            form = ui.element("form").classes("w-full flex flex-col gap-3")
            form.props('onsubmit="return false"')
            with form:
                username = ui.input("Username").props("autofocus autocomplete=username")
                password = ui.input("Password", password=True, password_toggle_button=True).props(
                    "autocomplete=current-password"
                )
                error = (
                    ui.label()
                    .classes("text-negative")
                    .props("role=alert data-testid=sign-in-error")
                )
                error.set_visibility(False)
                button = ui.button("Sign in").props("type=button data-testid=sign-in")
            for element in (username, password, button):
                element.classes("w-full")

            def show(text: str) -> None:
                error.text = text
                error.set_visibility(True)

            async def submit() -> None:
                name, secret = (username.value or "").strip(), password.value or ""
                if not name or not secret:
                    show("Enter your username and password.")
                    return
                button.props("loading")
                password.value = ""
                try:
                    ticket = await asyncio.to_thread(backend.sign_in, name, secret, client)
                except Exception as exc:  # noqa: BLE001 - every failure is shown inline
                    button.props(remove="loading")
                    show(error_text(exc))
                    return
                ui.navigate.to(f"{SESSION_START}?ticket={quote(ticket)}")

            button.on_click(submit)
            password.on("keydown.enter", submit)
        return None
