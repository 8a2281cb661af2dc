"""The one LLM service the appliance shares: queueing, lazy loading, JSON and labels."""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from agents.llm.errors import (
    InvalidLabelsError,
    LLMBusyError,
    LLMRequestError,
    SchemaUnsatisfiedError,
)
from agents.llm.literals import MAX_LITERAL_CHARS, literal_problem
from agents.llm.prompts import render_prompt
from agents.llm.queue import FairQueue
from agents.llm.schemas import first_error, make_validator, prepare_schema
from agents.llm.types import Backend, Completion, LLMStatus, Message

ROLES = frozenset({"system", "user", "assistant"})
MAX_LABELS = 100
# Retries of a JSON answer sample instead of decoding greedily: at temperature 0 the
# same prompt would give the same invalid answer again.
RETRY_TEMPERATURE = 0.7
# room for the chat template's role markers around the messages
TEMPLATE_OVERHEAD_TOKENS = 32


class LLMService:
    """Chat completions, streaming, JSON extraction and classification over one backend.

    A local model is shared by every caller and served one call at a time in arrival
    order; a caller that waits longer than `queue_timeout_s` gets LLMBusyError. The model
    loads on the first call that needs it (or on `load()`).
    """

    def __init__(
        self,
        backend: Backend,
        *,
        max_json_attempts: int = 3,
        queue_timeout_s: float | None = 300.0,
    ) -> None:
        if max_json_attempts < 1:
            raise ValueError("max_json_attempts must be at least 1")
        self.backend = backend
        self._max_json_attempts = max_json_attempts
        self._queue_timeout_s = queue_timeout_s
        self._queue = FairQueue()

    def load(self) -> None:
        """Load the model now instead of on first use (for warm-up at start)."""
        self.backend.load()

    def close(self) -> None:
        """Release the model or connection pool."""
        self.backend.close()

    def status(self) -> LLMStatus:
        """Whether the model is loaded, which one, roughly how much memory, queue length."""
        return LLMStatus(
            backend=self.backend.kind,
            model=self.backend.model_name,
            loaded=self.backend.loaded,
            memory_bytes=self.backend.memory_bytes(),
            context_window=self.backend.context_window,
            busy=self._queue.busy,
            waiting=self._queue.waiting,
        )

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` for this model (an estimate for remote servers)."""
        return self.backend.count_tokens(text)

    def truncate_to_tokens(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` (cut at a whitespace) that fits in `max_tokens`."""
        if max_tokens <= 0:
            return ""
        total = self.count_tokens(text)
        while total > max_tokens:
            # shrink in proportion to the overshoot, a little more so it converges fast
            keep = int(len(text) * max_tokens / total * 0.95)
            cut = text.rfind(" ", 0, keep)
            text = text[: cut if cut > keep // 2 else keep]
            total = self.count_tokens(text)
        return text

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Completion:
        """The model's answer to a chat; temperature 0 decodes greedily (repeatable)."""
        _check_request(messages, max_tokens, temperature)
        with self._turn():
            return self.backend.complete(
                messages, max_tokens=max_tokens, temperature=temperature, stop=stop
            )

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        repeat_penalty: float = 1.0,
    ) -> Iterator[str]:
        """Token pieces of the answer as they are produced.

        `repeat_penalty` > 1 makes tokens already in the context less likely (llama.cpp's
        penalty; sent as `frequency_penalty` to OpenAI-compatible servers). The caller's
        turn on a local model starts at the first `next()` and ends when the iterator is
        exhausted or closed: close it (or drop it) when stopping early.
        """
        _check_request(messages, max_tokens, temperature)
        if not 0.5 <= repeat_penalty <= 2.0:
            raise LLMRequestError("repeat_penalty must be between 0.5 and 2")
        return self._stream(messages, max_tokens, temperature, stop, repeat_penalty)

    def generate_json(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> dict[str, Any]:
        """A JSON object valid against `schema`, produced under a grammar built from it.

        Raises InvalidSchemaError or UnsupportedSchemaError (422) before generating when
        the schema is not usable, and SchemaUnsatisfiedError when the output still fails
        validation (for keywords checked after generation) after every attempt.
        """
        _check_request(messages, max_tokens, temperature)
        system = render_prompt("json_system", schema=json.dumps(schema, ensure_ascii=False))
        return self._json(_with_system(messages, system), schema, max_tokens, temperature)

    def classify(self, text: str, labels: Sequence[str], *, instructions: str = "") -> str:
        """Exactly one of `labels` for `text`; long texts are cut to fit the context."""
        labels = _check_labels(labels)
        schema = {
            "type": "object",
            "properties": {"label": {"type": "string", "enum": labels}},
            "required": ["label"],
            "additionalProperties": False,
        }
        system = render_prompt(
            "classify_system",
            labels=", ".join(json.dumps(x) for x in labels),
            instructions=instructions,
        )
        max_tokens = max(self.count_tokens(json.dumps({"label": x})) for x in labels) + 8
        room = (
            self.backend.context_window
            - self.count_tokens(system)
            - max_tokens
            - TEMPLATE_OVERHEAD_TOKENS
        )
        messages: list[Message] = [
            {"role": "system", "content": system},
            {"role": "user", "content": self.truncate_to_tokens(text, room)},
        ]
        return str(self._json(messages, schema, max_tokens, 0.0)["label"])

    def _json(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        max_tokens: int,
        temperature: float,
    ) -> dict[str, Any]:
        grammar_schema = prepare_schema(schema)
        validator = make_validator(schema)
        self.backend.check_schema(grammar_schema)
        problem = ""
        for attempt in range(self._max_json_attempts):
            retry = attempt > 0
            with self._turn():
                completion = self.backend.complete(
                    messages,
                    max_tokens=max_tokens,
                    temperature=max(temperature, RETRY_TEMPERATURE) if retry else temperature,
                    stop=(),
                    json_schema=grammar_schema,
                    seed=attempt if retry else None,
                )
            value, problem = _parse_object(completion)
            if value is not None:
                error = first_error(validator, value)
                if error is None:
                    return value
                problem = error
        raise SchemaUnsatisfiedError(
            f"the model's output did not satisfy the schema after {self._max_json_attempts} "
            f"attempts; last problem {problem}"
        )

    def _stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        repeat_penalty: float = 1.0,
    ) -> Iterator[str]:
        with self._turn():
            pieces = self.backend.stream(
                messages,
                max_tokens=max_tokens,
                temperature=temperature,
                stop=stop,
                repeat_penalty=repeat_penalty,
            )
            try:
                yield from pieces
            finally:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()  # ends the backend's generation before the turn passes on

    @contextmanager
    def _turn(self) -> Iterator[None]:
        if not self.backend.serialize:
            yield
            return
        if not self._queue.acquire(self._queue_timeout_s):
            raise LLMBusyError(
                f"the language model stayed busy for {self._queue_timeout_s} s; try again later"
            )
        try:
            yield
        finally:
            self._queue.release()


