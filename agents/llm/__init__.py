"""The LLM service: one shared local llama.cpp model, or any OpenAI-compatible server.

The appliance runs the local model in its own supervised process (`LlamaProcessBackend`);
`LlamaCppBackend` is the same model in this process (what that child runs). Heavy
libraries (llama_cpp) are imported only when a model is first used, so importing this
package costs nothing at server start.
"""

from agents.llm.config import LLMConfig, OpenAICompatibleConfig
from agents.llm.errors import (
    InvalidLabelsError,
    InvalidSchemaError,
    LLMBusyError,
    LLMError,
    LLMRequestError,
    LLMTimeoutError,
    LLMUnavailableError,
    LLMUpstreamError,
    ModelCrashedError,
    PromptTooLongError,
    SchemaUnsatisfiedError,
    UnsupportedSchemaError,
)
from agents.llm.llama_backend import LlamaCppBackend
from agents.llm.openai_backend import OpenAICompatibleBackend
from agents.llm.process_backend import LlamaProcessBackend
from agents.llm.prompts import load_prompt, render_prompt
from agents.llm.service import LLMService
from agents.llm.types import Backend, Completion, LLMStatus, Message

__all__ = [
    "Backend",
    "Completion",
    "InvalidLabelsError",
    "InvalidSchemaError",
    "LLMBusyError",
    "LLMConfig",
    "LLMError",
    "LLMRequestError",
    "LLMService",
    "LLMStatus",
    "LLMTimeoutError",
    "LLMUnavailableError",
    "LLMUpstreamError",
    "LlamaCppBackend",
    "LlamaProcessBackend",
    "Message",
    "ModelCrashedError",
    "OpenAICompatibleBackend",
    "OpenAICompatibleConfig",
    "PromptTooLongError",
    "SchemaUnsatisfiedError",
    "UnsupportedSchemaError",
    "load_prompt",
    "render_prompt",
]
