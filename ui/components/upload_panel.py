"""Adding documents: a drop area that speaks plain words (no raw byte counters), one
line per file saying what happened, and a dialog version for the dashboard.

The backend checks the editor role on every file; the panel exists only for editors.
"""

import asyncio
from collections.abc import Awaitable, Callable

from nicegui import events, ui

from ui.backend import TenantChoice, UiBackend
from ui.components.context import PageContext
from ui.components.feedback import reason, show_error

# Quasar's own header shows "0.0B / 0.00%"; this one says what is going on (NiceGUI
# names a slot's scope `props`)
_HEADER = """
<div class="row items-center no-wrap full-width q-pa-sm q-gutter-sm">
  <q-icon name="cloud_upload" size="sm" />
  <div class="col">
    <div class="q-uploader__title">Drop files here, or choose them</div>
    <div class="q-uploader__subtitle" v-if="props.isUploading">Sending files…</div>
    <div class="q-uploader__subtitle" v-else>PDF, Word, Excel, CSV, text, HTML, e-mail</div>
  </div>
  <q-spinner v-if="props.isUploading" size="sm" />
  <q-btn v-if="props.canAddFiles" no-caps unelevated dense icon="add" label="Choose files"
         color="white" text-color="primary" class="q-px-sm" data-testid="choose-files"
         @click="props.pickFiles"><q-uploader-add-trigger /></q-btn>
</div>
"""
_LIST = """
<q-list dense>
  <q-item v-for="file in props.files" :key="file.__key" class="q-px-none">
    <q-item-section>
      <q-item-label class="ellipsis">{{ file.name }}</q-item-label>
      <q-item-label caption>{{ file.__status === 'failed' ? 'could not be sent'
        : (file.__status === 'uploaded' ? 'sent' : 'sending…') }}</q-item-label>
    </q-item-section>
  </q-item>
</q-list>
"""

Done = Callable[[], Awaitable[None]]


def _outcome(result: dict[str, object]) -> tuple[str, str]:
    """(icon, words) for what the appliance did with one uploaded file."""
    if result.get("duplicate"):
        return "content_copy", "already here (same content), so it was not added again"
    state = result.get("state")
    if state in ("failed", "unsupported"):
        return "error", "could not be read; open it in the list to see why"
    if state == "indexed":
        return "check_circle", "added and ready to search"
    return "check_circle", "added; it is being read and indexed now (see its progress below)"


class UploadPanel:
    """The drop area and the per-file results; `on_done` runs after each file."""

    def __init__(
        self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice, on_done: Done | None
    ) -> None:
        self.ctx, self.backend, self.tenant, self.on_done = ctx, backend, tenant, on_done
        limit = backend.max_upload_bytes()
        with ui.card().classes("w-full gap-2").props("flat bordered data-testid=upload-card"):
            ui.label("Add documents").classes("text-subtitle1 font-medium")
            upload = ui.upload(
                multiple=True,
                auto_upload=True,
                max_file_size=limit,
                on_upload=self._uploaded,
                on_rejected=lambda: ui.notify(
                    f"Not added: a file must be smaller than {limit // 2**20} MB.",
                    type="warning",
                ),
            )
            upload.classes("w-full appliance-upload").props("data-testid=upload bordered flat")
            # no empty band under the header until files are being sent
            ui.add_css(".appliance-upload .q-uploader__list { min-height: 0; padding: 0 8px; }")
            upload.add_slot("header", _HEADER)
            upload.add_slot("list", _LIST)
            self.results = ui.column().classes("w-full gap-0").props("data-testid=upload-results")

    async def _uploaded(self, event: events.UploadEventArguments) -> None:
        name = event.file.name or "upload"
        content = await event.file.read()
        try:
            result = await asyncio.to_thread(
                self.backend.upload, self.ctx.token, self.tenant.id, name, content
            )
        except Exception as exc:  # noqa: BLE001 - reported per file, the others go on
            self._line(name, "error", f"not added: {reason(exc) or 'a server error'}")
            show_error(exc, f"Adding {name}")
            return
        icon, words = _outcome(result)
        self._line(name, icon, words)
        if self.on_done is not None:
            await self.on_done()

    def _line(self, name: str, icon: str, text: str) -> None:
        with self.results:
            with ui.row().classes("items-center gap-2 no-wrap").props("data-testid=upload-result"):
                ui.icon(icon).classes("text-negative" if icon == "error" else "text-positive")
                ui.label(f"{name}: {text}").classes("text-body2")


def upload_button(ctx: PageContext, backend: UiBackend, tenant: TenantChoice) -> None:
    """A button opening the drop area in a dialog (for pages other than Documents)."""

    def open_dialog() -> None:
        with ui.dialog() as dialog, ui.card().classes("w-[36rem] max-w-full"):
            UploadPanel(ctx, backend, tenant, None)
            with ui.row().classes("w-full justify-end"):
                ui.link("See them on the Documents page", "/documents").classes("self-center")
                ui.button("Close", on_click=dialog.close).props("flat")
        dialog.open()

    ui.button("Upload documents", icon="upload_file", on_click=open_dialog).props(
        "data-testid=dashboard-upload"
    )
