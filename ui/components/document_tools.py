"""The model's work on one document, from its page: a summary, which of your labels fits,
and named fields read out of it. Also the document's tags (editors change them) and a
way to ask questions about this document only."""

from typing import Any

from nicegui import ui

from ui.backend import TenantChoice, UiBackend
from ui.components.ask_scope import scope_url
from ui.components.context import PageContext
from ui.components.document_selection import tag_link
from ui.components.feedback import Failed, call

WAIT_NOTE = "The language model is working; on this machine that can take a minute."


def _words(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class DocumentTools:
    """The 'Work with this document' card of one indexed (or parsed) document."""

    def __init__(
        self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice, doc: dict[str, Any]
    ) -> None:
        self.ctx, self.backend, self.tenant, self.doc = ctx, backend, tenant, doc
        with ui.card().classes("w-full gap-2").props("flat bordered data-testid=document-tools"):
            ui.label("Work with this document").classes("text-subtitle1 font-medium")
            self._tags()
            with ui.row().classes("w-full gap-2 items-center"):
                ui.button(
                    "Ask about this document",
                    icon="forum",
                    on_click=lambda: ui.navigate.to(scope_url(tenant.slug, [doc["id"]])),
                ).props("outline no-caps data-testid=ask-document")
                if backend.language_model_available():
                    ui.button("Summarize", icon="summarize", on_click=self._summarize).props(
                        "outline no-caps data-testid=summarize"
                    )
            if backend.language_model_available():
                self._classify_and_extract()
            self.busy = ui.row().classes("items-center gap-2").props("data-testid=tool-busy")
            with self.busy:
                ui.spinner(size="sm")
                self.busy_label = ui.label(WAIT_NOTE).classes("text-body2 opacity-80")
            self.busy.set_visibility(False)
            self.output = ui.column().classes("w-full gap-1").props("data-testid=tool-output")

    # -- tags ---------------------------------------------------------------------------
    def _tags(self) -> None:
        self.tag_row = ui.row().classes("w-full items-center gap-1").props("data-testid=doc-tags")
        self._draw_tags(list(self.doc.get("tags") or []))

    def _draw_tags(self, tags: list[str]) -> None:
        self.tag_row.clear()
        with self.tag_row:
            ui.label("Tags:").classes("text-body2 opacity-80")
            if not tags:
                ui.label("none").classes("text-body2 opacity-60")
            for tag in tags:
                chip = ui.chip(tag, icon="sell").props("dense outline data-testid=doc-tag")
                chip.on("click", lambda t=tag: ui.navigate.to(tag_link(t)))
                if self.tenant.can_edit:
                    chip.props("removable").on("remove", lambda t=tag: self._change([], [t]))
            if self.tenant.can_edit:
                box = ui.input(placeholder="add a tag").classes("w-36")
                box.props("dense outlined maxlength=40 data-testid=doc-tag-input")
                box.on("keydown.enter", lambda: self._change([box.value or ""], []))

    async def _change(self, add: list[str], remove: list[str]) -> None:
        add = [a.strip() for a in add if a.strip()]
        if not add and not remove:
            return
        done = await call(
            "Changing tags",
            self.backend.change_tags,
            self.ctx.token,
            self.tenant.id,
            [self.doc["id"]],
            add,
            remove,
        )
        if isinstance(done, Failed):
            return
        found = await call(
            "Loading tags", self.backend.tags_of, self.ctx.token, self.tenant.id, [self.doc["id"]]
        )
        if not isinstance(found, Failed):
            self._draw_tags(found.get(self.doc["id"], []))

    # -- model tools --------------------------------------------------------------------
    def _classify_and_extract(self) -> None:
        with ui.row().classes("w-full gap-2 items-center no-wrap"):
            self.labels = (
                ui.input("Which of these fits? (comma-separated)", placeholder="invoice, letter")
                .classes("flex-1")
                .props("dense outlined data-testid=classify-labels")
            )
            ui.button("Classify", on_click=self._classify).props(
                "outline no-caps data-testid=classify"
            )
        with ui.row().classes("w-full gap-2 items-center no-wrap"):
            self.fields = (
                ui.input("Fields to read out (comma-separated)", placeholder="sender, total, date")
                .classes("flex-1")
                .props("dense outlined data-testid=extract-fields")
            )
            ui.button("Extract", on_click=self._extract).props(
                "outline no-caps data-testid=extract"
            )

    async def _run(self, action: str, fn: Any, *args: Any) -> Any:
        self.output.clear()
        self.busy.set_visibility(True)
        try:
            return await call(action, fn, self.ctx.token, self.tenant.id, self.doc["id"], *args)
        finally:
            self.busy.set_visibility(False)

    async def _summarize(self) -> None:
        summary = await self._run("Summarizing", self.backend.summarize_document)
        if isinstance(summary, Failed):
            return
        with self.output:
            ui.label("Summary").classes("font-medium")
            text = summary.strip() or "The model gave no summary for this document."
            ui.label(text).classes("text-body2 whitespace-pre-wrap").props("data-testid=summary")

    async def _classify(self) -> None:
        labels = _words(self.labels.value or "")
        if len(labels) < 2:
            self.labels.props(
                "error error-message='Give at least two labels, e.g. invoice, letter'"
            )
            return
        self.labels.props(remove="error error-message")
        label = await self._run("Classifying", self.backend.classify_document, labels)
        if not isinstance(label, Failed):
            with self.output:
                ui.label(f"Best fit: {label}").classes("text-body1").props("data-testid=classified")

    async def _extract(self) -> None:
        fields = _words(self.fields.value or "")
        if not fields:
            self.fields.props("error error-message='Name at least one field, e.g. sender'")
            return
        self.fields.props(remove="error error-message")
        data = await self._run("Extracting", self.backend.extract_fields, fields)
        if isinstance(data, Failed):
            return
        with self.output, ui.column().classes("w-full gap-0").props("data-testid=extracted"):
            for name in fields:
                with ui.row().classes("w-full gap-2 no-wrap"):
                    ui.label(name).classes("w-32 shrink-0 opacity-70 text-body2")
                    ui.label(str(data.get(name) or "—")).classes("text-body2 break-all")
