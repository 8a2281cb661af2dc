"""A Backend wrapper that records tokens, time to first token and call time of every model call.

The composition root wraps the LLM backend with it (`MeteredBackend(backend, metrics)`);
the service and its callers are unchanged. Streamed calls count one generated token per
piece (llama.cpp and OpenAI-compatible servers stream one token per chunk); their prompt
tokens are counted with the model's tokenizer, as the stream does not report them.
"""

import time
from collections.abc import Iterator, Sequence
from typing import Any

from agents.llm.types import Backend, Completion, Message
from agents.telemetry.metrics import Metrics


class MeteredBackend:
    """Delegates to `inner`; records each call in `metrics`."""

    def __init__(self, inner: Backend, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics
        self.kind = inner.kind
        self.model_name = inner.model_name
        self.serialize = inner.serialize

    @property
    def loaded(self) -> bool:
        return self.inner.loaded

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    def load(self) -> None:
        self.inner.load()

    def close(self) -> None:
        self.inner.close()

    def memory_bytes(self) -> int:
        return self.inner.memory_bytes()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def check_schema(self, schema: dict[str, Any]) -> None:
        self.inner.check_schema(schema)

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        json_schema: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> Completion:
        started = time.perf_counter()
        try:
            with self.metrics.tracing.span("llm complete", model=self.model_name):
                completion = self.inner.complete(
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stop=stop,
                    json_schema=json_schema,
                    seed=seed,
                )
        except Exception:
            self.metrics.llm_call("complete", time.perf_counter() - started, 0, 0, ok=False)
            raise
        self.metrics.llm_call(
            "complete",
            time.perf_counter() - started,
            completion.prompt_tokens,
            completion.completion_tokens,
        )
        return completion

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        repeat_penalty: float = 1.0,
    ) -> Iterator[str]:
        pieces = self.inner.stream(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=stop,
            repeat_penalty=repeat_penalty,
        )
        return self._metered(messages, pieces)

    def _metered(self, messages: Sequence[Message], pieces: Iterator[str]) -> Iterator[str]:
        started = time.perf_counter()
        first: float | None = None
        generated = 0
        ok = True  # a caller that stops reading early is not a failure
        span = self.metrics.tracing.start("llm stream", model=self.model_name)
        try:
            for piece in pieces:
                if first is None:
                    first = time.perf_counter() - started
                    if span is not None:
                        span.add_event("first token")
                generated += 1
                yield piece
        except Exception:
            ok = False
            raise
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
            if span is not None:
                span.set_attribute("generated_tokens", generated)
                span.end()
            if self.metrics.enabled:
                prompt = sum(self.inner.count_tokens(m["content"]) for m in messages)
                self.metrics.llm_call(
                    "stream", time.perf_counter() - started, prompt, generated, first, ok
                )
