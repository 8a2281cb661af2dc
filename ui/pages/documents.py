"""Documents: drag-and-drop upload, a sortable, filterable table (cards on narrow
screens) with tags and a selection to ask about, tag or delete; search by meaning lists
the best matches first with the passage that matched.

Upload controls exist only for editors and owners; the backend checks the role again on
every file, so a viewer who crafts the upload request is refused all the same.
"""

from typing import Any

from nicegui import ui
from starlette.formparsers import MultiPartParser
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import TenantChoice, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.document_selection import SelectionBar
from ui.components.documents_table import documents_table
from ui.components.dropbox import dropbox_note
from ui.components.feedback import Failed, call, show_error
from ui.components.formatting import FINAL_STATES, STATES, table_row
from ui.components.layout import frame
from ui.components.meaning_results import meaning_results
from ui.components.upload_panel import UploadPanel
from ui.components.widgets import empty_state, no_workspace

REFRESH_S = 0.5  # only re-queries while a listed document is still in the pipeline


def keep_uploads_in_memory(limit: int) -> None:
    """Starlette spools multipart parts over 1 MiB to /tmp, where an upload would sit
    unencrypted; keep every part up to the upload limit in memory instead."""
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, limit + 1)


def register(backend: UiBackend) -> None:
    """Define /documents."""
    keep_uploads_in_memory(backend.max_upload_bytes())

    @ui.page("/documents", title="Documents · Agent Appliance")
    def documents_page(
        request: Request, state: str = "", q: str = "", tenant: str = "", tag: str = ""
    ) -> RedirectResponse | None:
        ctx = open_page(backend, request, tenant or None)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Documents", "/documents"):
            current = ctx.tenant
            if current is None:
                no_workspace()
                return None
            DocumentsView(ctx, backend, current, state if state in STATES else "", q, tag)
        return None


class DocumentsView:
    """The table, its filters, the selection bar and (for editors) the upload area."""

    def __init__(
        self,
        ctx: PageContext,
        backend: UiBackend,
        tenant: TenantChoice,
        state: str,
        q: str,
        tag: str = "",
    ) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        with ui.row().classes("w-full items-center justify-between"):
            ui.label("Documents").classes("text-h5")
            self.count = ui.label().classes("opacity-70").props("data-testid=document-count")
        if tenant.can_edit:
            UploadPanel(ctx, backend, tenant, self.refresh)
        self._filters(state, q, tag)
        self.selection = SelectionBar(ctx, backend, tenant, self._selected_ids, self.refresh)
        self.table = documents_table(selectable=True)
        self.table.on("selection", lambda _: self.selection.update())
        self.results = ui.column().classes("w-full")
        self.empty = ui.column().classes("w-full")
        self._show(self._fetch_now())
        ui.timer(REFRESH_S, self._refresh_if_busy)

    def _selected_ids(self) -> list[str]:
        table = getattr(self, "table", None)  # the bar is drawn above the table
        return [str(row["id"]) for row in table.selected] if table is not None else []

    # -- filters -----------------------------------------------------------------------
    def _filters(self, state: str, q: str, tag: str) -> None:
        with ui.row().classes("w-full items-center gap-3"):
            self.state = (
                ui.select(
                    {"": "All states", **{s: s for s in STATES}},
                    value=state,
                    label="State",
                    on_change=self.refresh,
                )
                .classes("min-w-[10rem]")
                .props("dense outlined data-testid=state-filter")
            )
            self.search = (
                ui.input("Search titles", value=q, on_change=self.refresh)
                .classes("flex-1 min-w-[12rem]")
                .props("dense outlined clearable debounce=300 data-testid=search")
            )
            with self.search.add_slot("prepend"):
                ui.icon("search")
            self.semantic = ui.switch("Search by meaning", on_change=self._mode_changed).props(
                "data-testid=semantic-switch"
            )
            self.semantic.set_visibility(self.backend.semantic_search_available())
            self.tag = (
                ui.select(self._tag_options(tag), value=tag, label="Tag", on_change=self.refresh)
                .classes("min-w-[8rem]")
                .props("dense outlined data-testid=tag-filter")
            )

    def _tag_options(self, current: str) -> dict[str, str]:
        try:
            found = self.backend.all_tags(self.ctx.token, self.tenant.id)
        except Exception:  # noqa: BLE001 - no tags to offer is not worth a notice
            found = []
        options = {"": "All tags", **{t: f"{t} ({n})" for t, n in found}}
        if current and current not in options:
            options[current] = current
        return options

    async def _mode_changed(self) -> None:
        label = "Search contents" if self.semantic.value else "Search titles"
        self.search.props(f"label='{label}'")
        await self.refresh()

    def _query(self) -> dict[str, Any]:
        return {
            "state": self.state.value or None,
            "q": (self.search.value or "").strip() or None,
            "semantic": bool(self.semantic.value),
            "tag": self.tag.value or None,
        }

    def _by_meaning(self) -> bool:
        return bool(self.semantic.value and (self.search.value or "").strip())

    # -- table ---------------------------------------------------------------------------
    def _fetch_now(self) -> list[dict[str, Any]]:
        try:
            return self.backend.documents(self.ctx.token, self.tenant.id, **self._query())
        except Exception as exc:  # noqa: BLE001 - shown as a notice; the page still renders
            show_error(exc, "Loading documents")
            return []

    def _show(self, documents: list[dict[str, Any]]) -> None:
        rows = [table_row(d) for d in documents]
        meaning = self._by_meaning()
        if meaning:
            self.results.clear()
            with self.results:
                meaning_results(self.tenant, documents)
        if rows != self.table.rows:
            kept = {row["id"] for row in rows}
            self.table.selected[:] = [r for r in self.table.selected if r["id"] in kept]
            self.table.rows = rows
            self.table.update()
            self.selection.update()
        self.count.text = f"{len(rows)} shown"
        filtered = any(v for k, v in self._query().items() if k != "semantic")
        self.table.set_visibility(bool(rows) and not meaning)
        self.results.set_visibility(bool(rows) and meaning)
        self.empty.clear()
        if not rows:
            with self.empty:
                self._nothing(filtered)

    def _nothing(self, filtered: bool) -> None:
        query = (self.search.value or "").strip()
        if query and not self.semantic.value and self.semantic.visible:
            empty_state(
                "manage_search",
                f"No title contains “{query}”",
                "Search by meaning looks inside the documents instead.",
            )
            ui.button(
                "Search inside the documents by meaning",
                icon="travel_explore",
                on_click=lambda: self.semantic.set_value(True),
            ).classes("self-center").props("data-testid=try-meaning")
        elif filtered:
            empty_state("filter_alt_off", "Nothing matches", "Clear the filter or search.")
        elif self.tenant.can_edit:
            empty_state(
                "upload_file",
                "No documents yet",
                "Drop files on the upload area above.",
            )
            dropbox_note(self.ctx.backend, self.ctx.token, self.tenant.id, self.tenant.name)
        else:
            empty_state("description", "No documents yet", "Editors can add documents.")

    async def refresh(self) -> None:
        documents = await call(
            "Loading documents",
            self.backend.documents,
            self.ctx.token,
            self.tenant.id,
            **self._query(),
        )
        if not isinstance(documents, Failed):
            self._show(documents)

    async def _refresh_if_busy(self) -> None:
        # only while something is still moving through the pipeline
        if any(row["state"] not in FINAL_STATES for row in self.table.rows):
            await self.refresh()
