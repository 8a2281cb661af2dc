"""One model process for the LLM tests of this package (starting one loads the model)."""

from collections.abc import Iterator

import pytest

from agents.llm import LlamaProcessBackend, LLMConfig, LLMService
from agents.models import locate_llm_model


@pytest.fixture(scope="session")
def process_service() -> Iterator[LLMService]:
    """The real SmolLM2 model in its own process, behind the shared service."""
    service = LLMService(
        LlamaProcessBackend(locate_llm_model(""), LLMConfig(n_ctx=512, n_threads=2))
    )
    yield service
    service.close()
