"""Asking about some documents only: the scope travels in the Ask page's address
(`/ask?docs=id1,id2`), so a selection, a document's page or a bookmark can open it.

The ask page shows the scope as chips with a way to ask about everything again, and
passes the ids to the backend's `ask_stream(document_ids=...)`.
"""

from urllib.parse import quote

from nicegui import ui

from ui.backend import TenantChoice, UiBackend
from ui.components.context import PageContext

MAX_SCOPE = 50


def scope_url(tenant_slug: str, document_ids: list[str]) -> str:
    """The Ask page asking about these documents only."""
    ids = ",".join(quote(i, safe="") for i in document_ids[:MAX_SCOPE])
    return f"/ask?tenant={quote(tenant_slug)}&docs={ids}"


def parse_scope(docs: str) -> list[str]:
    """Document ids from the `docs` parameter (at most MAX_SCOPE, no repeats)."""
    ids = [part.strip() for part in docs.split(",") if part.strip()]
    return list(dict.fromkeys(ids))[:MAX_SCOPE]


def _title(
    ctx: PageContext, backend: UiBackend, tenant: TenantChoice, document_id: str
) -> str | None:
    """The document's title; None for a deleted or foreign id (simply left out)."""
    try:
        doc = backend.document(ctx.token, tenant.id, document_id)
    except Exception:  # noqa: BLE001 - the scope shows what is still there
        return None
    return str(doc.get("title") or document_id)


class AskScope:
    """The chips naming the documents a question is about; no chips: all documents."""

    def __init__(
        self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice, docs: str
    ) -> None:
        self.titles: dict[str, str] = {}
        for document_id in parse_scope(docs):
            title = _title(ctx, backend, tenant, document_id)
            if title is not None:
                self.titles[document_id] = title
        if not self.titles:
            return
        with ui.row().classes("w-full items-center gap-1").props("data-testid=ask-scope"):
            ui.label("Asking about:").classes("text-body2 opacity-80")
            for title in self.titles.values():
                ui.chip(title[:50], icon="description").props("dense outline")
            ui.link("ask about all documents instead", f"/ask?tenant={quote(tenant.slug)}").classes(
                "text-body2"
            ).props("data-testid=clear-scope")

    def ids(self) -> list[str] | None:
        """The documents to ask about, or None for all of them."""
        return list(self.titles) or None
