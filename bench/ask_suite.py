"""The ask suite: time to first token and tokens/s of the appliance's LLM path vs llama.cpp.

Both sides load the same GGUF with the same parameters and get the same chat prompt (the
answer prompt for 5 passages, built and trimmed as the Answerer does, from Python FAQ
answers of python3.11-doc); they alternate, round by round, so background load hits both
alike. The configured sampling settings (greedy, repeat penalty), the same number of
tokens. The appliance side is `LLMService.stream`, which the Answerer streams from.
Target: the first token within 3 s on an idle 2-core machine.
"""

import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

from agents.analyze.passages import focus
from agents.llm.llama_backend import construct_llama
from agents.llm.prompts import render_prompt
from agents.llm.service import LLMService
from agents.llm.types import Message
from agents.models import locate_llm_model
from app.llm_wiring import build_llm
from app.settings import Settings
from bench.common import BenchError
from bench.retrieval_corpora import Corpus, CorpusMissingError, python_faq

TARGET_OVERHEAD = 0.10
TARGET_FIRST_TOKEN_S = 3.0
PASSAGES = 5
ROUNDS = 5
MAX_TOKENS = 64


def _messages(service: LLMService, settings: Settings, corpus: Corpus, n: int) -> list[Message]:
    """The answer prompt the Answerer builds for 5 retrieved passages: five Python FAQ
    answers (python3.11-doc) from the n-th group, each trimmed to `answer_passage_tokens`
    the same way. Each round asks a new question, as a user would: only the system
    prompt can come from llama.cpp's prompt cache."""
    questions = corpus.questions[n * PASSAGES : (n + 1) * PASSAGES]
    question = questions[0].text
    blocks = []
    for n, q in enumerate(questions, 1):
        title, text = corpus.documents[q.document]
        body = focus(
            text[q.start : q.end],
            question,
            settings.models.answer_passage_tokens,
            service.count_tokens,
        )
        blocks.append(f"[{n}] {title}, {q.text}\n{body}")
    return [
        {"role": "system", "content": render_prompt("answer_system")},
        {
            "role": "user",
            "content": render_prompt(
                "answer_user", passages="\n\n".join(blocks), question=question
            ),
        },
    ]


def _time(pieces: Callable[[], Iterator[Any]]) -> dict[str, float]:
    started = time.perf_counter()
    first: float | None = None
    count = 0
    for _ in pieces():
        if first is None:
            first = time.perf_counter() - started
        count += 1
    total = time.perf_counter() - started
    first = first if first is not None else total
    decode = max(total - first, 1e-9)
    return {"ttft_s": first, "tokens": count, "tokens_per_s": max(count - 1, 0) / decode}


def run_ask(settings: Settings) -> dict[str, Any]:
    if settings.models.llm_backend != "llama":
        raise BenchError(
            "bench ask compares against llama-cpp-python: set models.llm_backend = 'llama'"
        )
    try:
        corpus = python_faq(library_pages=False)
    except CorpusMissingError as error:
        raise BenchError(str(error)) from None
    service = build_llm(settings)
    service.load()
    prompts = [_messages(service, settings, corpus, n) for n in range(ROUNDS + 1)]
    models = settings.models
    prompt_tokens = max(service.count_tokens(" ".join(m["content"] for m in p)) for p in prompts)
    raw = construct_llama(
        locate_llm_model(settings.models.llm_model).path,
        service.backend._config,  # type: ignore[attr-defined]
    )

    def appliance(messages: list[Message]) -> Callable[[], Iterator[str]]:
        return lambda: service.stream(
            messages,
            max_tokens=MAX_TOKENS,
            temperature=models.answer_temperature,
            repeat_penalty=models.answer_repeat_penalty,
        )

    def direct(messages: list[Message]) -> Callable[[], Iterator[Any]]:
        def pieces() -> Iterator[Any]:
            chunks = raw.create_chat_completion(
                messages=list(messages),
                max_tokens=MAX_TOKENS,
                temperature=models.answer_temperature,
                repeat_penalty=models.answer_repeat_penalty,
                stream=True,
                seed=42,
            )
            return (c for c in chunks if c["choices"][0]["delta"].get("content"))

        return pieces

    runs: dict[str, list[dict[str, float]]] = {"appliance": [], "llama_cpp_direct": []}
    _time(direct(prompts[0]))  # warm both (weights paged in, system prompt cached)
    _time(appliance(prompts[0]))
    for messages in prompts[1:]:  # a new question each round, the same for both sides
        runs["llama_cpp_direct"].append(_time(direct(messages)))
        runs["appliance"].append(_time(appliance(messages)))
    service.close()
    summary = {
        name: {
            "ttft_s": round(statistics.median(r["ttft_s"] for r in rounds), 3),
            "tokens_per_s": round(statistics.median(r["tokens_per_s"] for r in rounds), 1),
            "tokens": int(statistics.median(r["tokens"] for r in rounds)),
        }
        for name, rounds in runs.items()
    }
    ttft_overhead = summary["appliance"]["ttft_s"] / summary["llama_cpp_direct"]["ttft_s"] - 1
    speed_overhead = (
        1 - summary["appliance"]["tokens_per_s"] / summary["llama_cpp_direct"]["tokens_per_s"]
    )
    return {
        "results": {
            **summary,
            "prompt_tokens_max": prompt_tokens,
            "ttft_overhead": round(ttft_overhead, 3),
            "tokens_per_s_overhead": round(speed_overhead, 3),
            "rounds": ROUNDS,
        },
        "targets": {
            "first_token_s": f"<= {TARGET_FIRST_TOKEN_S} (idle machine)",
            "ttft_overhead": f"<= {TARGET_OVERHEAD}",
            "tokens_per_s_overhead": f"<= {TARGET_OVERHEAD}",
        },
        "met": {
            "first_token_s": summary["appliance"]["ttft_s"] <= TARGET_FIRST_TOKEN_S,
            "ttft_overhead": ttft_overhead <= TARGET_OVERHEAD,
            "tokens_per_s_overhead": speed_overhead <= TARGET_OVERHEAD,
        },
    }
