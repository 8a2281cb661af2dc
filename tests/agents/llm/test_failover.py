"""Fail-over across OpenAI-compatible endpoints, with a real llama.cpp server as the one
that answers and a loopback port where nothing listens as the one that is down."""

from collections.abc import Iterator

import jsonschema
import pytest

from agents.llm import LLMService, LLMUnavailableError, Message, OpenAICompatibleBackend
from agents.llm.config import OpenAICompatibleConfig
from agents.llm.endpoints import EndpointPool, public_url
from agents.llm.failover import FailoverBackend
from tests.llama_server import SERVER_N_CTX, LlamaServer, free_port

pytestmark = pytest.mark.slow

CANARY_KEY = "sk-canary-7f3a9e1d"
QUESTION: list[Message] = [{"role": "user", "content": "What is the capital of France?"}]


def _backend(base_url: str, model: str, **extra: object) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(
        OpenAICompatibleConfig(
            base_url=base_url,
            model=model,
            context_window=SERVER_N_CTX,
            json_format="json_object",
            max_retries=0,
            connect_timeout_s=2.0,
            **extra,  # type: ignore[arg-type]
        )
    )


def _dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


@pytest.fixture
def pool(llama_server: LlamaServer) -> Iterator[EndpointPool[OpenAICompatibleBackend]]:
    """A dead endpoint first (carrying an API key), the real server second."""
    endpoints = [
        _backend(_dead_url(), llama_server.alias, api_key=CANARY_KEY),
        _backend(llama_server.base_url, llama_server.alias),
    ]
    made = EndpointPool(endpoints, recheck_after_s=3600)
    yield made
    for endpoint in endpoints:
        endpoint.close()


def test_a_call_fails_over_to_the_next_endpoint_and_remembers_the_dead_one(
    pool: EndpointPool[OpenAICompatibleBackend],
) -> None:
    # GIVEN a pool whose first endpoint is down WHEN a chat is completed
    llm = LLMService(FailoverBackend(pool))
    completion = llm.complete(QUESTION, max_tokens=8)
    # THEN the second endpoint answered, and the first is known to be down
    assert completion.text.strip()
    states = pool.health(max_age_s=3600)
    assert [s.up for s in states] == [False, True]
    assert "unreachable" in states[0].detail
    # AND the next call goes straight to the live endpoint
    assert pool.candidates() == [pool.endpoints[1]]


def test_a_stream_and_grammar_constrained_json_fail_over_too(
    pool: EndpointPool[OpenAICompatibleBackend],
) -> None:
    llm = LLMService(FailoverBackend(pool))
    # GIVEN the dead endpoint first WHEN streaming THEN the pieces come from the live one
    assert "".join(llm.stream(QUESTION, max_tokens=8)).strip()
    # WHEN JSON is asked for under a schema THEN it is valid (the server's grammar)
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 30}, "year": {"type": "integer"}},
        "required": ["city", "year"],
    }
    ask: list[Message] = [
        {"role": "user", "content": "Paris hosted the Olympics in 1924. City and year?"}
    ]
    jsonschema.validate(llm.generate_json(ask, schema, max_tokens=48), schema)


def test_with_every_endpoint_down_the_error_says_so_without_the_key() -> None:
    # GIVEN two endpoints where nothing listens, one with an API key
    pool = EndpointPool(
        [_backend(_dead_url(), "m", api_key=CANARY_KEY), _backend(_dead_url(), "m")]
    )
    llm = LLMService(FailoverBackend(pool))
    # WHEN a chat is asked for THEN 503 llm_unavailable, and the key is nowhere
    with pytest.raises(LLMUnavailableError) as caught:
        llm.complete(QUESTION, max_tokens=4)
    assert caught.value.status_code == 503
    assert "no LLM endpoint is reachable" in caught.value.message
    assert CANARY_KEY not in str(caught.value) and CANARY_KEY not in repr(caught.value)
    assert all(CANARY_KEY not in repr(s) for s in pool.health(0))
    assert not llm.status().loaded


def test_a_down_endpoint_is_tried_again_once_its_recheck_is_due(
    llama_server: LlamaServer,
) -> None:
    # GIVEN the live server marked down, with an immediate recheck
    live = _backend(llama_server.base_url, llama_server.alias)
    pool = EndpointPool([live], recheck_after_s=0)
    pool.mark_down(live, "was down")
    # WHEN a call comes THEN it is tried again, answers, and counts as up
    assert LLMService(FailoverBackend(pool)).complete(QUESTION, max_tokens=4).text
    assert pool.available
    live.close()


def test_public_urls_carry_no_credentials() -> None:
    assert public_url("https://user:secret@llm.example:8443/v1?key=x#y") == (
        "https://llm.example:8443/v1"
    )
