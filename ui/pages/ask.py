"""Ask: a chat over the tenant's documents; answers stream token by token, with citations
as chips that open the cited page. The conversation lives for the browser session.
"""

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import TenantChoice, UiBackend
from ui.components.answer_markdown import as_markdown, cited_numbers, unique_citations
from ui.components.ask_history import AskHistory
from ui.components.ask_scope import AskScope
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call, reason, show_error
from ui.components.layout import frame
from ui.components.state import Turn
from ui.components.widgets import empty_state, no_workspace

NO_ANSWER_HINT = (
    "Nothing in this workspace's documents answers that. Try other words, or upload the "
    "document that holds the answer."
)
UNAVAILABLE = "The question-answering model is not available"
INFERENCE_REFRESH_S = 5.0


STAGES = {
    "searching": "Searching your documents…",
    "reading": "Reading {passages} passages…",
    "writing": "Writing the answer…",
}


def stage_text(event: dict[str, Any]) -> str:
    """What the answer bubble says while the answer is on its way."""
    stage = str(event.get("stage", "searching"))
    template = STAGES.get(stage, STAGES["searching"])
    passages = int(event.get("passages") or 0)
    if stage == "reading" and passages == 1:
        return "Reading 1 passage…"
    return template.format(passages=passages)


def citation_url(tenant: TenantChoice, citation: dict[str, Any], turn: int) -> str:
    """The document page a citation points at, with the passage to highlight."""
    page = citation.get("page") or 1
    return (
        f"/documents/{quote(str(citation.get('document_id', '')))}?page={int(page)}"
        f"&tenant={quote(tenant.slug)}&cite={turn}-{citation.get('number')}"
    )


def register(backend: UiBackend) -> None:
    """Define /ask."""

    @ui.page("/ask", title="Ask · Agent Appliance")
    def ask_page(request: Request, tenant: str = "", docs: str = "") -> RedirectResponse | None:
        ctx = open_page(backend, request, tenant or None)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Ask", "/ask"):
            current = ctx.tenant
            if current is None:
                no_workspace()
                return None
            AskView(ctx, backend, current, docs)
        return None


def _inference_status(backend: UiBackend) -> None:
    """A notice while an inference server is down; it goes away by itself when the
    server answers again (checked every few seconds)."""
    shown: list[list[str]] = [backend.inference_problems()]

    @ui.refreshable
    def notice() -> None:
        if not shown[0]:
            return
        with ui.card().classes("w-full").props("flat bordered data-testid=inference-down"):
            for line in shown[0]:
                ui.label(line).classes("text-subtitle1 font-medium text-orange-10")
            ui.label("Questions fail until it is back; nothing else is affected.")

    notice()

    async def refresh() -> None:
        problems = await call("Checking the model servers", backend.inference_problems)
        if isinstance(problems, Failed) or problems == shown[0]:
            return
        shown[0] = problems
        notice.refresh()

    ui.timer(INFERENCE_REFRESH_S, refresh)


class AskView:
    def __init__(
        self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice, docs: str = ""
    ) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        with ui.row().classes("w-full items-center justify-between"):
            ui.label(f"Ask about the documents of {tenant.name}").classes("text-h5")
            ui.button("New conversation", icon="restart_alt", on_click=self._clear).props(
                "flat data-testid=new-conversation"
            )
        self.available = backend.answerer_available()
        if not self.available:
            with ui.card().classes("w-full").props("flat bordered data-testid=ask-unavailable"):
                ui.label(UNAVAILABLE).classes("text-subtitle1 font-medium text-orange-10")
                ui.label("An administrator can check the model with `appliance doctor`.")
        self.scope = AskScope(ctx, backend, tenant, docs)
        _inference_status(backend)
        self.log = ui.column().classes("w-full gap-2").props("data-testid=conversation")
        turns = ctx.state.conversation(tenant.id)
        self.placeholder: ui.column | None = None
        with self.log:
            if not turns:
                self.placeholder = empty_state(
                    "forum", "Ask a question", "Answers cite the documents they come from."
                )
            for index, turn in enumerate(turns):
                TurnView(self, turn, index).fill()
        with ui.row().classes("w-full items-center gap-2 no-wrap"):
            self.input = (
                ui.input(placeholder="Type a question and press Enter")
                .classes("flex-1")
                .props("outlined autofocus data-testid=question maxlength=2000")
            )
            self.send = ui.button(icon="send", on_click=self.ask).props(
                "round color=primary aria-label='Ask' data-testid=ask"
            )
        self.input.on("keydown.enter", self.ask)
        self.history = AskHistory(ctx, backend, tenant)
        if not self.available:
            self.input.disable()
            self.send.disable()

    def _clear(self) -> None:
        self.ctx.state.conversation(self.tenant.id).clear()
        ui.navigate.reload()

    async def ask(self) -> None:
        question = (self.input.value or "").strip()
        if not question or not self.send.enabled:
            return
        self.input.value = ""
        self.send.disable()
        if self.placeholder is not None:
            self.placeholder.delete()
            self.placeholder = None
        turn = Turn(question)
        self.ctx.state.add_turn(self.tenant.id, turn)
        index = len(self.ctx.state.conversation(self.tenant.id)) - 1
        with self.log:
            view = TurnView(self, turn, index)
        try:
            stream = await asyncio.to_thread(
                self.backend.ask_stream, self.ctx.token, self.tenant.id, question, self.scope.ids()
            )
            await view.stream(stream)
            await self.history.record(
                question, turn.answer, turn.citations, self.scope.ids(), turn.no_answer
            )
        except Exception as exc:  # noqa: BLE001 - shown in the answer and as a notice
            turn.error = reason(exc) or "the answer could not be produced"
            view.fill()
            show_error(exc, "Asking")
        finally:
            self.send.enable()
            self.input.run_method("focus")


