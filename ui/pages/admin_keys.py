"""Admin section: API keys (the secret shown once)."""

from typing import Any

from nicegui import ui

from ui.backend import UiBackend
from ui.components.context import PageContext
from ui.components.feedback import Failed, call, show_error
from ui.components.formatting import short_time
from ui.components.widgets import LIST_ROW, empty_state

ROLE_ORDER = ("viewer", "editor", "owner")
EXPIRY_HINT = "e.g. 90 days, 3 months, 1 year; empty: never"


class ApiKeysSection:
    """Keys of the current tenant: create (up to one's own role), list, revoke."""

    def __init__(self, ctx: PageContext, backend: UiBackend) -> None:
        self.ctx, self.backend = ctx, backend
        tenant = ctx.tenant
        if tenant is None:
            empty_state(
                "key", "No workspace", "API keys belong to a workspace you are a member of."
            )
            return
        self.tenant = tenant
        ui.label(
            f"API keys for scripts in {tenant.name}. A key acts with its role in this "
            "workspace only; keep it secret."
        ).classes("opacity-70")
        allowed = (
            ROLE_ORDER[: ROLE_ORDER.index(tenant.role) + 1]
            if tenant.role in ROLE_ORDER
            else ("viewer",)
        )
        with ui.card().classes("w-full").props("flat bordered"):
            with ui.row().classes("w-full items-end gap-2"):
                self.name = ui.input("Key name", placeholder="e.g. nightly export").props(
                    "data-testid=key-name"
                )
                self.role = ui.select(list(allowed), value="viewer", label="Role")
                # the format stays visible (a hint, not a placeholder that shows only
                # while the field is focused); words like "3 months" are understood
                self.expires = (
                    ui.input("Expires after")
                    .props(f"hint='{EXPIRY_HINT}' data-testid=key-expires")
                    .classes("min-w-[16rem]")
                )
                ui.button("Create key", icon="vpn_key", on_click=self.create).props(
                    "data-testid=create-key"
                )
        self.box = ui.column().classes("w-full gap-0").props("data-testid=api-keys")
        self._render(self._load())

    def _load(self) -> list[dict[str, Any]]:
        try:
            return self.backend.api_keys(self.ctx.token, self.tenant.id)
        except Exception as exc:  # noqa: BLE001 - shown; the section stays usable
            show_error(exc, "Loading API keys")
            return []

    def _render(self, keys: list[dict[str, Any]]) -> None:
        self.box.clear()
        with self.box:
            if not keys:
                empty_state("key", "No API keys", "Create one above for a script or tool.")
            for key in keys:
                revoked = bool(key.get("revoked_at"))
                with ui.row().classes(LIST_ROW):
                    ui.label(key["name"]).classes("font-medium w-40 break-all")
                    ui.label(f"{key['prefix']}…").classes("font-mono text-caption")
                    ui.label(f"{key['user']} · {key['role']}").classes("text-body2")
                    ui.label(
                        f"created {short_time(key.get('created_at'))}, "
                        f"expires {short_time(key.get('expires_at')) or 'never'}, "
                        f"last used {short_time(key.get('last_used_at')) or 'never'}"
                    ).classes("text-caption opacity-70 gt-sm")
                    if revoked:
                        ui.badge("revoked", color="grey-7")
                    else:
                        ui.button("Revoke", on_click=lambda k=key: self.revoke(k)).props(
                            "flat dense color=negative"
                        )

    async def reload(self) -> None:
        keys = await call("Loading API keys", self.backend.api_keys, self.ctx.token, self.tenant.id)
        if not isinstance(keys, Failed):
            self._render(keys)

    async def create(self) -> None:
        made = await call(
            "Creating the key",
            self.backend.create_api_key,
            self.ctx.token,
            self.tenant.id,
            (self.name.value or "").strip(),
            self.role.value,
            (self.expires.value or "").strip() or None,
        )
        if isinstance(made, Failed):
            return
        secret, record = made
        self.name.value = ""
        self._show_once(secret, record)
        await self.reload()

    def _show_once(self, secret: str, record: dict[str, Any]) -> None:
        """The only time the key is shown; closing the dialog removes it from the page."""
        with ui.dialog().props("persistent") as dialog, ui.card().classes("w-[36rem] max-w-full"):
            ui.label(f"API key “{record['name']}” created").classes("text-h6")
            ui.label("Copy it now: it is shown only this once and cannot be recovered.").classes(
                "text-orange-10"
            )
            field = ui.input(value=secret).props("readonly outlined data-testid=new-api-key")
            field.classes("w-full font-mono")

            def close() -> None:
                field.value = ""
                dialog.close()
                dialog.delete()

            with ui.row().classes("w-full justify-end"):
                ui.button(
                    "Copy", icon="content_copy", on_click=lambda: ui.clipboard.write(field.value)
                ).props("flat")
                ui.button("I have copied it", on_click=close).props("data-testid=close-key")
        dialog.open()

    async def revoke(self, key: dict[str, Any]) -> None:
        done = await call(
            "Revoking the key",
            self.backend.revoke_api_key,
            self.ctx.token,
            self.tenant.id,
            key["id"],
        )
        if not isinstance(done, Failed):
            ui.notify(f"Key {key['name']} revoked", type="positive")
        await self.reload()
