"""Extract, classify and summarise one document (or a given text) with the shared LLM.

Long inputs: extraction and classification read as much of the text as fits in the
model's window (counted in tokens); summaries cover the whole document by map-reduce:
summarise consecutive parts that fit, then summarise the summaries, until one is left.
"""

from collections.abc import Sequence
from typing import Any

from agents.documents.ledger import DocumentLedger
from agents.llm.prompts import render_prompt
from agents.llm.service import LLMService
from agents.llm.types import Message

_OVERHEAD_TOKENS = 96
_SUMMARY_TOKENS = 200
_MAX_ROUNDS = 6


def document_text(ledger: DocumentLedger, document_id: str) -> str:
    return "\n\n".join(text for _, text in ledger.pages(document_id))


def _room(llm: LLMService, *fixed: str, reserve: int) -> int:
    used = sum(llm.count_tokens(text) for text in fixed)
    return llm.backend.context_window - used - reserve - _OVERHEAD_TOKENS


def extract(
    llm: LLMService, text: str, schema: dict[str, Any], max_tokens: int = 384
) -> dict[str, Any]:
    """A JSON object valid against `schema` with facts from `text`."""
    system = render_prompt("json_system", schema=schema)
    room = _room(llm, system, reserve=max_tokens)
    messages: list[Message] = [{"role": "user", "content": llm.truncate_to_tokens(text, room)}]
    return llm.generate_json(messages, schema, max_tokens=max_tokens)


def classify(llm: LLMService, text: str, labels: Sequence[str]) -> str:
    return llm.classify(text, labels)


def _split(llm: LLMService, text: str, room: int) -> list[str]:
    """Consecutive parts of `text`, each within `room` tokens, cut at paragraph breaks."""
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if llm.count_tokens(candidate) <= room:
            current = candidate
            continue
        if current:
            parts.append(current)
        while llm.count_tokens(paragraph) > room:
            head = llm.truncate_to_tokens(paragraph, room)
            parts.append(head)
            paragraph = paragraph[len(head) :].lstrip()
        current = paragraph
    if current.strip():
        parts.append(current)
    return parts


def _summarise_one(llm: LLMService, text: str) -> str:
    messages: list[Message] = [
        {"role": "system", "content": render_prompt("summarize_system")},
        {"role": "user", "content": text},
    ]
    return llm.complete(messages, max_tokens=_SUMMARY_TOKENS).text.strip()


def summarise(llm: LLMService, text: str) -> dict[str, Any]:
    """{summary, parts, rounds}: map-reduce over parts that fit the context window."""
    room = _room(llm, render_prompt("summarize_system"), reserve=_SUMMARY_TOKENS)
    parts = _split(llm, text, room)
    if not parts:
        return {"summary": "", "parts": 0, "rounds": 0}
    first_parts = len(parts)
    summaries = [_summarise_one(llm, part) for part in parts]
    rounds = 1
    while len(summaries) > 1 and rounds < _MAX_ROUNDS:
        joined = "\n\n".join(f"Part {i}: {s}" for i, s in enumerate(summaries, 1))
        prompt_room = room - llm.count_tokens(render_prompt("summarize_combine", parts=""))
        groups = _split(llm, joined, prompt_room)
        summaries = [
            _summarise_one(llm, render_prompt("summarize_combine", parts=group)) for group in groups
        ]
        rounds += 1
    return {"summary": summaries[0], "parts": first_parts, "rounds": rounds}
