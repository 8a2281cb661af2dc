"""Admin section: accounts. Create one; reset a password, disable or enable, delete.

Every action goes through the backend, which applies the same rules as the API and the
CLI (app/operations/users.py): a reset or a disable signs the user out everywhere, an
admin cannot do these to their own account, and the only owner of a workspace cannot be
deleted.
"""

from typing import Any

from nicegui import ui

from ui.backend import UiBackend
from ui.components.context import PageContext
from ui.components.feedback import Failed, call
from ui.components.widgets import LIST_ROW, empty_state


class UsersSection:
    """Appliance admins: accounts with their workspaces and roles."""

    def __init__(self, ctx: PageContext, backend: UiBackend) -> None:
        self.ctx, self.backend = ctx, backend
        self.rule = backend.password_rule()
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label("New user").classes("text-subtitle1 font-medium")
            with ui.row().classes("w-full items-end gap-2"):
                self.username = ui.input("Username").props("data-testid=new-username")
                self.password = ui.input("Password", password=True, password_toggle_button=True)
                self.password.props(
                    f"autocomplete=new-password hint='{self.rule}' data-testid=new-password"
                )
                self.admin = ui.checkbox("Appliance admin")
                ui.button("Create", icon="person_add", on_click=self.create).props(
                    "data-testid=create-user"
                )
        self.box = ui.column().classes("w-full gap-0").props("data-testid=users-table")
        self.render(backend.users(ctx.token))

    def render(self, users: list[dict[str, Any]]) -> None:
        self.box.clear()
        with self.box:
            if not users:
                empty_state("group", "No users", "Create the first account above.")
            for u in users:
                self._row(u)

    def _row(self, u: dict[str, Any]) -> None:
        name = u["username"]
        own = name == self.ctx.user.username
        disabled = u.get("status") == "disabled"
        with ui.row().classes(LIST_ROW).props(f"data-testid=user-{name}"):
            ui.label(name).classes("font-medium w-40 break-all")
            if u.get("admin"):
                ui.badge("admin", color="primary")
            if disabled:
                ui.badge("disabled", color="grey-7").props("data-testid=user-disabled")
            ui.label(u.get("tenants") or "no workspace yet").classes("flex-1 text-body2")
            ui.label(f"since {u.get('created_at', '')}").classes("text-caption opacity-70 gt-xs")
            if own:
                ui.label("you").classes("text-caption opacity-70")
                return
            with ui.button(icon="more_vert").props(
                f"flat dense round aria-label='Actions for {name}' data-testid=user-actions-{name}"
            ):
                with ui.menu():
                    ui.menu_item("Reset password", lambda: self.reset(name)).props(
                        f"data-testid=reset-password-{name}"
                    )
                    ui.menu_item(
                        "Enable" if disabled else "Disable",
                        lambda: self.toggle(name, not disabled),
                    ).props(f"data-testid=toggle-user-{name}")
                    ui.menu_item("Delete", lambda: self.confirm_delete(name)).props(
                        f"data-testid=delete-user-{name}"
                    )

    async def reload(self) -> None:
        users = await call("Loading users", self.backend.users, self.ctx.token)
        if not isinstance(users, Failed):
            self.render(users)

    async def create(self) -> None:
        made = await call(
            "Creating the user",
            self.backend.create_user,
            self.ctx.token,
            (self.username.value or "").strip(),
            self.password.value or "",
            bool(self.admin.value),
        )
        # the password is not kept in the form (nor sent back) once it was used
        self.password.value = ""
        if isinstance(made, Failed):
            return
        ui.notify(
            f"User {made['username']} created; add them to a workspace under Members",
            type="positive",
        )
        self.username.value = ""
        await self.reload()

    def reset(self, name: str) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-[28rem] max-w-full"):
            ui.label(f"New password for {name}").classes("text-h6")
            ui.label(
                f"It needs {self.rule}. {name} is signed out everywhere and signs in with "
                "the new password; tell it to them in person or another safe way."
            ).classes("text-body2 opacity-80")
            field = ui.input("New password", password=True, password_toggle_button=True)
            field.props("autocomplete=new-password data-testid=reset-password-value")
            field.classes("w-full")

            async def save() -> None:
                done = await call(
                    "Resetting the password",
                    self.backend.reset_password,
                    self.ctx.token,
                    name,
                    field.value or "",
                )
                field.value = ""
                if isinstance(done, Failed):
                    return
                dialog.close()
                ui.notify(f"Password of {name} changed; they are signed out", type="positive")

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Set password", on_click=save).props("data-testid=reset-password-save")
        dialog.open()

    async def toggle(self, name: str, disable: bool) -> None:
        done = await call(
            "Disabling the user" if disable else "Enabling the user",
            self.backend.set_user_disabled,
            self.ctx.token,
            name,
            disable,
        )
        if not isinstance(done, Failed):
            ui.notify(
                f"{name} is disabled and signed out" if disable else f"{name} can sign in again",
                type="positive",
            )
            await self.reload()

    def confirm_delete(self, name: str) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label(f"Delete the account {name}?").classes("text-h6 text-negative")
            ui.label(
                "Their memberships and API keys go with it. Documents stay in their "
                "workspaces. To stop someone for a while, disable the account instead."
            ).classes("max-w-prose")

            async def delete() -> None:
                done = await call(
                    "Deleting the user", self.backend.delete_user, self.ctx.token, name
                )
                dialog.close()
                if not isinstance(done, Failed):
                    ui.notify(f"Account {name} deleted", type="positive")
                    await self.reload()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Delete", on_click=delete).props(
                    "color=negative data-testid=delete-user-confirm"
                )
        dialog.open()
