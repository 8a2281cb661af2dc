"""Admin sections about places and people: workspaces (tenants), members and their roles.

The code says tenant; people see "workspace". Accounts are in admin_users.py."""

from typing import Any

from nicegui import ui

from ui.backend import UiBackend
from ui.components.context import PageContext
from ui.components.feedback import Failed, call, show_error
from ui.components.formatting import short_time
from ui.components.widgets import LIST_ROW, empty_state

ROLES = {
    "viewer": "viewer (read, ask)",
    "editor": "editor (+ documents)",
    "owner": "owner (+ members, mailboxes)",
}


def data_table(
    rows: list[dict[str, Any]], columns: list[tuple[str, str]], testid: str, row_key: str = ""
) -> ui.table:
    """A plain sortable table: columns as (field, label); rows keyed by `row_key`."""
    return (
        ui.table(
            rows=rows,
            columns=[
                {"name": f, "label": label, "field": f, "align": "left", "sortable": True}
                for f, label in columns
            ],
            row_key=row_key or columns[0][0],
            pagination={"rowsPerPage": 20},
        )
        .classes("w-full")
        .props(f"flat bordered dense data-testid={testid}")
    )


class TenantsSection:
    """Appliance admins: every workspace; create one with its first owner; delete one."""

    def __init__(self, ctx: PageContext, backend: UiBackend) -> None:
        self.ctx, self.backend = ctx, backend
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label("New workspace").classes("text-subtitle1 font-medium")
            with ui.row().classes("w-full items-end gap-2"):
                self.name = ui.input("Short name", placeholder="e.g. sales").props(
                    "hint='lowercase letters, digits, -' data-testid=tenant-name"
                )
                self.display = ui.input("Display name")
                self.owner = ui.input("First owner (username)", value=ctx.user.username)
                ui.button("Create", icon="add", on_click=self.create).props(
                    "data-testid=create-tenant"
                )
        self.table_box = ui.column().classes("w-full")
        self.render(backend.all_tenants(ctx.token))

    def render(self, tenants: list[dict[str, Any]]) -> None:
        self.table_box.clear()
        with self.table_box:
            if not tenants:
                empty_state("apartment", "No workspaces", "Create the first workspace above.")
                return
            for t in tenants:
                with ui.row().classes(LIST_ROW):
                    ui.label(t["slug"]).classes("font-medium w-40")
                    ui.label(t["name"]).classes("flex-1")
                    ui.label(short_time(t.get("created_at"))).classes("text-caption opacity-70")
                    ui.button(icon="delete", on_click=lambda t=t: self.confirm_delete(t)).props(
                        f"flat dense color=negative aria-label='Delete workspace {t['slug']}'"
                    )

    async def reload(self) -> None:
        tenants = await call("Loading workspaces", self.backend.all_tenants, self.ctx.token)
        if not isinstance(tenants, Failed):
            self.render(tenants)

    async def create(self) -> None:
        made = await call(
            "Creating the workspace",
            self.backend.create_tenant,
            self.ctx.token,
            (self.name.value or "").strip(),
            (self.display.value or "").strip(),
            (self.owner.value or "").strip(),
        )
        if not isinstance(made, Failed):
            ui.notify(f"Workspace {made['slug']} created", type="positive")
            self.name.value = self.display.value = ""
            await self.reload()

    def confirm_delete(self, tenant: dict[str, Any]) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label(f"Delete workspace {tenant['slug']}?").classes("text-h6 text-negative")
            ui.label(
                "Its key is destroyed first: every document, answer and mailbox of this "
                "workspace is gone for good."
            ).classes("max-w-prose")
            typed = ui.input(f"Type {tenant['slug']} to confirm").classes("w-full")

            async def delete() -> None:
                if typed.value != tenant["slug"]:
                    ui.notify("The name does not match", type="warning")
                    return
                done = await call(
                    "Deleting the workspace",
                    self.backend.delete_tenant,
                    self.ctx.token,
                    tenant["id"],
                )
                dialog.close()
                if not isinstance(done, Failed):
                    ui.notify(f"Workspace {tenant['slug']} deleted", type="positive")
                    await self.reload()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Delete for good", on_click=delete).props("color=negative")
        dialog.open()


