"""What can be done with the documents ticked in the list: ask about them, tag them, or
delete them (the last two for editors; the backend checks the role again)."""

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from nicegui import ui

from ui.backend import TenantChoice, UiBackend
from ui.components.ask_scope import scope_url
from ui.components.context import PageContext
from ui.components.feedback import Failed, call

Reload = Callable[[], Awaitable[None]]


class SelectionBar:
    """Shown while at least one document is ticked; `selected()` gives their ids."""

    def __init__(
        self,
        ctx: PageContext,
        backend: UiBackend,
        tenant: TenantChoice,
        selected: Callable[[], list[str]],
        reload: Reload,
    ) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        self.selected, self.reload = selected, reload
        self.root = ui.context.client.content
        with (
            ui.row()
            .classes("w-full items-center gap-2 p-2 rounded-borders bg-blue-1 text-black")
            .props("data-testid=selection-bar") as self.bar
        ):
            self.count = ui.label().classes("font-medium").props("data-testid=selected-count")
            ui.button("Ask about these", icon="forum", on_click=self._ask).props(
                "flat dense no-caps data-testid=ask-selected"
            )
            if tenant.can_edit:
                self.tag = (
                    ui.input(placeholder="tag, e.g. invoices")
                    .classes("w-40")
                    .props("dense outlined maxlength=40 data-testid=tag-input")
                )
                self.tag.on("keydown.enter", self._add_tag)
                ui.button("Add tag", icon="sell", on_click=self._add_tag).props(
                    "flat dense no-caps data-testid=add-tag"
                )
                ui.button("Delete", icon="delete", on_click=self._confirm_delete).props(
                    "flat dense no-caps color=negative data-testid=delete-selected"
                )
        self.update()

    def update(self) -> None:
        ids = self.selected()
        self.bar.set_visibility(bool(ids))
        self.count.text = f"{len(ids)} selected" if ids else ""

    def _ask(self) -> None:
        ui.navigate.to(scope_url(self.tenant.slug, self.selected()))

    async def _add_tag(self) -> None:
        tag = (self.tag.value or "").strip()
        if not tag:
            self.tag.props("error error-message='Type a tag first'")
            return
        self.tag.props(remove="error error-message")
        done = await call(
            "Adding the tag",
            self.backend.change_tags,
            self.ctx.token,
            self.tenant.id,
            self.selected(),
            [tag],
            [],
        )
        if not isinstance(done, Failed):
            self.tag.value = ""
            with self.root:
                ui.notify(f"Tagged {len(self.selected())} with “{tag}”", type="positive")
            await self.reload()

    def _confirm_delete(self) -> None:
        ids = self.selected()
        with self.root, ui.dialog() as dialog, ui.card():
            ui.label(f"Delete {len(ids)} documents?").classes("text-h6")
            ui.label(
                "Their text, original files and search entries are removed. This cannot be undone."
            )

            async def delete() -> None:
                gone = await call(
                    "Deleting", self.backend.delete_documents, self.ctx.token, self.tenant.id, ids
                )
                dialog.close()
                if not isinstance(gone, Failed):
                    with self.root:
                        ui.notify(f"{gone} documents deleted", type="positive")
                    await self.reload()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Delete", on_click=delete).props(
                    "color=negative data-testid=confirm-delete-selected"
                )
        dialog.open()


def tag_link(tag: str) -> str:
    """The documents list filtered by one tag."""
    return f"/documents?tag={quote(tag)}"
