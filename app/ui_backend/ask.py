"""Questions to the RAG agent (the runtime's answerer), streamed as events."""

from collections.abc import Iterator
from typing import Any

from app.runtime import Runtime
from app.ui_backend.errors import InvalidInput
from app.ui_backend.gate import SessionGate
from ui.backend import Unavailable

UNAVAILABLE = "the question-answering model is not available"
MAX_QUESTION = 2000


class AskMethods:
    _gate: SessionGate
    _runtime: Runtime

    def answerer_available(self) -> bool:
        return self._runtime.answerer is not None

    def inference_problems(self) -> list[str]:
        """Inference servers that do not answer (probed at most every few seconds)."""
        inference = self._runtime.inference
        return inference.down() if inference is not None else []

    def ask_stream(
        self,
        token: str | None,
        tenant_id: str,
        question: str,
        document_ids: list[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Events {"type": "token", "text"}, {"type": "citations", "citations": [...]},
        {"type": "done", "no_answer"} from the answerer; any member may ask.
        `document_ids`: ask about these documents only (None: all of them)."""
        access = self._gate.access(token, tenant_id, "viewer")
        question = question.strip()
        if not question or len(question) > MAX_QUESTION:
            raise InvalidInput(f"a question has 1-{MAX_QUESTION} characters")
        answerer = self._runtime.answerer
        if answerer is None:
            raise Unavailable(UNAVAILABLE)
        filters = {"document_ids": list(document_ids)} if document_ids else None
        return iter(answerer.stream(access.tenant_id, question, k=5, filters=filters))
