"""The local backend the appliance runs: the llama.cpp model in its own supervised process.

llama.cpp aborts the whole process on some inputs (its grammar code calls abort()), and
an abort cannot be caught. In a child process it ends only the calls in flight there
(`model_crashed`, HTTP 503); the next call starts a new child, which loads the model
once and keeps it warm. Same contract as the in-process `LlamaCppBackend`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from agents.llm.config import LLMConfig
from agents.llm.model_process import ModelProcess
from agents.llm.types import Completion, Message
from agents.models import ModelLocation

DEFAULT_CALL_TIMEOUT_S = 600.0
DEFAULT_STARTUP_TIMEOUT_S = 300.0


class LlamaProcessBackend:
    """llama-cpp-python over a GGUF file, in a child process started on first use.

    Calls may come from many threads; generations run one at a time in the child
    (`serialize`, so the service queues callers fairly), token counts alongside them.
    A call waits at most `call_timeout_s` for each answer (or streamed piece) before the
    child is taken for hung, stopped, and the call fails with `model_crashed`.
    """

    kind = "llama.cpp"
    serialize = True

    def __init__(
        self,
        model: ModelLocation,
        config: LLMConfig | None = None,
        *,
        call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S,
        startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
    ) -> None:
        if call_timeout_s <= 0 or startup_timeout_s <= 0:
            raise ValueError("timeouts must be positive")
        self.model_name = model.name
        self._model = model
        self._config = config or LLMConfig()
        self._call_timeout_s = call_timeout_s
        self._startup_timeout_s = startup_timeout_s
        self._process: ModelProcess | None = None
        self._lock = threading.Lock()
        self.restarts = 0  # processes started after the first one (after a crash)

    @property
    def loaded(self) -> bool:
        """True while a model process is running with the model in memory."""
        process = self._process
        return process is not None and process.alive

    @property
    def context_window(self) -> int:
        """Tokens of prompt plus answer that fit (n_ctx)."""
        return self._config.n_ctx

    @property
    def process_id(self) -> int | None:
        """The model process's id while it runs (for monitoring), else None."""
        process = self._process
        return process.pid if process is not None and process.alive else None

    def load(self) -> None:
        """Start the model process unless one is running (safe from many threads)."""
        self._running()

    def close(self) -> None:
        """Stop the model process; the next call starts a new one."""
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.close()

    def memory_bytes(self) -> int:
        """Weights plus the KV cache for the whole context (0 when not running)."""
        process = self._process
        return process.memory_bytes if process is not None and process.alive else 0

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` in the model's own vocabulary (no BOS)."""
        return int(self._running().call("count_tokens", text=text))

    def check_schema(self, schema: dict[str, Any]) -> None:
        """Raise UnsupportedSchemaError unless llama.cpp can parse the schema's grammar."""
        self._running().call("check_schema", schema=schema)

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
        """One chat completion; with `json_schema` the output follows its grammar."""
        value = self._running().call(
            "complete",
            messages=list(messages),
            max_tokens=max_tokens,
            temperature=temperature,
            stop=list(stop),
            json_schema=json_schema,
            seed=seed,
        )
        return Completion(
            text=str(value["text"]),
            prompt_tokens=int(value["prompt_tokens"]),
            completion_tokens=int(value["completion_tokens"]),
            finish_reason=str(value["finish_reason"]),
        )

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        repeat_penalty: float = 1.0,
    ) -> Iterator[str]:
        """Token pieces as the model produces them (closing early stops the generation)."""
        pieces = self._running().stream(
            messages=list(messages),
            max_tokens=max_tokens,
            temperature=temperature,
            stop=list(stop),
            repeat_penalty=repeat_penalty,
        )
        try:
            yield from pieces
        finally:
            pieces.close()  # a consumer that stops early stops the generation

    def _running(self) -> ModelProcess:
        """The live process, started (again) if there is none or the last one died."""
        with self._lock:
            process = self._process
            if process is not None and process.alive:
                return process
            if process is not None:
                process.close()  # reap the dead one (its crash was logged when it died)
                self.restarts += 1
            self._process = None
            self._process = ModelProcess(
                self._model,
                self._config,
                call_timeout_s=self._call_timeout_s,
                startup_timeout_s=self._startup_timeout_s,
            )
            return self._process
