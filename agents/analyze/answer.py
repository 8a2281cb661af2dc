"""Answers with citations (retrieval-augmented generation) over one tenant's documents.

Retrieval runs first; passages below the similarity threshold do not count, and with
none left the answer says the documents do not contain it, without calling the model.
Each passage is trimmed to its sentences nearest the question (`passages.py`) so the
prompt stays short and the first word comes fast; passages are framed as data, and
instructions inside them are not obeyed.

While the model writes, a loop guard stops it once it repeats itself. The finished
answer is then checked sentence by sentence against the passages (`grounding.py`):
markers are fixed or added, and if any sentence is supported by no passage, or the
answer only restates the question, it is replaced by an extractive one (the passage
sentences nearest the question, quoted and cited). Citations are ordered by first use
and merged per document page, so every `[n]` in the final answer maps to
`citations[n-1]`. The streamed tokens are a draft;
the `done` event's `answer` is the final text (`revised` says whether it differs).

Events: {"type": "stage", "stage": "searching" | "reading" | "writing", ...},
{"type": "token", "text"}..., {"type": "citations", ...}, {"type": "done", ...}.
"""

import re
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from agents.analyze.grounding import (
    LoopGuard,
    adds_nothing,
    cut_loop,
    extractive_answer,
    ground,
    renumber,
)
from agents.analyze.passages import focus
from agents.analyze.search import Hit
from agents.llm.prompts import render_prompt
from agents.llm.service import LLMService
from agents.llm.types import Message

NO_ANSWER = "The documents do not contain an answer to this question."
_REFUSAL = re.compile(r"do(?:es)? not (?:contain|say|mention|include)|no information", re.I)
# role markers, separators and the framing lines of the user prompt
_PROMPT_OVERHEAD_TOKENS = 64
_QUOTE_CHARS = 300
# a small model sometimes starts a new turn on its own; cut it there
_STOPS = ("\nQuestion:", "\nPassages:", "<|im_end|>", "<|endoftext|>")


class Searcher(Protocol):
    """What answering needs of the analysis service (AnalysisService fits)."""

    def search(
        self,
        tenant_id: str,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        filters: Mapping[str, Any] | None = None,
        timeout_ms: int | None = None,
    ) -> list[Hit]: ...


@dataclass(frozen=True)
class AnswerSettings:
    """How answers are made; from `[answer]` in appliance.toml (see the comments there)."""

    min_similarity: float = 0.25
    answer_tokens: int = 160
    max_question_tokens: int = 256
    context_window: int = 2048
    passage_tokens: int = 80
    temperature: float = 0.0
    repeat_penalty: float = 1.15
    loop_words: int = 8
    support_share: float = 0.6
    extractive_fallback: bool = True


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
    """Streams answers: stages, token events, then the citations, then a done event."""

    def __init__(
        self, analysis: Searcher, llm: LLMService, settings: AnswerSettings | None = None
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
        """Number passages, each trimmed to what matters, as many as the context allows."""
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
            header = f"[{len(used) + 1}] {hit.title}" + (f", {hit.heading}" if hit.heading else "")
            cost = self.llm.count_tokens(header) + 2
            room = min(budget - cost, self.settings.passage_tokens)
            if room < 32:
                break
            text = focus(hit.text, question, room, self.llm.count_tokens)
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
        """Stage, token, citations and done events (see the module docstring)."""
        question = " ".join(question.split())
        if not question:
            raise ValueError("the question is empty")
        question = self.llm.truncate_to_tokens(question, self.settings.max_question_tokens)
        yield {"type": "stage", "stage": "searching"}
        hits = self._relevant(tenant_id, question, k, filters)
        passages, used = self._fit(question, hits) if hits else ("", [])
        if not used:
            yield from _no_answer()
            return
        yield {"type": "stage", "stage": "reading", "passages": len(used)}
        messages: list[Message] = [
            {"role": "system", "content": render_prompt("answer_system")},
            {
                "role": "user",
                "content": render_prompt("answer_user", passages=passages, question=question),
            },
        ]
        yield {"type": "stage", "stage": "writing"}
        draft = yield from self._generate(messages)
        final, extractive = self._final(draft, question, used)
        if final is None:
            yield from _no_answer(draft)
            return
        keys = [(h.document_id, h.page) for h in used]
        final, order = renumber(final, keys)
        citations = []
        for n, old in enumerate(order, 1):
            same_page = [
                h.chunk_id for h, key in zip(used, keys, strict=True) if key == keys[old - 1]
            ]
            citations.append(citation(n, used[old - 1]) | {"cited": True, "chunk_ids": same_page})
        yield {"type": "citations", "citations": citations}
        yield {
            "type": "done",
            "no_answer": False,
            "answer": final,
            "extractive": extractive,
            "revised": final != draft.strip(),
        }

    def _generate(self, messages: list[Message]) -> Generator[dict[str, Any], None, str]:
        """Stream the model's tokens until it stops or starts repeating itself; the
        generator's return value is the draft answer."""
        guard = LoopGuard(self.settings.loop_words)
        pieces: list[str] = []
        stream = self.llm.stream(
            messages,
            max_tokens=self.settings.answer_tokens,
            temperature=self.settings.temperature,
            repeat_penalty=self.settings.repeat_penalty,
            stop=_STOPS,
        )
        looped = False
        try:
            for piece in stream:
                pieces.append(piece)
                yield {"type": "token", "text": piece}
                if guard.feed(piece):
                    looped = True
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # frees the model for the next caller at once
        draft = "".join(pieces)
        return cut_loop(draft, self.settings.loop_words) if looped else draft

    def _final(self, draft: str, question: str, used: list[Hit]) -> tuple[str | None, bool]:
        """(final answer, extractive?) — None when nothing grounded can be said."""
        texts = [h.text for h in used]
        draft = draft.strip()
        if draft and _REFUSAL.search(draft) and len(draft) < 160:
            return None, False
        checked = ground(draft, texts, self.settings.support_share)
        if checked.text and not checked.unsupported and not adds_nothing(checked.text, question):
            return checked.text, False
        if not self.settings.extractive_fallback and checked.text:
            return checked.text, False
        quoted = extractive_answer(question, texts)
        return (quoted, True) if quoted else (None, False)

    def warm(self) -> None:
        """Load the model and evaluate the fixed answer instructions once, so the first
        question finds them in llama.cpp's prompt cache (its longest common prefix)."""
        system = render_prompt("answer_system")
        messages: list[Message] = [
            {"role": "system", "content": system},
            {"role": "user", "content": render_prompt("answer_user", passages="", question="")},
        ]
        self.llm.complete(messages, max_tokens=1)

    def ask(
        self,
        tenant_id: str,
        question: str,
        k: int = 5,
        filters: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The whole answer at once: {answer, citations, no_answer, extractive}."""
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
            "extractive": bool(done.get("extractive")),
        }


def _no_answer(draft: str | None = None) -> Iterator[dict[str, Any]]:
    if draft is None:  # nothing was streamed yet: say it as the answer's text
        yield {"type": "token", "text": NO_ANSWER}
    yield {"type": "citations", "citations": []}
    yield {
        "type": "done",
        "no_answer": True,
        "answer": NO_ANSWER,
        "extractive": False,
        "revised": draft is not None,
    }
