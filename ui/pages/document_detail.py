"""One document: state, failure reason in plain words, metadata, page-aware text,
original download and (editors) delete with confirmation.

Opened from the table or from an answer's citation chip (`?page=N&cite=T-N` highlights
the cited passage on that page).
"""

import html
import re
from typing import Any

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import SessionExpired, TenantChoice, UiBackend
from ui.components.context import EXPIRED, PageContext, open_page
from ui.components.document_facts import document_facts
from ui.components.document_tools import DocumentTools
from ui.components.feedback import Failed, call
from ui.components.formatting import (
    FINAL_STATES,
    failure_code,
    failure_hint,
    failure_text,
    progress_text,
)
from ui.components.layout import frame
from ui.components.widgets import empty_state, state_badge

ORIGINAL_URL = "/ui-files/{tenant_id}/documents/{document_id}/original"
REFRESH_S = 1.0  # the elapsed time of a document in the pipeline ticks by the second


def original_url(tenant_id: str, document_id: str) -> str:
    """Where the browser downloads the decrypted original (checked against the session)."""
    return ORIGINAL_URL.format(tenant_id=tenant_id, document_id=document_id)


def register(backend: UiBackend) -> None:
    """Define /documents/{document_id}."""

    @ui.page("/documents/{document_id}", title="Document · Agent Appliance")
    def document_page(
        request: Request, document_id: str, page: int = 1, tenant: str = "", cite: str = ""
    ) -> RedirectResponse | None:
        ctx = open_page(backend, request, tenant or None)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Document", "/documents"):
            ui.link("← All documents", "/documents").classes("text-body2")
            current = ctx.tenant
            document: dict[str, Any] | None = None
            if current is not None:
                try:
                    document = backend.document(ctx.token, current.id, document_id)
                except Exception as exc:  # noqa: BLE001 - unknown ids look like deleted ones
                    if isinstance(exc, SessionExpired):
                        ui.navigate.to(EXPIRED)
            if current is None or document is None:
                empty_state(
                    "search_off",
                    "Document not found",
                    "It may have been deleted, or it belongs to another workspace.",
                )
                return None
            DocumentView(ctx, backend, current, document, page, _quote(ctx, current.id, cite))
        return None


def _quote(ctx: PageContext, tenant_id: str, cite: str) -> str | None:
    """The quoted passage of citation `turn-number` from this session's conversation."""
    turn_index, _, number = cite.partition("-")
    if not turn_index.isdigit() or not number.isdigit():
        return None
    turns = ctx.state.conversation(tenant_id)
    if int(turn_index) >= len(turns):
        return None
    for citation in turns[int(turn_index)].citations:
        if str(citation.get("number")) == number:
            return str(citation.get("quote") or "") or None
    return None


def highlighted(text: str, quote: str | None) -> str:
    """Escaped page text as HTML, with the quoted passage (whitespace-insensitive) in <mark>."""
    words = (quote or "").split()[:40]
    match = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
    if match is None:
        return html.escape(text)
    start, end = match.span()
    return (
        html.escape(text[:start])
        + "<mark data-testid=cited-passage>"
        + html.escape(text[start:end])
        + "</mark>"
        + html.escape(text[end:])
    )


