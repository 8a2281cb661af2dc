"""The local backend: one llama.cpp model in this process, loaded on first use."""

import atexit
import json
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from agents.llm.config import LLMConfig
from agents.llm.errors import (
    LLMError,
    LLMUnavailableError,
    PromptTooLongError,
    UnsupportedSchemaError,
)
from agents.llm.grammar import grammar_parse_error, schema_to_gbnf
from agents.llm.types import Completion, Message
from agents.models import ModelLocation
from agents.openmp_policy import apply_openmp_wait_policy

# Llama() reads its model defaults through this module attribute; swapping it briefly is
# the only way to reach `use_extra_bufts`, so constructions take turns.
_CONSTRUCT_LOCK = threading.Lock()
_KV_BYTES_PER_VALUE = 2  # llama.cpp keeps the KV cache in f16 by default
# llama-cpp-python's built-in formats that silently drop the system message (the answer
# instructions); for these the system text is put at the top of the first user turn
SYSTEM_DROPPING_FORMATS = frozenset({"mistral-instruct", "gemma"})


def fold_system_message(messages: Sequence[Message]) -> list[Message]:
    """System messages moved to the top of the first user message (Gemma's and
    Mistral's own templates do the same)."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest: list[Message] = [
        {"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"
    ]
    if not system:
        return rest
    for message in rest:
        if message["role"] == "user":
            message["content"] = f"{system}\n\n{message['content']}"
            return rest
    return [{"role": "user", "content": system}, *rest]


class LlamaCppBackend:
    """llama-cpp-python over a GGUF file. Not safe for overlapping calls (`serialize`)."""

    kind = "llama.cpp"
    serialize = True

    def __init__(self, model: ModelLocation, config: LLMConfig | None = None) -> None:
        self.model_name = model.name
        self._path = model.path
        self._config = config or LLMConfig()
        self._llm: Any = None
        self._load_lock = threading.Lock()
        self._grammars: dict[str, Any] = {}

    @property
    def loaded(self) -> bool:
        """True once the model file is in memory."""
        return self._llm is not None

    @property
    def context_window(self) -> int:
        """Tokens of prompt plus answer that fit (n_ctx)."""
        return self._config.n_ctx

    def load(self) -> None:
        """Load the model unless it is already loaded (safe to call from many threads)."""
        with self._load_lock:
            if self._llm is None:
                self._llm = construct_llama(self._path, self._config)

    def close(self) -> None:
        """Free the model; the next call loads it again."""
        with self._load_lock:
            llm, self._llm = self._llm, None
            self._grammars.clear()
        if llm is not None:
            llm.close()

    def memory_bytes(self) -> int:
        """Weights plus the KV cache for the whole context (0 when not loaded)."""
        llm = self._llm
        if llm is None:
            return 0
        import llama_cpp

        weights = int(llama_cpp.llama_model_size(llm.model))
        return weights + _kv_cache_bytes(llm.metadata, self._config.n_ctx)

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` in the model's own vocabulary (no BOS)."""
        self.load()
        # tokenizing only reads the vocabulary, so it needs no turn in the generation queue
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def check_schema(self, schema: dict[str, Any]) -> None:
        """Raise UnsupportedSchemaError unless llama.cpp can parse the schema's grammar."""
        self._grammar_for(schema)

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
        self.load()
        grammar = self._grammar_for(json_schema) if json_schema is not None else None
        with _llama_errors():
            result = self._llm.create_chat_completion(
                messages=self._chat(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                stop=list(stop),
                grammar=grammar,
                seed=self._config.seed if seed is None else seed,
            )
        choice = result["choices"][0]
        usage = result["usage"]
        return Completion(
            text=choice["message"]["content"] or "",
            prompt_tokens=int(usage["prompt_tokens"]),
            completion_tokens=int(usage["completion_tokens"]),
            finish_reason=choice.get("finish_reason") or "stop",
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
        """Token pieces as the model produces them."""
        self.load()
        with _llama_errors():
            chunks = self._llm.create_chat_completion(
                messages=self._chat(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                repeat_penalty=repeat_penalty,
                stop=list(stop),
                seed=self._config.seed,
                stream=True,
            )
            try:
                for chunk in chunks:
                    piece = chunk["choices"][0]["delta"].get("content")
                    if piece:
                        yield piece
            finally:
                chunks.close()

    def _chat(self, messages: Sequence[Message]) -> list[Message]:
        """The messages as the configured chat format can take them."""
        if self._config.chat_format in SYSTEM_DROPPING_FORMATS:
            return fold_system_message(messages)
        return list(messages)

    def _grammar_for(self, schema: dict[str, Any]) -> Any:
        self.load()
        key = json.dumps(schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            from llama_cpp.llama_grammar import LlamaGrammar

            gbnf = schema_to_gbnf(schema)
            error = grammar_parse_error(self._llm._model.vocab, gbnf)
            if error is not None:
                raise UnsupportedSchemaError(
                    f"the schema's grammar does not parse in llama.cpp: {error}",
                    keyword="",
                    path="/",
                )
            grammar = LlamaGrammar.from_string(gbnf, verbose=False)
            self._grammars[key] = grammar
        return grammar


@contextmanager
def _llama_errors() -> Iterator[None]:
    """Turn llama-cpp-python's ValueErrors into LLMErrors with a stable code."""
    try:
        yield
    except ValueError as error:
        if "exceed context window" in str(error):
            raise PromptTooLongError(f"the prompt does not fit the context: {error}") from None
        raise LLMError(f"llama.cpp failed: {error}") from error


def construct_llama(path: Any, config: LLMConfig) -> Any:
    """A llama_cpp.Llama for the GGUF at `path` with `config` (LLMUnavailableError if the
    file does not load or the configured chat format is unknown)."""
    apply_openmp_wait_policy()
    import llama_cpp
    import llama_cpp.llama_cpp as native

    _check_chat_format(config.chat_format)

    with _CONSTRUCT_LOCK:
        original = native.llama_model_default_params

        def defaults() -> Any:
            params = original()
            if hasattr(params, "use_extra_bufts"):
                params.use_extra_bufts = config.extra_buffer_types
            return params

        native.llama_model_default_params = defaults
        try:
            return llama_cpp.Llama(
                model_path=str(path),
                n_ctx=config.n_ctx,
                n_threads=config.n_threads,
                # prompt processing would otherwise use every core, not the configured ones
                n_threads_batch=config.n_threads,
                n_gpu_layers=config.n_gpu_layers,
                seed=config.seed,
                chat_format=config.chat_format or None,
                flash_attn=config.flash_attention,
                verbose=False,
            )
        except (ValueError, OSError) as error:
            raise LLMUnavailableError(f"the model {path} could not be loaded: {error}") from None
        finally:
            native.llama_model_default_params = original


def _check_chat_format(name: str) -> None:
    """Refuse an unknown chat format name at load time, not at the first question."""
    if not name:
        return
    from llama_cpp.llama_chat_format import LlamaChatCompletionHandlerRegistry

    known = sorted(LlamaChatCompletionHandlerRegistry()._chat_handlers)
    if name not in known:
        raise LLMUnavailableError(
            f"unknown models.llm_chat_format {name!r}; one of: {', '.join(known)}"
        )


def _close_devnull_files() -> None:
    """llama-cpp-python keeps two /dev/null files open for the life of the process and
    never closes them, which shows up as a ResourceWarning at exit."""
    utils = sys.modules.get("llama_cpp._utils")  # never import llama_cpp just to exit
    for name in ("outnull_file", "errnull_file"):
        handle = getattr(utils, name, None)
        if handle is not None and not handle.closed:
            handle.close()


atexit.register(_close_devnull_files)


def _kv_cache_bytes(metadata: dict[str, str], n_ctx: int) -> int:
    """K and V for every layer and position, from the GGUF header (0 if it lacks the keys)."""
    arch = metadata.get("general.architecture", "")
    try:
        layers = int(metadata[f"{arch}.block_count"])
        embedding = int(metadata[f"{arch}.embedding_length"])
        heads = int(metadata[f"{arch}.attention.head_count"])
        kv_heads = int(metadata.get(f"{arch}.attention.head_count_kv", heads))
    except (KeyError, ValueError):
        return 0
    head_dim = int(metadata.get(f"{arch}.attention.key_length", embedding // max(heads, 1)))
    return 2 * layers * kv_heads * head_dim * n_ctx * _KV_BYTES_PER_VALUE
