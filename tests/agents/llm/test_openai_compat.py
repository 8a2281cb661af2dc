"""The OpenAI-compatible backend against a small HTTP server on 127.0.0.1.

A real remote model server cannot run here, so the server is a tiny fake speaking the
/v1/chat/completions protocol (JSON and Server-Sent Events) with scripted failures.
"""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest

from agents.llm import (
    LLMService,
    LLMTimeoutError,
    LLMUnavailableError,
    LLMUpstreamError,
    Message,
    OpenAICompatibleBackend,
    OpenAICompatibleConfig,
    PromptTooLongError,
)


@dataclass
class Reply:
    status: int = 200
    content: str = "Paris is the capital of France."
    pieces: list[str] = field(default_factory=list)  # when set, answer as an SSE stream
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # raw body instead of a chat completion
    delay_s: float = 0.0


class FakeServer:
    """Answers each POST with the next scripted Reply (the last one repeats)."""

    def __init__(self) -> None:
        self.replies: list[Reply] = [Reply()]
        self.requests: list[dict[str, Any]] = []
        self.times: list[float] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                server.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": json.loads(self.rfile.read(length)),
                    }
                )
                server.times.append(time.monotonic())
                reply = server.replies.pop(0) if len(server.replies) > 1 else server.replies[0]
                time.sleep(reply.delay_s)
                try:
                    if reply.pieces:
                        self._stream(reply)
                    else:
                        self._json(reply)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (read-timeout test)

            def _json(self, reply: Reply) -> None:
                body = (
                    reply.body
                    if reply.body is not None
                    else json.dumps(
                        {
                            "id": "c1",
                            "object": "chat.completion",
                            "model": "remote-model",
                            "choices": [
                                {
                                    "index": 0,
                                    "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": reply.content},
                                }
                            ],
                            "usage": {
                                "prompt_tokens": 11,
                                "completion_tokens": 7,
                                "total_tokens": 18,
                            },
                        }
                    )
                )
                data = body.encode()
                self.send_response(reply.status)
                for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b": keep-alive comment\n\n")
                for piece in reply.pieces:
                    event = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.stop()


_OPENED: list[LLMService] = []


@pytest.fixture(autouse=True)
def close_services() -> Iterator[None]:
    """Close every service a test made, even when an assertion failed half-way."""
    yield
    while _OPENED:
        _OPENED.pop().close()


def make_service(url: str, **overrides: Any) -> LLMService:
    settings: dict[str, Any] = {
        "base_url": url,
        "model": "remote-model",
        "api_key": "sk-test-123",
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.2,
        "read_timeout_s": 5.0,
    }
    settings.update(overrides)
    service = LLMService(OpenAICompatibleBackend(OpenAICompatibleConfig(**settings)))
    _OPENED.append(service)
    return service


QUESTION: list[Message] = [{"role": "user", "content": "What is the capital of France?"}]


def test_completion_posts_the_chat_and_returns_text_and_usage(server: FakeServer) -> None:
    # GIVEN a remote server and a service configured with model and key
    service = make_service(server.url)
    # WHEN a completion is requested
    completion = service.complete(QUESTION, max_tokens=30, stop=["\n"])
    service.close()
    # THEN the answer and the server's token usage come back
    assert completion.text == "Paris is the capital of France."
    assert (completion.prompt_tokens, completion.completion_tokens) == (11, 7)
    # AND the request followed the OpenAI protocol, with the key as a bearer token
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test-123"
    assert request["json"]["model"] == "remote-model"
    assert request["json"]["messages"] == QUESTION
    assert request["json"]["max_tokens"] == 30 and request["json"]["stop"] == ["\n"]
    assert request["json"]["stream"] is False


def test_base_url_ending_in_v1_is_not_doubled(server: FakeServer) -> None:
    # GIVEN a base URL that already ends in /v1 WHEN used THEN the path is /v1/chat/completions
    service = make_service(server.url + "/v1/")
    service.complete(QUESTION, max_tokens=5)
    service.close()
    assert server.requests[0]["path"] == "/v1/chat/completions"


def test_stream_yields_the_server_sent_pieces_in_order(server: FakeServer) -> None:
    # GIVEN a server that streams four pieces as Server-Sent Events
    server.replies = [Reply(pieces=["Par", "is", " is", " lovely."])]
    service = make_service(server.url)
    # WHEN streamed THEN the pieces arrive in order, and the request asked for a stream
    assert list(service.stream(QUESTION, max_tokens=30)) == ["Par", "is", " is", " lovely."]
    service.close()
    assert server.requests[0]["json"]["stream"] is True


def test_a_503_is_retried_with_backoff_and_then_succeeds(server: FakeServer) -> None:
    # GIVEN a server that is overloaded twice, then answers
    server.replies = [
        Reply(status=503, body='{"error": {"message": "loading model"}}'),
        Reply(status=503, body="busy"),
        Reply(),
    ]
    service = make_service(server.url)
    # WHEN a completion is requested
    completion = service.complete(QUESTION, max_tokens=5)
    service.close()
    # THEN the third attempt's answer is returned, after growing pauses (0.05 s, 0.1 s)
    assert completion.text == "Paris is the capital of France."
    assert len(server.requests) == 3
    first_gap, second_gap = (b - a for a, b in pairwise(server.times))
    assert first_gap >= 0.05 and second_gap >= 0.1


