"""/account: change one's own password (the current one, then the new one twice).

The rules are the API's (POST /auth/password): the current password is checked and
throttled like a sign-in, the new one meets the password policy, and afterwards every
session of the account ends, this one included, so the page leads back to sign-in.
"""

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import UiBackend
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call
from ui.components.layout import ACCOUNT, frame

CHANGED = "/login?notice=password-changed"


class PasswordForm:
    """Current, new and repeated password; checks what it can before asking the server."""

    def __init__(self, ctx: PageContext, backend: UiBackend) -> None:
        self.ctx, self.backend = ctx, backend
        rule = backend.password_rule()
        with ui.card().classes("w-full max-w-md").props("flat bordered"):
            ui.label("Change your password").classes("text-subtitle1 font-medium")
            ui.label(
                f"The new password needs {rule}. Afterwards you are signed out everywhere "
                "(other browsers and scripts using your sign-in too) and sign in again."
            ).classes("text-body2 opacity-80")
            form = ui.element("form").classes("w-full flex flex-col gap-2")
            form.props('onsubmit="return false"')
            with form:
                # hidden username: password managers pair the new password with the account
                ui.input(value=ctx.user.username).props("autocomplete=username readonly").classes(
                    "hidden"
                )
                self.current = self._field("Current password", "current-password", "current")
                self.new = self._field("New password", "new-password", "new")
                self.new.props(f"hint='{rule}'")
                self.repeat = self._field("New password again", "new-password", "repeat")
                self.error = (
                    ui.label()
                    .classes("text-negative")
                    .props("role=alert data-testid=password-error")
                )
                self.error.set_visibility(False)
                self.button = ui.button("Change password", icon="lock_reset", on_click=self.submit)
                self.button.props("type=button data-testid=password-submit")
            self.repeat.on("keydown.enter", self.submit)

    @staticmethod
    def _field(label: str, autocomplete: str, testid: str) -> ui.input:
        field = ui.input(label, password=True, password_toggle_button=True)
        return field.props(f"autocomplete={autocomplete} data-testid=password-{testid}").classes(
            "w-full"
        )

    def _show(self, text: str) -> None:
        self.error.text = text
        self.error.set_visibility(True)

    async def submit(self) -> None:
        current, new, repeat = (
            self.current.value or "",
            self.new.value or "",
            self.repeat.value or "",
        )
        if not current or not new:
            self._show("Enter your current password and a new one.")
            return
        if new != repeat:
            self._show("The two new passwords are not the same.")
            return
        self.button.props("loading")
        done = await call(
            "Changing the password", self.backend.change_own_password, self.ctx.token, current, new
        )
        self.button.props(remove="loading")
        # passwords do not stay in the page once used
        self.current.value = self.new.value = self.repeat.value = ""
        if isinstance(done, Failed):
            return
        ui.navigate.to(CHANGED)


def register(backend: UiBackend) -> None:
    """Define /account."""

    @ui.page(ACCOUNT, title="Your account · Agent Appliance")
    def account_page(request: Request) -> RedirectResponse | None:
        ctx = open_page(backend, request)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Your account", ACCOUNT):
            ui.label("Your account").classes("text-h5").props("data-testid=account-title")
            ui.label(f"Signed in as {ctx.user.username}").classes("opacity-80")
            PasswordForm(ctx, backend)
        return None
