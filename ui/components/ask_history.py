"""The Ask page's history: the signed-in user's recent questions and answers in this
tenant, kept on the appliance (not only for the browser session), each deletable."""

from typing import Any

from nicegui import ui

from agents.analyze.conversations import SavedTurn
from ui.backend import TenantChoice, UiBackend
from ui.components.context import PageContext
from ui.components.feedback import Failed, call
from ui.components.formatting import short_time

SHOWN = 20


class AskHistory:
    """A folded list under the conversation; `record()` adds a finished answer."""

    def __init__(self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        self.root = ui.context.client.content
        self.panel = (
            ui.expansion("Your recent questions", icon="history")
            .classes("w-full")
            .props("dense data-testid=ask-history")
        )
        self._draw(self._load())

    def _load(self) -> list[SavedTurn]:
        try:
            return self.backend.history(self.ctx.token, self.tenant.id, SHOWN)
        except Exception:  # noqa: BLE001 - the page works without its history
            return []

    def _draw(self, turns: list[SavedTurn]) -> None:
        self.panel.text = f"Your recent questions ({len(turns)})"
        self.panel.clear()
        with self.panel:
            if not turns:
                ui.label("Questions you ask are kept here, newest first.").classes(
                    "text-body2 opacity-70"
                )
                return
            for turn in reversed(turns):
                self._item(turn)
            ui.button("Delete all", icon="delete_sweep", on_click=self._clear).props(
                "flat dense no-caps color=negative data-testid=history-clear"
            )

    def _item(self, turn: SavedTurn) -> None:
        with (
            ui.row()
            .classes("w-full items-start gap-2 no-wrap py-1")
            .props("data-testid=history-item")
        ):
            with ui.column().classes("flex-1 gap-0 min-w-0"):
                ui.label(turn.question).classes("text-body2 font-medium break-words")
                answer = "no answer in the documents" if turn.no_answer else turn.answer
                ui.label(answer[:400]).classes("text-caption opacity-80 break-words")
                scope = f" · about {len(turn.scope)} document(s)" if turn.scope else ""
                ui.label(short_time(turn.asked_at) + scope).classes("text-caption opacity-60")
            ui.button(icon="delete", on_click=lambda t=turn: self._delete(t.id)).props(
                "flat dense round aria-label='Delete this question' data-testid=history-delete"
            )

    async def reload(self) -> None:
        turns = await call(
            "Loading your questions", self.backend.history, self.ctx.token, self.tenant.id, SHOWN
        )
        if not isinstance(turns, Failed):
            self._draw(turns)

    async def record(
        self,
        question: str,
        answer: str,
        citations: list[dict[str, Any]],
        scope: list[str] | None,
        no_answer: bool,
    ) -> None:
        """Keep a finished answer (answers that failed are not kept)."""
        saved = await call(
            "Keeping the question",
            self.backend.save_turn,
            self.ctx.token,
            self.tenant.id,
            question,
            answer,
            citations,
            scope or [],
            no_answer,
        )
        if not isinstance(saved, Failed):
            await self.reload()

    async def _delete(self, turn_id: int) -> None:
        done = await call(
            "Deleting the question",
            self.backend.delete_turn,
            self.ctx.token,
            self.tenant.id,
            turn_id,
        )
        if not isinstance(done, Failed):
            await self.reload()

    async def _clear(self) -> None:
        done = await call(
            "Deleting your questions", self.backend.clear_history, self.ctx.token, self.tenant.id
        )
        if not isinstance(done, Failed):
            with self.root:
                ui.notify("Your questions were deleted", type="positive")
            await self.reload()
