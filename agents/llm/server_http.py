"""What every client of an OpenAI-compatible server shares: its HTTP client and the
health probe (`GET /v1/models`), used by the chat backend and the embeddings client."""

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
