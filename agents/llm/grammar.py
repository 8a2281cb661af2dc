"""GBNF grammars for llama.cpp, built from prepared JSON Schemas and checked before use.

llama.cpp turns a grammar it cannot parse into a sampler that constrains nothing and
only logs the parse error, so every grammar is parsed once up front by llama.cpp's own
parser (with the log captured) and refused if it fails.
"""

import ctypes
import json
import threading
from typing import Any

from agents.llm.errors import UnsupportedSchemaError

_LLAMA_LOG_ERROR = 3
# the log callback is process-wide: probes take turns so captured errors are their own
_PROBE_LOCK = threading.Lock()


def schema_to_gbnf(schema: dict[str, Any]) -> str:
    """The GBNF text for a prepared schema (see agents.llm.schemas.prepare_schema)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        return json_schema_to_gbnf(json.dumps(schema))
    except (AssertionError, ValueError, KeyError, TypeError) as error:
        # the converter reports what it cannot translate with asserts and ValueErrors
        raise UnsupportedSchemaError(
            f"the schema cannot be turned into a grammar: {error}", keyword="", path="/"
        ) from None


def grammar_parse_error(vocab: Any, gbnf: str) -> str | None:
    """llama.cpp's own complaint about `gbnf` (None when it parses) for the model's vocab."""
    import llama_cpp
    from llama_cpp import _logger

    errors: list[str] = []

    @llama_cpp.llama_log_callback
    def capture(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        message = text.decode("utf-8", "replace")
        if level == _LLAMA_LOG_ERROR and "grammar" in message:
            errors.append(message.strip())

    with _PROBE_LOCK:
        llama_cpp.llama_log_set(capture, ctypes.c_void_p(0))
        try:
            sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), b"root")
        finally:
            # give the log back to llama-cpp-python's own handler
            llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
    if sampler:
        llama_cpp.llama_sampler_free(sampler)
    if not sampler or errors:
        return errors[0].splitlines()[0] if errors else "llama.cpp rejected the grammar"
    return None
