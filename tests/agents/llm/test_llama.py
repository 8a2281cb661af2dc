"""The LLM service over the real SmolLM2-135M GGUF model: completion, streaming, tokens."""

from collections.abc import Iterator

import pytest

from agents.llm import (
    LlamaCppBackend,
    LLMConfig,
    LLMRequestError,
    LLMService,
    Message,
    PromptTooLongError,
)
from agents.models import locate_llm_model

QUESTION: list[Message] = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def service() -> Iterator[LLMService]:
    llm = LLMService(LlamaCppBackend(locate_llm_model(""), LLMConfig(n_ctx=512, n_threads=2)))
    yield llm
    llm.close()


def test_model_loads_lazily_and_status_reports_it(service: LLMService) -> None:
    # GIVEN a fresh service WHEN nothing has been asked yet
    before = service.status()
    # THEN the model is not loaded and uses no memory
    assert not before.loaded and before.memory_bytes == 0
    assert before.backend == "llama.cpp" and before.model == "SmolLM2-135M-Instruct.Q4_1"
    # WHEN the first question arrives THEN the model loads and reports its size
    service.complete(QUESTION, max_tokens=4)
    after = service.status()
    assert after.loaded
    assert 50_000_000 < after.memory_bytes < 500_000_000
    assert after.context_window == 512 and not after.busy and after.waiting == 0


def test_complete_answers_with_token_usage(service: LLMService) -> None:
    # GIVEN a plain question WHEN completed greedily with a small limit
    completion = service.complete(QUESTION, max_tokens=20)
    # THEN there is an answer and the usage counts are the model's own
    assert completion.text.strip()
    assert 0 < completion.completion_tokens <= 20
    assert completion.prompt_tokens > service.count_tokens(QUESTION[0]["content"])
    assert completion.finish_reason in ("stop", "length")


def test_greedy_completion_is_repeatable(service: LLMService) -> None:
    # GIVEN temperature 0 WHEN the same question is asked twice THEN the answers match
    first = service.complete(QUESTION, max_tokens=16).text
    assert service.complete(QUESTION, max_tokens=16).text == first


def test_stream_yields_pieces_that_join_to_the_completion(service: LLMService) -> None:
    # GIVEN the same greedy request WHEN streamed and completed
    pieces = list(service.stream(QUESTION, max_tokens=16))
    whole = service.complete(QUESTION, max_tokens=16).text
    # THEN the stream came in several pieces that make the same text
    assert len(pieces) > 1
    assert "".join(pieces) == whole


def test_stream_closed_early_frees_the_model_for_the_next_caller(service: LLMService) -> None:
    # GIVEN a stream that the caller abandons after one piece
    stream = service.stream(QUESTION, max_tokens=50)
    next(stream)
    assert service.status().busy
    stream.close()  # type: ignore[attr-defined]
    # THEN the turn is released and another call runs
    assert not service.status().busy
    assert service.complete(QUESTION, max_tokens=4).text


def test_stop_sequence_ends_generation(service: LLMService) -> None:
    # GIVEN a counting prompt WHEN "3" is a stop sequence THEN the text stops before it
    messages: list[Message] = [{"role": "user", "content": "Count from 1 to 10, digits only."}]
    text = service.complete(messages, max_tokens=40, stop=["3"]).text
    assert "3" not in text


def test_count_tokens_uses_the_llama_vocabulary(service: LLMService) -> None:
    # GIVEN texts of known shape WHEN counted
    # THEN the empty text has none, words add tokens, and no BOS token is included
    assert service.count_tokens("") == 0
    assert service.count_tokens("Hello world") == 2
    long = "The quick brown fox jumps over the lazy dog. " * 20
    assert 180 <= service.count_tokens(long) <= 220


def test_truncate_to_tokens_keeps_a_prefix_within_budget(service: LLMService) -> None:
    # GIVEN a long text WHEN cut to 50 tokens
    text = "Offline appliances keep documents private. " * 40
    cut = service.truncate_to_tokens(text, 50)
    # THEN it is a prefix that fits, and not much shorter than it could be
    assert text.startswith(cut)
    assert 40 <= service.count_tokens(cut) <= 50


def test_prompt_longer_than_the_context_is_refused_with_413(service: LLMService) -> None:
    # GIVEN a prompt far beyond n_ctx=512 WHEN completed
    messages: list[Message] = [{"role": "user", "content": "word " * 2000}]
    # THEN a PromptTooLongError says so, and the model still works afterwards
    with pytest.raises(PromptTooLongError) as caught:
        service.complete(messages, max_tokens=8)
    assert caught.value.status_code == 413 and caught.value.code == "prompt_too_long"
    assert service.complete(QUESTION, max_tokens=4).text


@pytest.mark.parametrize(
    ("messages", "max_tokens", "temperature"),
    [
        ([], 8, 0.0),
        ([{"role": "robot", "content": "hi"}], 8, 0.0),
        ([{"role": "user", "content": None}], 8, 0.0),
        (QUESTION, 0, 0.0),
        (QUESTION, 8, 3.0),
    ],
)
def test_malformed_requests_are_refused_before_generation(
    service: LLMService, messages: list[Message], max_tokens: int, temperature: float
) -> None:
    # GIVEN a malformed request WHEN completed THEN a 400 LLMRequestError explains it
    with pytest.raises(LLMRequestError) as caught:
        service.complete(messages, max_tokens=max_tokens, temperature=temperature)
    assert caught.value.status_code == 400 and caught.value.code == "invalid_llm_request"
