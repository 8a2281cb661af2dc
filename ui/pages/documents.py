"""Documents: drag-and-drop upload with per-file progress, a sortable, filterable table.

Upload controls exist only for editors and owners; the backend checks the role again on
every file, so a viewer who crafts the upload request is refused all the same.
"""

import asyncio
from typing import Any

from nicegui import events, ui
from starlette.formparsers import MultiPartParser
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import TenantChoice, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.dropbox import dropbox_note
from ui.components.feedback import Failed, call, reason, show_error
from ui.components.formatting import FINAL_STATES, STATES, table_row
from ui.components.layout import frame
from ui.components.widgets import empty_state, no_workspace

REFRESH_S = 0.5  # only re-queries while a listed document is still in the pipeline
_HIDE_NARROW = {"classes": "gt-sm", "headerClasses": "gt-sm"}
COLUMNS: list[dict[str, Any]] = [
    {"name": "title", "label": "Title", "field": "title", "align": "left", "sortable": True},
    {"name": "state", "label": "State", "field": "state", "align": "left", "sortable": True},
    {"name": "type", "label": "Type", "field": "type", "sortable": True, **_HIDE_NARROW},
    {"name": "source", "label": "Source", "field": "source", "sortable": True, **_HIDE_NARROW},
    {"name": "size", "label": "Size", "field": "size", "sortable": True, **_HIDE_NARROW},
    {"name": "pages", "label": "Pages", "field": "pages", "sortable": True, **_HIDE_NARROW},
    {"name": "created_at", "label": "Added", "field": "created_at", "sortable": True},
]
_TITLE_CELL = """
<q-td :props="props">
  <a :href="'/documents/' + props.row.id" class="text-primary" :data-testid="'doc-' + props.row.id"
     >{{ props.row.title }}</a>
  <div v-if="props.row.problem" class="text-negative text-caption">{{ props.row.problem }}</div>
</q-td>
"""
_STATE_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.state_color" :label="props.row.state" />
</q-td>
"""
_SIZE_CELL = '<q-td :props="props">{{ props.row.size_text }}</q-td>'
_DATE_CELL = '<q-td :props="props">{{ props.row.date_text }}</q-td>'


def keep_uploads_in_memory(limit: int) -> None:
    """Starlette spools multipart parts over 1 MiB to /tmp, where an upload would sit
    unencrypted; keep every part up to the upload limit in memory instead."""
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, limit + 1)


def register(backend: UiBackend) -> None:
    """Define /documents."""
    keep_uploads_in_memory(backend.max_upload_bytes())

    @ui.page("/documents", title="Documents · Agent Appliance")
    def documents_page(
        request: Request, state: str = "", q: str = "", tenant: str = ""
    ) -> RedirectResponse | None:
        ctx = open_page(backend, request, tenant or None)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Documents", "/documents"):
            current = ctx.tenant
            if current is None:
                no_workspace()
                return None
            DocumentsView(ctx, backend, current, state if state in STATES else "", q)
        return None


class DocumentsView:
    """The table, its filters and (for editors) the upload area of one tenant."""

    def __init__(
        self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice, state: str, q: str
    ) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        with ui.row().classes("w-full items-center justify-between"):
            ui.label("Documents").classes("text-h5")
            self.count = ui.label().classes("opacity-70").props("data-testid=document-count")
        if tenant.can_edit:
            self._upload_area()
        self._filters(state, q)
        self.table = (
            ui.table(
                rows=[],
                columns=COLUMNS,
                row_key="id",
                pagination={"rowsPerPage": 25, "sortBy": "created_at", "descending": True},
            )
            .classes("w-full")
            .props("flat bordered data-testid=documents-table")
        )
        for slot, template in (
            ("body-cell-title", _TITLE_CELL),
            ("body-cell-state", _STATE_CELL),
            ("body-cell-size", _SIZE_CELL),
            ("body-cell-created_at", _DATE_CELL),
        ):
            self.table.add_slot(slot, template)
        self.empty = ui.column().classes("w-full")
        self._show(self._fetch_now())
        ui.timer(REFRESH_S, self._refresh_if_busy)

    # -- filters -----------------------------------------------------------------------
    def _filters(self, state: str, q: str) -> None:
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

    async def _mode_changed(self) -> None:
        label = "Search contents" if self.semantic.value else "Search titles"
        self.search.props(f"label='{label}'")
        await self.refresh()

    def _query(self) -> dict[str, Any]:
        return {
            "state": self.state.value or None,
            "q": (self.search.value or "").strip() or None,
            "semantic": bool(self.semantic.value),
        }

    # -- table ---------------------------------------------------------------------------
    def _fetch_now(self) -> list[dict[str, Any]]:
        try:
            return self.backend.documents(self.ctx.token, self.tenant.id, **self._query())
        except Exception as exc:  # noqa: BLE001 - shown as a notice; the page still renders
            show_error(exc, "Loading documents")
            return []

    def _show(self, documents: list[dict[str, Any]]) -> None:
        rows = [table_row(d) for d in documents]
        if rows != self.table.rows:
            self.table.rows = rows
            self.table.update()
        self.count.text = f"{len(rows)} shown"
        filtered = any(v for k, v in self._query().items() if k != "semantic")
        self.table.set_visibility(bool(rows))
        self.empty.clear()
        if not rows:
            with self.empty:
                if filtered:
                    empty_state("filter_alt_off", "Nothing matches", "Clear the filter or search.")
                elif self.tenant.can_edit:
                    empty_state(
                        "upload_file", "No documents yet", "Drop files on the upload area above."
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

    # -- upload --------------------------------------------------------------------------
    def _upload_area(self) -> None:
        limit = self.backend.max_upload_bytes()
        with ui.card().classes("w-full gap-2").props("flat bordered"):
            ui.label("Add documents").classes("text-subtitle1 font-medium")
            ui.upload(
                multiple=True,
                auto_upload=True,
                max_file_size=limit,
                on_upload=self._uploaded,
                on_rejected=lambda: ui.notify(
                    f"Not uploaded: files must be smaller than {limit // 2**20} MiB.",
                    type="warning",
                ),
                label="Drop files here, or click + to choose",
            ).classes("w-full").props("data-testid=upload bordered flat")
            self.results = ui.column().classes("w-full gap-0").props("data-testid=upload-results")

    async def _uploaded(self, event: events.UploadEventArguments) -> None:
        name = event.file.name or "upload"
        content = await event.file.read()
        try:
            result = await asyncio.to_thread(
                self.backend.upload, self.ctx.token, self.tenant.id, name, content
            )
        except Exception as exc:  # noqa: BLE001 - reported per file, the others go on
            self._result(name, "error", f"not added: {reason(exc) or 'server error'}")
            show_error(exc, f"Uploading {name}")
            return
        if result.get("duplicate"):
            self._result(name, "content_copy", "already here (same content), not added again")
        else:
            self._result(name, "check_circle", f"received, now {result.get('state')}")
        await self.refresh()

    def _result(self, name: str, icon: str, text: str) -> None:
        with self.results:
            with ui.row().classes("items-center gap-2 no-wrap").props("data-testid=upload-result"):
                ui.icon(icon).classes("text-negative" if icon == "error" else "text-positive")
                ui.label(f"{name}: {text}").classes("text-body2")
