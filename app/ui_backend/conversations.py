"""The Ask page's history: each signed-in user's recent questions and answers, kept in the
tenant database (agents.analyze.conversations). A user only ever sees and deletes their
own turns."""

from typing import Any

from agents.analyze.conversations import ConversationHistory, SavedTurn
from app.runtime import Runtime
from app.services import Services
from app.ui_backend.gate import SessionGate

MAX_SCOPE = 50


class ConversationMethods:
    """The ConversationBackend part of ApplianceUiBackend."""

    _gate: SessionGate
    _runtime: Runtime
    _services: Services

    def _history(self, token: str | None, tenant_id: str) -> tuple[ConversationHistory, str]:
        access = self._gate.access(token, tenant_id, "viewer")
        db = self._services.tenants.database(access.tenant_id)
        return ConversationHistory(db), access.principal.user_id

    def history(self, token: str | None, tenant_id: str, limit: int = 20) -> list[SavedTurn]:
        """This user's newest turns in this tenant, in the order they were asked."""
        store, user_id = self._history(token, tenant_id)
        return store.recent(user_id, limit)

    def save_turn(
        self,
        token: str | None,
        tenant_id: str,
        question: str,
        answer: str,
        citations: list[dict[str, Any]],
        scope: list[str],
        no_answer: bool,
    ) -> int:
        """Keep a finished answer in the user's history (the newest 100 are kept)."""
        store, user_id = self._history(token, tenant_id)
        return store.add(user_id, question, answer, citations, scope[:MAX_SCOPE], no_answer)

    def delete_turn(self, token: str | None, tenant_id: str, turn_id: int) -> None:
        store, user_id = self._history(token, tenant_id)
        store.delete(user_id, turn_id)

    def clear_history(self, token: str | None, tenant_id: str) -> int:
        store, user_id = self._history(token, tenant_id)
        return store.clear(user_id)
