"""Sign-in page and the dashboard shell."""

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.layout import frame

SESSION_START = "/ui-session/start"
SESSION_END = "/ui-session/end"


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    username: str


class UiBackend(Protocol):
    """What the pages need from the app; implemented in the composition root."""

    cookie_name: str

    def sign_in(self, username: str, password: str, client: str) -> str: ...

    def user_for_session(self, token: str | None) -> SignedIn | None: ...


def register_pages(backend: UiBackend) -> None:
    """Define the NiceGUI pages; called once by the composition root."""

    def signed_in_user(request: Request) -> SignedIn | None:
        return backend.user_for_session(request.cookies.get(backend.cookie_name))

    def sign_out() -> None:
        ui.navigate.to(SESSION_END)

    @ui.page("/login", title="Sign in · Agent Appliance")
    def login_page(request: Request, notice: str = "") -> None:
        client = request.client.host if request.client else "unknown"
        with ui.card().classes("absolute-center w-96"):
            ui.label("Agent Appliance").classes("text-h5")
            ui.label("Sign in to continue").classes("text-subtitle2 opacity-70")
            if notice == "expired":
                ui.label("Your session ended. Please sign in again.").classes("text-warning")
            username = (
                ui.input("Username").props("autofocus autocomplete=username").classes("w-full")
            )
            password = (
                ui.input("Password", password=True, password_toggle_button=True)
                .props("autocomplete=current-password")
                .classes("w-full")
            )
            error = (
                ui.label().classes("text-negative").props("role=alert data-testid=sign-in-error")
            )
            error.set_visibility(False)

            def submit() -> None:
                try:
                    ticket = backend.sign_in(username.value or "", password.value or "", client)
                except Exception as exc:  # noqa: BLE001 - shown to the user inline
                    error.text = getattr(exc, "detail", None) or "Sign-in failed"
                    error.set_visibility(True)
                    password.value = ""
                    return
                password.value = ""
                ui.navigate.to(f"{SESSION_START}?ticket={quote(ticket)}")

            password.on("keydown.enter", submit)
            ui.button("Sign in", on_click=submit).classes("w-full").props("data-testid=sign-in")

    @ui.page("/", title="Dashboard · Agent Appliance")
    def dashboard_page(request: Request) -> RedirectResponse | None:
        user = signed_in_user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        frame("Dashboard", user.username, sign_out)
        with ui.column().classes("w-full p-4"):
            ui.label("Dashboard").classes("text-h5").props("data-testid=dashboard-title")
            ui.label("No documents yet. Upload files or drop them into your inbox folder.").classes(
                "opacity-70"
            )
        return None