class MembersSection:
    """Owners (of their workspaces) and admins (any): who belongs, with which role."""

    def __init__(self, ctx: PageContext, backend: UiBackend) -> None:
        self.ctx, self.backend = ctx, backend
        if ctx.user.is_admin:
            choices = {t["id"]: t["slug"] for t in backend.all_tenants(ctx.token)}
        else:
            choices = {t.id: t.slug for t in ctx.tenants if t.can_manage}
        if not choices:
            empty_state("apartment", "No workspaces", "Create a workspace first.")
            return
        current = ctx.tenant.id if ctx.tenant and ctx.tenant.id in choices else next(iter(choices))
        with ui.row().classes("w-full items-end gap-2"):
            self.tenant = ui.select(
                choices, value=current, label="Workspace", on_change=self.reload
            ).classes("min-w-[10rem]")
            # search as you type among existing accounts; a name not in the list is
            # still sent, so the answer names the problem plainly
            self.username = (
                ui.select(
                    self._names(),
                    label="User",
                    with_input=True,
                    new_value_mode="add-unique",
                    clearable=True,
                )
                .classes("min-w-[12rem]")
                .props("data-testid=member-username")
            )
            self.role = ui.select(ROLES, value="viewer", label="Role").classes("min-w-[12rem]")
            self.role.props("data-testid=member-role")
            ui.button("Add or change", icon="person_add", on_click=self.add).props(
                "data-testid=add-member"
            )
        self.box = ui.column().classes("w-full gap-0").props("data-testid=members")
        self._render(self._load())

    def _names(self) -> list[str]:
        try:
            return self.backend.user_names(self.ctx.token, self.tenant.value)
        except Exception as exc:  # noqa: BLE001 - shown; typing a name still works
            show_error(exc, "Loading user names")
            return []

    def _load(self) -> list[dict[str, Any]]:
        try:
            return self.backend.members(self.ctx.token, self.tenant.value)
        except Exception as exc:  # noqa: BLE001 - shown; the section stays usable
            show_error(exc, "Loading members")
            return []

    def _render(self, members: list[dict[str, Any]]) -> None:
        self.box.clear()
        with self.box:
            if not members:
                empty_state("group", "No members", "Add a user above.")
            for m in members:
                with ui.row().classes(LIST_ROW):
                    ui.label(m["user"]).classes("font-medium w-40 break-all")
                    ui.select(
                        ROLES,
                        value=m["role"],
                        on_change=lambda e, m=m: self._set(m["user"], e.value),
                    ).props(f"dense aria-label='Role of {m['user']}'").classes("min-w-[12rem]")
                    ui.label(f"since {short_time(m.get('since'))}").classes(
                        "text-caption opacity-70 gt-xs"
                    )
                    ui.button(
                        icon="person_remove", on_click=lambda m=m: self._remove(m["user"])
                    ).props(f"flat dense color=negative aria-label='Remove {m['user']}'")

    async def reload(self) -> None:
        members = await call(
            "Loading members", self.backend.members, self.ctx.token, self.tenant.value
        )
        if not isinstance(members, Failed):
            self._render(members)

    async def _set(self, username: str, role: str, action: str = "Changing the role") -> None:
        done = await call(
            action,
            self.backend.set_member,
            self.ctx.token,
            self.tenant.value,
            username,
            role,
        )
        if not isinstance(done, Failed):
            ui.notify(f"{username} is now {role}", type="positive")
        await self.reload()

    async def add(self) -> None:
        name = str(self.username.value or "").strip()
        if not name:
            ui.notify("Choose a user from the list", type="warning")
            return
        await self._set(name, self.role.value, "Adding the member")
        self.username.value = None

    async def _remove(self, username: str) -> None:
        done = await call(
            "Removing the member",
            self.backend.remove_member,
            self.ctx.token,
            self.tenant.value,
            username,
        )
        if not isinstance(done, Failed):
            ui.notify(
                f"{username} removed; their API keys for this workspace are revoked",
                type="positive",
            )
        await self.reload()