class TurnView:
    """One question and its (streaming) answer."""

    def __init__(self, page: AskView, turn: Turn, index: int) -> None:
        self.page, self.turn, self.index = page, turn, index
        ui.chat_message(turn.question, name=page.ctx.user.username, sent=True).classes(
            "self-end"
        ).props("data-testid=asked")
        answer_bubble = ui.chat_message(name="Appliance").props(
            "bg-color=blue-1 text-color=black data-testid=answer-message"
        )
        with answer_bubble:
            self.stage = (
                ui.label(STAGES["searching"])
                .classes("text-caption text-grey-8")
                .props("data-testid=answer-stage")
            )
            self.stage.set_visibility(not turn.answer)
            # markdown, not HTML: document text and model output are never rendered raw
            self.answer = ui.markdown(as_markdown(turn.answer)).props("data-testid=answer")
            self.extras = ui.column().classes("gap-1 pt-1")

    async def stream(self, events: Iterator[dict[str, Any]]) -> None:
        self.answer.classes("opacity-60")
        while True:
            event = await asyncio.to_thread(next, events, None)
            if event is None:
                break
            kind = event.get("type")
            if kind == "stage":
                self.stage.text = stage_text(event)
            elif kind == "token":
                if not self.turn.answer:
                    self.answer.classes(remove="opacity-60")
                self.turn.answer += str(event.get("text", ""))
                self.answer.set_content(as_markdown(self.turn.answer))
            elif kind == "citations":
                self.turn.citations = unique_citations(event.get("citations") or [])
            elif kind == "done":
                self.turn.no_answer = bool(event.get("no_answer"))
                # the final text: checked against the passages, loops cut, markers fixed
                self.turn.answer = str(event.get("answer", self.turn.answer))
                break
        self.fill()

    def fill(self) -> None:
        """Show the finished turn: text, citation chips, or the no-answer state."""
        turn = self.turn
        self.stage.set_visibility(False)
        self.answer.classes(remove="opacity-60")
        cited = () if turn.no_answer else cited_numbers(turn.citations)
        self.answer.set_content(as_markdown(turn.answer, cited))
        self.answer.set_visibility(bool(turn.answer))
        self.extras.clear()
        with self.extras:
            if turn.error:
                ui.label(f"No answer: {turn.error}").classes("text-negative").props(
                    "data-testid=answer-error"
                )
            elif turn.no_answer:
                with ui.row().classes("items-center gap-2 no-wrap").props("data-testid=no-answer"):
                    ui.icon("search_off").classes("text-2xl text-orange-10")
                    with ui.column().classes("gap-0"):
                        ui.label("No answer in your documents").classes("font-medium")
                        ui.label(NO_ANSWER_HINT).classes("text-caption")
            if turn.citations and not turn.no_answer:
                with ui.row().classes("gap-1 flex-wrap"):
                    for citation in turn.citations:
                        self._chip(citation)

    def _chip(self, citation: dict[str, Any]) -> None:
        url = citation_url(self.page.tenant, citation, self.index)
        title = str(citation.get("title") or "document")
        label = f"[{citation.get('number')}] {title[:40]} · p. {citation.get('page') or 1}"
        chip = ui.chip(label, icon="description", on_click=lambda: ui.navigate.to(url))
        chip.props("clickable color=white text-color=primary data-testid=citation")
        if citation.get("quote"):
            chip.tooltip(str(citation["quote"])[:300])
