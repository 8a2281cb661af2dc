"""Answers with citations (retrieval-augmented generation) over one tenant's documents.

Retrieval runs first; passages below the similarity threshold do not count, and with
none left the answer says the documents do not contain it, without calling the model.
The passages are fitted to the model's context window by counting tokens, numbered,
and returned as `citations` in that numbering, so every `[n]` in the answer maps to
`citations[n-1]`. Passages are framed as data; instructions inside them are not obeyed,
and retrieval only ever reads the caller's tenant.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from agents.analyze.search import Hit
from agents.analyze.service import AnalysisService
from agents.llm.prompts import render_prompt
from agents.llm.service import LLMService
from agents.llm.types import Message

NO_ANSWER = "The documents do not contain an answer to this question."
_CITED = re.compile(r"\[(\d{1,3})\]")
# role markers, separators and the framing lines of the user prompt
_PROMPT_OVERHEAD_TOKENS = 64
_QUOTE_CHARS = 300


@dataclass(frozen=True)
class AnswerSettings:
    min_similarity: float = 0.25
    answer_tokens: int = 256
    max_question_tokens: int = 256
    context_window: int = 2048


def citation(number: int, hit: Hit) -> dict[str, Any]:
    return {
        "number": number,
        "document_id": hit.document_id,
        "title": hit.title,
        "page": hit.page,
        "chunk_id": hit.chunk_id,
        "quote": hit.text[:_QUOTE_CHARS],
        "score": hit.score,
        "similarity": hit.similarity,
    }


class Answerer:
    """Streams answers: token events, then the citations, then a done event."""

    def __init__(
        self, analysis: AnalysisService, llm: LLMService, settings: AnswerSettings | None = None
    ) -> None:
        self.analysis = analysis
        self.llm = llm
        self.settings = settings or AnswerSettings()

    def _relevant(
        self, tenant_id: str, question: str, k: int, filters: Mapping[str, Any] | None
    ) -> list[Hit]:
        hits = self.analysis.search(tenant_id, question, k=k, mode="hybrid", filters=filters)
        floor = self.settings.min_similarity
        return [h for h in hits if h.similarity is not None and h.similarity >= floor]

    def _fit(self, question: str, hits: list[Hit]) -> tuple[str, list[Hit]]:
        """Number passages and keep as many as the context window allows, by tokens."""
        budget = (
            self.settings.context_window
            - self.settings.answer_tokens
            - _PROMPT_OVERHEAD_TOKENS
            - self.llm.count_tokens(render_prompt("answer_system"))
            - self.llm.count_tokens(question)
        )
        blocks: list[str] = []
        used: list[Hit] = []
        for hit in hits:
            header = f"[{len(used) + 1}] {hit.title}, page {hit.page}:"
            cost = self.llm.count_tokens(header) + 2
            if budget - cost < 32:
                break
            text = self.llm.truncate_to_tokens(hit.text, budget - cost)
            budget -= cost + self.llm.count_tokens(text)
            blocks.append(f"{header}\n{text}")
            used.append(hit)
        return "\n\n".join(blocks), used

    def stream(
        self,
        tenant_id: str,
        question: str,
        k: int = 5,
        filters: Mapping[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """{"type": "token", "text"}..., {"type": "citations", ...}, {"type": "done", ...}."""
        question = " ".join(question.split())
        if not question:
            raise ValueError("the question is empty")
        question = self.llm.truncate_to_tokens(question, self.settings.max_question_tokens)
        hits = self._relevant(tenant_id, question, k, filters)
        passages, used = self._fit(question, hits) if hits else ("", [])
        if not used:
            yield {"type": "token", "text": NO_ANSWER}
            yield {"type": "citations", "citations": []}
            yield {"type": "done", "no_answer": True, "answer": NO_ANSWER}
            return
        messages: list[Message] = [
            {"role": "system", "content": render_prompt("answer_system")},
            {
                "role": "user",
                "content": render_prompt("answer_user", passages=passages, question=question),
            },
        ]
        pieces: list[str] = []
        for piece in self.llm.stream(messages, max_tokens=self.settings.answer_tokens):
            pieces.append(piece)
            yield {"type": "token", "text": piece}
        answer = "".join(pieces).strip()
        cited = {int(n) for n in _CITED.findall(answer) if 0 < int(n) <= len(used)}
        citations = [citation(i, hit) | {"cited": i in cited} for i, hit in enumerate(used, 1)]
        yield {"type": "citations", "citations": citations}
        yield {"type": "done", "no_answer": False, "answer": answer}

    def ask(
        self,
        tenant_id: str,
        question: str,
        k: int = 5,
        filters: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The whole answer at once: {answer, citations, no_answer}."""
        citations: list[dict[str, Any]] = []
        done: dict[str, Any] = {}
        for event in self.stream(tenant_id, question, k, filters):
            if event["type"] == "citations":
                citations = event["citations"]
            elif event["type"] == "done":
                done = event
        return {
            "answer": done.get("answer", ""),
            "citations": citations,
            "no_answer": bool(done.get("no_answer")),
        }