def test_a_stream_is_retried_after_a_503_before_any_piece(server: FakeServer) -> None:
    # GIVEN a server that answers 503 once, then streams
    server.replies = [Reply(status=503, body="busy"), Reply(pieces=["ok", "!"])]
    service = make_service(server.url)
    # WHEN streamed THEN the retry is invisible to the caller
    assert "".join(service.stream(QUESTION, max_tokens=5)) == "ok!"
    service.close()
    assert len(server.requests) == 2


def test_429_honours_retry_after(server: FakeServer) -> None:
    # GIVEN a rate-limited first answer asking for a 0.15 s pause (above the backoff cap)
    server.replies = [Reply(status=429, headers={"Retry-After": "0.15"}, body="slow down"), Reply()]
    service = make_service(server.url, backoff_max_s=1.0)
    service.complete(QUESTION, max_tokens=5)
    service.close()
    # THEN the second request came after the requested pause
    assert len(server.requests) == 2 and server.times[1] - server.times[0] >= 0.15


def test_retries_give_up_with_503_unavailable(server: FakeServer) -> None:
    # GIVEN a server that always answers 502 WHEN asked with 2 retries allowed
    server.replies = [Reply(status=502, body='{"error": {"message": "upstream down"}}')]
    service = make_service(server.url, max_retries=2)
    with pytest.raises(LLMUnavailableError) as caught:
        service.complete(QUESTION, max_tokens=5)
    service.close()
    # THEN three attempts were made and the error carries the server's reason
    assert len(server.requests) == 3
    assert caught.value.status_code == 503 and "upstream down" in str(caught.value)


def test_a_refused_key_is_not_retried(server: FakeServer) -> None:
    # GIVEN a server refusing the API key WHEN asked
    server.replies = [Reply(status=401, body='{"error": {"message": "invalid api key"}}')]
    service = make_service(server.url)
    with pytest.raises(LLMUpstreamError) as caught:
        service.complete(QUESTION, max_tokens=5)
    service.close()
    # THEN one request only, a 502 naming the server's reason, and the key is not echoed
    assert len(server.requests) == 1
    assert caught.value.status_code == 502 and "invalid api key" in str(caught.value)
    assert "sk-test-123" not in str(caught.value)


def test_a_context_length_refusal_becomes_prompt_too_long(server: FakeServer) -> None:
    # GIVEN a server saying the prompt exceeds its context WHEN asked THEN 413
    server.replies = [Reply(status=400, body='{"error": {"message": "exceeds context length"}}')]
    service = make_service(server.url)
    with pytest.raises(PromptTooLongError):
        service.complete(QUESTION, max_tokens=5)
    service.close()


def test_nobody_listening_is_retried_then_unavailable() -> None:
    # GIVEN a port with no server WHEN asked with one retry
    fake = FakeServer()
    url = fake.url
    fake.stop()
    service = make_service(url, max_retries=1)
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as caught:
        service.complete(QUESTION, max_tokens=5)
    service.close()
    # THEN it waited one backoff pause and says the server is unreachable
    assert time.monotonic() - started >= 0.05
    assert "unreachable" in str(caught.value)


def test_a_server_slower_than_the_read_timeout_gives_504(server: FakeServer) -> None:
    # GIVEN a server taking 1 s and a 0.3 s read timeout WHEN asked
    server.replies = [Reply(delay_s=1.0)]
    service = make_service(server.url, read_timeout_s=0.3)
    with pytest.raises(LLMTimeoutError) as caught:
        service.complete(QUESTION, max_tokens=5)
    service.close()
    # THEN a 504 comes back and the slow request was not repeated
    assert caught.value.status_code == 504 and len(server.requests) == 1


def test_a_reply_that_is_not_a_chat_completion_is_an_upstream_error(server: FakeServer) -> None:
    # GIVEN a server answering 200 with HTML WHEN asked THEN a 502 upstream error
    server.replies = [Reply(body="<html>proxy login</html>")]
    service = make_service(server.url)
    with pytest.raises(LLMUpstreamError):
        service.complete(QUESTION, max_tokens=5)
    service.close()


def test_generate_json_sends_the_schema_and_validates_the_answer(server: FakeServer) -> None:
    # GIVEN a server whose first answer misses a required field, and whose second is right
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    server.replies = [Reply(content='{"town": "Paris"}'), Reply(content='{"city": "Paris"}')]
    service = make_service(server.url)
    # WHEN JSON is requested THEN the valid second answer is returned
    assert service.generate_json(QUESTION, schema) == {"city": "Paris"}
    # AND the schema went to the server as an OpenAI response_format, with the free
    # string bounded so a small model cannot ramble until max_tokens
    sent = server.requests[0]["json"]["response_format"]
    bounded = {**schema, "properties": {"city": {"type": "string", "maxLength": 160}}}
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"] == bounded
    # AND classification works through the same path
    server.replies = [Reply(content='{"label": "city"}')]
    assert service.classify("Paris", ["city", "country"]) == "city"
    service.close()


def test_remote_status_and_rough_token_count(server: FakeServer) -> None:
    # GIVEN a remote service WHEN asked for status and a token estimate
    service = make_service(server.url, context_window=4096)
    status = service.status()
    # THEN it reports the remote model, no local memory, and a plausible count
    assert (status.backend, status.model, status.memory_bytes) == (
        "openai-compatible",
        "remote-model",
        0,
    )
    assert status.context_window == 4096
    assert 10 <= service.count_tokens("The quick brown fox jumps over the lazy dog.") <= 15
    assert "sk-test-123" not in repr(service.backend._config)  # type: ignore[attr-defined]
