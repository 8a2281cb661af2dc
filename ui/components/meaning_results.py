"""Search by meaning: documents in order of relevance, each with the passage that matched,
its page and how well it matched. A list, not the sortable table: re-sorting by date
would hide the order that is the point of this search."""

from typing import Any
from urllib.parse import quote

from nicegui import ui

from ui.backend import TenantChoice
from ui.components.widgets import state_badge


def relevance_text(score: float) -> str:
    """0.873 -> 'match 87%'."""
    return f"match {round(max(0.0, min(1.0, score)) * 100)}%"


def result_url(tenant: TenantChoice, result: dict[str, Any]) -> str:
    """The document page at the matching passage's page."""
    page = int(result.get("page") or 1)
    return f"/documents/{quote(str(result['id']))}?page={page}&tenant={quote(tenant.slug)}"


def meaning_results(tenant: TenantChoice, results: list[dict[str, Any]]) -> None:
    """One card per document, best match first."""
    with ui.column().classes("w-full gap-2").props("data-testid=meaning-results"):
        for rank, result in enumerate(results, 1):
            with (
                ui.card()
                .classes("w-full gap-1")
                .props(f"flat bordered data-testid=meaning-result data-rank={rank}")
            ):
                with ui.row().classes("w-full items-center gap-2"):
                    ui.link(
                        result.get("title") or result["id"], result_url(tenant, result)
                    ).classes("text-subtitle1 font-medium break-all flex-1").props(
                        "data-testid=meaning-title"
                    )
                    state_badge(str(result.get("state", "")))
                    ui.badge(
                        relevance_text(float(result.get("score") or 0)), color="blue-grey-6"
                    ).props("outline data-testid=meaning-score")
                ui.label(str(result.get("snippet") or "")).classes("text-body2").props(
                    "data-testid=meaning-snippet"
                )
                ui.label(f"page {int(result.get('page') or 1)}").classes("text-caption opacity-70")
