"""Value types shared by the LLM service and its backends."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypedDict


class Message(TypedDict):
    """One chat message in the OpenAI shape, which both backends accept."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Completion:
    """A finished generation; `finish_reason` is "stop" or "length" (cut off by max_tokens)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"


@dataclass(frozen=True)
class LLMStatus:
    """What `/status` and `appliance doctor` show about the language model."""

    backend: str
    model: str
    loaded: bool
    memory_bytes: int
    context_window: int
    busy: bool
    waiting: int


class Backend(Protocol):
    """One way of running a chat model; the service adds locking, retries of JSON, prompts."""

    kind: str  # "llama.cpp" or "openai-compatible", shown in status
    model_name: str
    # True when calls must not overlap (one in-process model state); remote servers queue
    # requests themselves, so their backend lets callers through concurrently.
    serialize: bool

    @property
    def loaded(self) -> bool: ...

    @property
    def context_window(self) -> int: ...

    def load(self) -> None: ...

    def close(self) -> None: ...

    def memory_bytes(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def check_schema(self, schema: dict[str, Any]) -> None: ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        json_schema: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> Completion: ...

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        repeat_penalty: float = 1.0,
    ) -> Iterator[str]: ...
