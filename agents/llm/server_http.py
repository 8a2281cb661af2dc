"""What every client of an OpenAI-compatible server shares: its connection pool, the
health probe (`GET /v1/models`) and the reading of error answers; used by the chat
backend and the embeddings client."""

import json
import threading

import httpx

PROBE_TIMEOUT_S = 3.0


def open_client(api_key: str, read_timeout_s: float, connect_timeout_s: float) -> httpx.Client:
    """A connection pool sending the key as a bearer token (no network traffic yet)."""
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
    return httpx.Client(headers=headers, timeout=timeout)


def probe_models(client: httpx.Client, v1_url: str) -> str | None:
    """GET /v1/models with a short timeout: None when the server answers 2xx, else a
    short reason (never the key, never the server's body)."""
    try:
        response = client.get(f"{v1_url}/models", timeout=PROBE_TIMEOUT_S)
    except httpx.TimeoutException:
        return "timed out"
    except httpx.HTTPError as error:
        return f"unreachable ({type(error).__name__})"
    if response.status_code >= 400:
        return f"answered HTTP {response.status_code}"
    return None


class ServerConnection:
    """One lazily opened connection pool to a server's `/v1`, shared by threads."""

    def __init__(
        self, v1_url: str, api_key: str, read_timeout_s: float, connect_timeout_s: float
    ) -> None:
        self.v1_url = v1_url
        self._api_key = api_key
        self._timeouts = (read_timeout_s, connect_timeout_s)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        """True once the pool exists (no request needed to say so)."""
        return self._client is not None

    def client(self) -> httpx.Client:
        """The pool, created on first use (no network traffic)."""
        with self._lock:
            if self._client is None:
                self._client = open_client(self._api_key, *self._timeouts)
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def check_health(self) -> str | None:
        """GET /v1/models: None when the server answers, else a short reason."""
        return probe_models(self.client(), self.v1_url)


def error_message(text: str) -> str | None:
    """The `error.message` (or `error`) of an OpenAI-style error body, if it has one."""
    try:
        error = json.loads(text).get("error")
    except (ValueError, AttributeError):
        return None
    message = error.get("message") if isinstance(error, dict) else error
    return str(message) if message else None


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (the HTTP-date form is ignored)."""
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None