class DocumentView:
    def __init__(
        self,
        ctx: PageContext,
        backend: UiBackend,
        tenant: TenantChoice,
        document: dict[str, Any],
        page: int,
        quote: str | None,
    ) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        self.document = document
        self.page = page
        self.quote = quote
        self.pages = self._pages()
        self.body = ui.column().classes("w-full gap-4")
        self._render()
        if document["state"] not in FINAL_STATES:
            self.timer = ui.timer(REFRESH_S, self._follow)

    def _pages(self) -> list[tuple[int, str]]:
        try:
            return self.backend.document_pages(self.ctx.token, self.tenant.id, self.document["id"])
        except Exception:  # noqa: BLE001 - no text yet is shown as such
            return []

    async def _follow(self) -> None:
        """While the document moves through the pipeline, show each new state."""
        doc = await call(
            "Loading the document",
            self.backend.document,
            self.ctx.token,
            self.tenant.id,
            self.document["id"],
        )
        if isinstance(doc, Failed):
            return
        self.progress.text = progress_text(doc)  # the elapsed time ticks on
        if doc == self.document:
            return
        self.document = doc
        self.pages = self._pages()
        self._render()
        if doc["state"] in FINAL_STATES:
            self.timer.cancel()

    def _render(self) -> None:
        doc = self.document
        self.body.clear()
        with self.body:
            with ui.row().classes("w-full items-center gap-3"):
                ui.label(doc["title"]).classes("text-h5 break-all").props(
                    "data-testid=document-title"
                )
                state_badge(doc["state"])
                self.progress = (
                    ui.label(progress_text(doc))
                    .classes("text-body2 opacity-80")
                    .props("data-testid=doc-progress")
                )
            self._failure(doc)
            self._actions(doc)
            # text first on narrow screens (a citation opens here), beside the details on wide
            with ui.row().classes("w-full gap-4 items-start flex-col md:flex-row-reverse"):
                self._text()
                self._metadata(doc)
            # below the text: a cited passage opened here comes first
            if doc["state"] in ("parsed", "indexing", "indexed"):
                DocumentTools(self.ctx, self.backend, self.tenant, self._with_tags(doc))

    def _with_tags(self, doc: dict[str, Any]) -> dict[str, Any]:
        try:
            tags = self.backend.tags_of(self.ctx.token, self.tenant.id, [doc["id"]])
        except Exception:  # noqa: BLE001 - the tools still work without the tags shown
            tags = {}
        return {**doc, "tags": tags.get(doc["id"], [])}

    def _failure(self, doc: dict[str, Any]) -> None:
        text = failure_text(doc)
        if text is None:
            return
        with (
            ui.card()
            .classes("w-full bg-red-1 text-negative")
            .props("flat bordered data-testid=failure")
        ):
            title = (
                "This file type is not supported"
                if doc["state"] == "unsupported"
                else ("This document could not be processed")
            )
            ui.label(title).classes("text-subtitle1 font-medium")
            ui.label(text)
            hint = failure_hint(doc)
            if hint:
                ui.label(f"What you can do: {hint}").classes("text-body2")
            code = failure_code(doc)
            if code:
                ui.label(f"for support: {code}").classes("text-caption opacity-70")

    def _actions(self, doc: dict[str, Any]) -> None:
        with ui.row().classes("gap-2"):
            url = original_url(self.tenant.id, doc["id"])
            ui.button(
                "Download original", icon="download", on_click=lambda: ui.download.from_url(url)
            ).props("outline data-testid=download-original")
            if self.tenant.can_edit:
                ui.button("Delete", icon="delete", on_click=self._confirm_delete).props(
                    "outline color=negative data-testid=delete-document"
                )

    def _confirm_delete(self) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label(f"Delete “{self.document['title']}”?").classes("text-h6")
            ui.label(
                "Its text, original file and search index entries are removed. "
                "This cannot be undone."
            )
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")

                async def delete() -> None:
                    done = await call(
                        "Deleting",
                        self.backend.delete_document,
                        self.ctx.token,
                        self.tenant.id,
                        self.document["id"],
                    )
                    dialog.close()
                    if not isinstance(done, Failed):
                        ui.notify("Document deleted", type="positive")
                        ui.navigate.to("/documents")

                ui.button("Delete", on_click=delete).props(
                    "color=negative data-testid=confirm-delete"
                )
        dialog.open()

    def _metadata(self, doc: dict[str, Any]) -> None:
        with ui.card().classes("w-full md:w-80 gap-1").props("flat bordered data-testid=metadata"):
            ui.label("Details").classes("text-subtitle1 font-medium")
            for label, value in document_facts(doc):
                with ui.row().classes("w-full gap-2 no-wrap"):
                    ui.label(label).classes("w-28 shrink-0 opacity-70 text-body2")
                    ui.label(value).classes("text-body2 break-all")

    def _text(self) -> None:
        with ui.card().classes("w-full md:w-0 md:flex-1 gap-2").props("flat bordered"):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("Extracted text").classes("text-subtitle1 font-medium")
                label = (
                    ui.label().classes("text-caption opacity-70").props("data-testid=page-label")
                )
            if not self.pages:
                ui.label("No text yet: it appears once the document has been read.").classes(
                    "opacity-70"
                )
                return
            numbers = [number for number, _ in self.pages]
            page = self.page if self.page in numbers else numbers[0]
            texts = dict(self.pages)
            if len(numbers) > 1:
                ui.pagination(
                    min(numbers),
                    max(numbers),
                    direction_links=True,
                    value=page,
                    on_change=lambda e: show(int(e.value)),
                ).props("max-pages=7 boundary-numbers data-testid=page-picker")
            view = (
                ui.html("", sanitize=False)
                .classes("whitespace-pre-wrap text-body2 max-h-[65vh] overflow-auto w-full")
                .props("data-testid=page-text tabindex=0 aria-live=polite")
            )

            def show(number: int) -> None:
                self.page = number
                # the cited passage is marked on the cited page only
                quote = self.quote if number == page else None
                view.set_content(highlighted(texts.get(number, ""), quote))
                label.text = f"Page {number} of {len(numbers)}"

            show(page)