def _parse_object(completion: Completion) -> tuple[dict[str, Any] | None, str]:
    try:
        value = json.loads(completion.text)
    except ValueError:
        cut = " (cut off by max_tokens)" if completion.finish_reason == "length" else ""
        return None, f"at /: the output is not complete JSON{cut}"
    if not isinstance(value, dict):
        return None, "at /: the output is not a JSON object"
    return value, ""


def _with_system(messages: Sequence[Message], system: str) -> list[Message]:
    """Put our instructions first, ahead of any system message the caller gave."""
    out = list(messages)
    if out and out[0]["role"] == "system":
        return [{"role": "system", "content": f"{system}\n\n{out[0]['content']}"}, *out[1:]]
    return [{"role": "system", "content": system}, *out]


def _check_request(messages: Sequence[Message], max_tokens: int, temperature: float) -> None:
    if not messages:
        raise LLMRequestError("at least one message is needed")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise LLMRequestError(f"message {i} needs a role of system, user or assistant")
        if not isinstance(message.get("content"), str):
            raise LLMRequestError(f"message {i} needs text content")
    if max_tokens < 1:
        raise LLMRequestError("max_tokens must be at least 1")
    if not 0.0 <= temperature <= 2.0:
        raise LLMRequestError("temperature must be between 0 and 2")


def _check_labels(labels: Sequence[str]) -> list[str]:
    """The labels as a list, or InvalidLabelsError (422) naming the first problem: they
    become grammar literals, and llama.cpp aborts the process on some of them."""
    if isinstance(labels, str) or not isinstance(labels, Sequence) or not labels:
        raise InvalidLabelsError("labels must be a non-empty list of strings")
    if len(labels) > MAX_LABELS:
        raise InvalidLabelsError(f"at most {MAX_LABELS} labels are allowed, not {len(labels)}")
    out = []
    for i, label in enumerate(labels):
        if not isinstance(label, str):
            raise InvalidLabelsError(f"label {i} is not text")
        problem = literal_problem(label, max_chars=MAX_LITERAL_CHARS)
        if problem is not None:
            raise InvalidLabelsError(f"label {i} {problem}")
        out.append(label)
    if len(set(out)) != len(out):
        raise InvalidLabelsError("labels must be unique")
    return out
