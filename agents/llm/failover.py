"""The LLM over several OpenAI-compatible endpoints serving the same model, with fail-over.

Each call goes to the first endpoint of the pool not known to be down. When an endpoint
cannot be reached (connection refused, or 429/5xx after its own retries) it is marked
down and the call moves on to the next one; the caller sees an error only when every
endpoint failed. A stream fails over only before its first piece: after that the caller
already has text that another server would not continue.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from agents.llm.endpoints import EndpointPool
from agents.llm.errors import LLMUnavailableError
from agents.llm.openai_backend import OpenAICompatibleBackend
from agents.llm.types import Completion, Message


class FailoverBackend:
    """A Backend whose calls fail over across `pool`'s endpoints, in order."""

    kind = "openai-compatible"
    serialize = False

    def __init__(self, pool: EndpointPool[OpenAICompatibleBackend]) -> None:
        self.pool = pool
        first = pool.endpoints[0]
        self.model_name = first.model_name
        self._first = first

    @property
    def loaded(self) -> bool:
        """True while some endpoint is believed reachable (the UI shows it as loaded)."""
        return self.pool.available

    @property
    def context_window(self) -> int:
        return self._first.context_window

    def load(self) -> None:
        for endpoint in self.pool.endpoints:
            endpoint.load()

    def close(self) -> None:
        for endpoint in self.pool.endpoints:
            endpoint.close()

    def memory_bytes(self) -> int:
        return 0

    def count_tokens(self, text: str) -> int:
        return self._first.count_tokens(text)

    def check_schema(self, schema: dict[str, Any]) -> None:
        self._first.check_schema(schema)

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
        """The first endpoint that answers completes the chat."""
        failure: LLMUnavailableError | None = None
        for endpoint in self.pool.candidates():
            try:
                completion = endpoint.complete(
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stop=stop,
                    json_schema=json_schema,
                    seed=seed,
                )
            except LLMUnavailableError as error:
                self.pool.mark_down(endpoint, error.message)
                failure = error
                continue
            self.pool.mark_up(endpoint)
            return completion
        raise _all_down(failure)

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        repeat_penalty: float = 1.0,
    ) -> Iterator[str]:
        """Pieces from the first endpoint that starts answering."""
        failure: LLMUnavailableError | None = None
        for endpoint in self.pool.candidates():
            pieces = endpoint.stream(
                messages,
                max_tokens=max_tokens,
                temperature=temperature,
                stop=stop,
                repeat_penalty=repeat_penalty,
            )
            try:
                first = next(pieces, None)
            except LLMUnavailableError as error:
                self.pool.mark_down(endpoint, error.message)
                failure = error
                continue
            self.pool.mark_up(endpoint)
            try:
                if first is not None:
                    yield first
                yield from pieces
            finally:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()  # stops the server's generation when the caller stops early
            return
        raise _all_down(failure)


def _all_down(failure: LLMUnavailableError | None) -> LLMUnavailableError:
    reason = f": {failure.message}" if failure is not None else ""
    return LLMUnavailableError(f"no LLM endpoint is reachable{reason}")
