"""Dashboard: documents per state, queue, recent arrivals and failures, model status.

Figures refresh every few seconds without a reload; the section is redrawn only when
something changed, so an idle dashboard sends nothing over the websocket.
"""

from functools import partial

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import Dashboard, DocumentsBackend, ModelStatus, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.dropbox import dropbox_note
from ui.components.feedback import Failed, call
from ui.components.formatting import STATES, failure_text, human_size, short_time
from ui.components.layout import frame
from ui.components.upload_panel import upload_button
from ui.components.widgets import empty_state, section_title, stat_tile, state_badge

REFRESH_S = 2.0


def _counts(ctx: PageContext, data: Dashboard) -> None:
    with ui.row().classes("w-full gap-3"):
        for state in STATES:
            if state in ("parsing", "indexing") and not data.counts.get(state):
                continue  # transient states only when something is in them
            stat_tile(
                state,
                data.counts.get(state, 0),
                f"count-{state}",
                on_click=partial(ui.navigate.to, f"/documents?state={state}"),
            )


def _queue_and_models(data: Dashboard) -> None:
    with ui.row().classes("w-full gap-3 items-stretch"):
        with ui.card().classes("flex-1 min-w-[16rem]").props("data-testid=queue-card"):
            ui.label("Work queue").classes("text-subtitle1 font-medium")
            queue = data.queue
            running = "running" if queue.get("running") else "stopped"
            ui.label(f"{queue.get('pending', 0)} waiting").props("data-testid=queue-depth")
            ui.label(
                f"{queue.get('busy_workers', 0)} of {queue.get('workers', 0)} workers busy"
            ).props("data-testid=queue-busy")
            ui.label(f"Workers {running}").classes("text-caption opacity-70")
        with ui.card().classes("flex-1 min-w-[16rem]").props("data-testid=models-card"):
            ui.label("Models").classes("text-subtitle1 font-medium")
            for model in data.models:
                _model_line(model)


def model_state(model: ModelStatus) -> str:
    """A model's state in words that do not read as a fault when it is simply idle."""
    if model.loaded:
        memory = f", {human_size(model.memory_bytes)}" if model.memory_bytes else ""
        return f"ready (in memory{memory})"
    if model.detail == "not started":  # no model file: the runtime built no LLM
        return "not installed; search works, questions cannot be answered"
    if model.kind == "embeddings":
        return "ready; loads when documents are indexed or searched"
    return "ready; loads on the first question"


def _model_line(model: ModelStatus) -> None:
    with ui.row().classes("items-center gap-2 no-wrap"):
        ui.icon("check_circle" if model.loaded else "schedule").classes(
            "text-positive" if model.loaded else "opacity-60"
        )
        with ui.column().classes("gap-0"):
            state = model_state(model)
            ui.label(f"{model.kind}: {state}").props(f"data-testid='model-{model.kind}'")
            detail = model.detail if model.detail not in ("", "not started") else ""
            ui.label(model.name + (f" — {detail}" if detail else "")).classes(
                "text-caption opacity-70 break-all"
            )


def _recent(ctx: PageContext, data: Dashboard) -> None:
    with ui.row().classes("w-full gap-3 items-stretch"):
        if data.recent:  # with nothing yet, the "No documents yet" hint above says it
            _arrivals(data)
        with ui.card().classes("flex-1 min-w-[18rem]").props("data-testid=failures-card"):
            section_title("Recent failures")
            if not data.failures:
                ui.label("No failures. Everything that arrived could be read.").classes(
                    "opacity-70"
                )
            for doc in data.failures:
                with ui.column().classes("w-full gap-0"):
                    ui.link(doc["title"], f"/documents/{doc['id']}").classes("truncate")
                    ui.label(failure_text(doc) or doc["state"]).classes(
                        "text-caption text-negative"
                    )


def _arrivals(data: Dashboard) -> None:
    with ui.card().classes("flex-1 min-w-[18rem]").props("data-testid=recent-card"):
        section_title("Recent arrivals")
        for doc in data.recent:
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                state_badge(doc["state"])
                ui.link(doc["title"], f"/documents/{doc['id']}").classes("truncate flex-1")
                ui.label(short_time(doc.get("created_at"))).classes("text-caption opacity-70 gt-xs")


def register(backend: UiBackend) -> None:
    """Define / (the dashboard)."""

    @ui.page("/", title="Dashboard · Agent Appliance")
    def dashboard_page(request: Request) -> RedirectResponse | None:
        ctx = open_page(backend, request)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Dashboard", "/"):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("Dashboard").classes("text-h5").props("data-testid=dashboard-title")
                if ctx.tenant is not None and ctx.tenant.can_edit:
                    upload_button(ctx, backend, ctx.tenant)
            tenant = ctx.tenant
            if tenant is None:
                hint = (
                    "Create a workspace or add yourself to one on the Admin page."
                    if ctx.user.is_admin
                    else "Ask an administrator to add you to a workspace."
                )
                empty_state("apartment", "You are not a member of any workspace yet", hint)
                return None
            _live_dashboard(ctx, backend, tenant.id, tenant.slug)
        return None


def _live_dashboard(ctx: PageContext, backend: DocumentsBackend, tenant_id: str, slug: str) -> None:
    shown: list[Dashboard] = [backend.dashboard(ctx.token, tenant_id)]

    @ui.refreshable
    def body() -> None:
        data = shown[0]
        if sum(data.counts.values()) == 0:
            empty_state(
                "upload_file",
                "No documents yet",
                "Use “Upload documents” above, or the Documents page.",
            )
            if ctx.tenant is not None:
                dropbox_note(ctx.backend, ctx.token, tenant_id, ctx.tenant.name)
        _counts(ctx, data)
        _queue_and_models(data)
        _recent(ctx, data)

    body()

    async def refresh() -> None:
        data = await call("Refreshing the dashboard", backend.dashboard, ctx.token, tenant_id)
        if isinstance(data, Failed) or data == shown[0]:
            return
        shown[0] = data
        body.refresh()

    ui.timer(REFRESH_S, refresh)
