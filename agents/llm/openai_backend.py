"""The remote backend: any server speaking OpenAI's /v1/chat/completions (Ollama, vLLM,
llama.cpp's server). Retries with exponential backoff on 429, 5xx and connection errors."""

import json
import math
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from agents.llm.config import OpenAICompatibleConfig
from agents.llm.endpoints import public_url
from agents.llm.errors import (
    LLMTimeoutError,
    LLMUnavailableError,
    LLMUpstreamError,
    PromptTooLongError,
)
from agents.llm.server_http import ServerConnection, error_message, retry_after
from agents.llm.sse import iter_sse_data
from agents.llm.types import Completion, Message

# English averages about four characters per token; 3.5 over-counts a little, which is
# the safe side when budgeting a context window without the server's tokenizer.
_CHARS_PER_TOKEN = 3.5
_DETAIL_CHARS = 300
# a health probe must be quick: /health/ready waits for it


class OpenAICompatibleBackend:
    """httpx client of a remote chat server; calls may overlap (the server queues them)."""

    kind = "openai-compatible"
    serialize = False

    def __init__(self, config: OpenAICompatibleConfig) -> None:
        self.model_name = config.model
        self._config = config
        base = config.base_url.rstrip("/")
        # accept both "http://host:port" and "http://host:port/v1" as the base
        v1 = base if base.endswith("/v1") else base + "/v1"
        self._url = f"{v1}/chat/completions"
        self.endpoint = public_url(v1)
        self._connection = ServerConnection(
            v1, config.api_key, config.read_timeout_s, config.connect_timeout_s
        )

    @property
    def loaded(self) -> bool:
        """True once the HTTP client exists (nothing is fetched until the first call)."""
        return self._connection.open

    @property
    def context_window(self) -> int:
        """The configured context window of the remote model."""
        return self._config.context_window

    def load(self) -> None:
        """Create the connection pool (no network traffic)."""
        self._connection.client()

    def close(self) -> None:
        """Close the connection pool."""
        self._connection.close()

    def check_health(self) -> str | None:
        """GET /v1/models with a short timeout: None when the server answers 2xx, else a
        short reason (never the key, never the server's body)."""
        return self._connection.check_health()

    def memory_bytes(self) -> int:
        """The model lives on another machine."""
        return 0

    def count_tokens(self, text: str) -> int:
        """A rough, slightly high estimate: the remote tokenizer is not available here."""
        return math.ceil(len(text) / _CHARS_PER_TOKEN)

    def check_schema(self, schema: dict[str, Any]) -> None:
        """Nothing beyond the common checks: the server builds its own grammar."""

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
        """One chat completion; `json_schema` is sent as an OpenAI `response_format`."""
        body = self._body(messages, max_tokens, temperature, stop, stream=False)
        if json_schema is not None and self._config.json_format == "json_object":
            body["response_format"] = {"type": "json_object", "schema": json_schema}
        elif json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "result", "schema": json_schema},
            }
        if seed is not None:
            body["seed"] = seed
        response = self._send(body)
        try:
            payload = json.loads(response.read())
            choice = payload["choices"][0]
            text = choice["message"].get("content") or ""
            usage = payload.get("usage") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise LLMUpstreamError("the LLM server's reply is not a chat completion") from None
        except httpx.TimeoutException:
            raise LLMTimeoutError("the LLM server stopped sending its reply") from None
        except httpx.TransportError as error:
            raise LLMUpstreamError(f"the LLM server's reply broke off: {error}") from None
        finally:
            response.close()
        prompt_text = "".join(m["content"] for m in messages)
        return Completion(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens") or self.count_tokens(prompt_text)),
            completion_tokens=int(usage.get("completion_tokens") or self.count_tokens(text)),
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
        """Token pieces from the server's SSE stream. Retries happen only before the
        first piece: a retry after that would repeat text the caller already has.
        A repeat penalty above 1 is sent as OpenAI's `frequency_penalty` (its excess)."""
        body = self._body(messages, max_tokens, temperature, stop, stream=True)
        if repeat_penalty != 1.0:
            body["frequency_penalty"] = round(repeat_penalty - 1.0, 3)
        response = self._send(body)
        try:
            for data in iter_sse_data(response.iter_lines()):
                if data.strip() == "[DONE]":
                    return
                piece = _delta_content(data)
                if piece:
                    yield piece
        except httpx.TimeoutException:
            raise LLMTimeoutError("the LLM server stopped streaming") from None
        except httpx.TransportError as error:
            raise LLMUpstreamError(f"the LLM server's stream broke off: {error}") from None
        finally:
            response.close()

    def _body(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        *,
        stream: bool,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._config.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": stream,
        }
        if stop:
            body["stop"] = list(stop)
        return body

    def _send(self, body: dict[str, Any]) -> httpx.Response:
        """POST with retries; returns an open response with a 2xx status (caller closes)."""
        client = self._connection.client()
        delay = self._config.backoff_initial_s
        attempts = self._config.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                request = client.build_request("POST", self._url, json=body)
                response = client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as error:
                if attempt == attempts:
                    raise LLMUnavailableError(
                        f"the LLM server at {self.endpoint} is unreachable after {attempts} "
                        f"attempts: {error}"
                    ) from None
                wait = delay
            except httpx.TimeoutException:
                # the server accepted the request but is slow: a retry would only add load
                raise LLMTimeoutError(
                    f"the LLM server did not answer within {self._config.read_timeout_s} s"
                ) from None
            else:
                status = response.status_code
                if status < 400:
                    return response
                detail = _error_detail(response)
                if status != 429 and status < 500:
                    raise _client_error(status, detail)
                if attempt == attempts:
                    raise LLMUnavailableError(
                        f"the LLM server still answered {status} after {attempts} attempts: "
                        f"{detail}"
                    )
                wait = retry_after(response) or delay
            time.sleep(min(wait, self._config.backoff_max_s))
            delay = min(delay * 2, self._config.backoff_max_s)
        raise AssertionError("unreachable: the loop returns or raises")


def _delta_content(data: str) -> str:
    try:
        event = json.loads(data)
        if "error" in event:
            detail = str(event["error"])[:_DETAIL_CHARS]
            raise LLMUpstreamError(f"the LLM server reported an error: {detail}")
        choices = event.get("choices") or []
        return str((choices[0].get("delta") or {}).get("content") or "") if choices else ""
    except (ValueError, AttributeError, TypeError, IndexError):
        raise LLMUpstreamError("the LLM server sent a stream event that is not JSON") from None


def _error_detail(response: httpx.Response) -> str:
    try:
        text = response.read().decode("utf-8", "replace")
    except httpx.HTTPError:
        text = ""
    finally:
        response.close()
    return (error_message(text) or text)[:_DETAIL_CHARS] or response.reason_phrase


def _client_error(status: int, detail: str) -> Exception:
    if status in (400, 413) and "context" in detail.lower():
        return PromptTooLongError(f"the LLM server says the prompt is too long: {detail}")
    return LLMUpstreamError(f"the LLM server refused the request ({status}): {detail}")
