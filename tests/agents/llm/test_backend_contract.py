"""One contract, three backends: llama.cpp in its own model process (the default), in
this process, and the OpenAI-compatible backend talking to a real llama.cpp server
(llama-cpp-python's) on 127.0.0.1, all over the packaged SmolLM2 GGUF. What a caller of
LLMService may rely on holds for each."""

from collections.abc import Iterator

import jsonschema
import pytest

from agents.llm import (
    LlamaCppBackend,
    LlamaProcessBackend,
    LLMConfig,
    LLMService,
    Message,
    OpenAICompatibleBackend,
    OpenAICompatibleConfig,
    PromptTooLongError,
)
from agents.models import locate_llm_model
from tests.llama_server import LlamaServer

pytestmark = pytest.mark.slow

N_CTX = 1024
QUESTION: list[Message] = [{"role": "user", "content": "What is the capital of France?"}]
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 40}, "year": {"type": "integer"}},
    "required": ["city", "year"],
}


@pytest.fixture(
    scope="module",
    params=["llama.cpp model process", "llama.cpp in process", "OpenAI-compatible server"],
)
def service(request: pytest.FixtureRequest) -> Iterator[LLMService]:
    if request.param == "llama.cpp model process":
        llm = LLMService(
            LlamaProcessBackend(locate_llm_model(""), LLMConfig(n_ctx=N_CTX, n_threads=2))
        )
    elif request.param == "llama.cpp in process":
        backend = LlamaCppBackend(locate_llm_model(""), LLMConfig(n_ctx=N_CTX, n_threads=2))
        llm = LLMService(backend)
    else:
        server: LlamaServer = request.getfixturevalue("llama_server")
        llm = LLMService(
            OpenAICompatibleBackend(
                OpenAICompatibleConfig(
                    base_url=server.base_url,
                    model=server.alias,
                    context_window=N_CTX,
                    json_format="json_object",
                )
            )
        )
    yield llm
    llm.close()


def test_a_completion_has_text_and_token_usage(service: LLMService) -> None:
    # GIVEN a question WHEN completed with a small limit
    completion = service.complete(QUESTION, max_tokens=16)
    # THEN there is text, and usage within the limit
    assert completion.text.strip()
    assert 0 < completion.completion_tokens <= 16
    assert completion.prompt_tokens > 0
    assert completion.finish_reason in ("stop", "length")


def test_greedy_completions_repeat(service: LLMService) -> None:
    first = service.complete(QUESTION, max_tokens=12).text
    assert service.complete(QUESTION, max_tokens=12).text == first


def test_a_stream_joins_to_the_completion(service: LLMService) -> None:
    # GIVEN the same greedy request WHEN streamed THEN the pieces make the completion
    pieces = list(service.stream(QUESTION, max_tokens=12))
    assert len(pieces) > 1
    assert "".join(pieces) == service.complete(QUESTION, max_tokens=12).text


def test_json_generation_is_valid_against_the_schema(service: LLMService) -> None:
    ask: list[Message] = [
        {"role": "user", "content": "Paris hosted the Olympics in 1924. Give city and year."}
    ]
    value = service.generate_json(ask, SCHEMA, max_tokens=60)
    jsonschema.validate(value, SCHEMA)


def test_classify_returns_one_of_the_labels(service: LLMService) -> None:
    text = "Invoice 42: 3 chairs, total 120 EUR, due in 30 days."
    assert service.classify(text, ["invoice", "contract", "letter"]) in {
        "invoice",
        "contract",
        "letter",
    }


def test_a_prompt_longer_than_the_context_is_refused_with_413(service: LLMService) -> None:
    long_prompt: list[Message] = [{"role": "user", "content": "word " * (N_CTX * 2)}]
    with pytest.raises(PromptTooLongError) as caught:
        service.complete(long_prompt, max_tokens=8)
    assert caught.value.status_code == 413
