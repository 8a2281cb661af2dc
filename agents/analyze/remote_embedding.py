"""Sentence embeddings from any OpenAI-compatible `POST /v1/embeddings` server (Text
Embeddings Inference, vLLM, Ollama, llama.cpp's server) instead of a local model.

Texts go out in batches of `batch_size`; connection failures, 429 and 5xx answers are
retried with exponential backoff (Retry-After wins); every request has connect and read
time limits. Vectors come back L2-normalised float32 in input order, as the local
`Embedder` gives them, so the index and search cannot tell the two apart. A server that
returns one vector per token (llama-cpp-python's server for a model without a pooling
layer) is mean-pooled here. The model name and dimension are what the tenant's index
records, so pointing the appliance at another model re-indexes (AnalysisService.adopt_model).
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from agents.analyze.index import AnalyzeError
from agents.llm.endpoints import public_url
from agents.llm.server_http import ServerConnection, error_message, retry_after

_DETAIL_CHARS = 200
_PROBE_TEXT = "dimension probe"


class RemoteEmbeddingError(AnalyzeError):
    """Base of the embedding server's failures."""

    status_code = 502
    code = "embedding_upstream_error"


class EmbeddingUnavailableError(RemoteEmbeddingError):
    """The embedding server could not be reached, or kept failing after retries."""

    status_code = 503
    code = "embedding_unavailable"


class EmbeddingUpstreamError(RemoteEmbeddingError):
    """The embedding server refused the request or answered something unusable."""

    status_code = 502
    code = "embedding_upstream_error"


@dataclass(frozen=True)
class RemoteEmbeddingConfig:
    """Where the server is and how to talk to it (built by the composition root)."""

    base_url: str
    model: str
    api_key: str = ""
    dimension: int = 0  # 0: ask the server once
    batch_size: int = 32
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    max_retries: int = 3
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 8.0

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("the embedding base_url must start with http:// or https://")
        if not self.model:
            raise ValueError("the embedding model must be named")
        if self.batch_size < 1 or self.max_retries < 0 or self.dimension < 0:
            raise ValueError("batch_size >= 1, max_retries >= 0 and dimension >= 0 please")

    def __repr__(self) -> str:
        # keep the API key out of logs and tracebacks
        url = public_url(self.base_url)
        return f"RemoteEmbeddingConfig(base_url={url!r}, model={self.model!r})"


class RemoteEmbedder:
    """The `Embedder` interface over an OpenAI-compatible embeddings endpoint."""

    def __init__(self, config: RemoteEmbeddingConfig) -> None:
        self.name = config.model
        self.batch_size = config.batch_size
        self.requests = 0  # POSTs sent, retries included (status and tests read it)
        self._config = config
        base = config.base_url.rstrip("/")
        v1 = base if base.endswith("/v1") else base + "/v1"
        self._url = f"{v1}/embeddings"
        self.endpoint = public_url(v1)
        self._connection = ServerConnection(
            v1, config.api_key, config.read_timeout_s, config.connect_timeout_s
        )
        self._dimension = config.dimension or None
        self._active = 0

    @property
    def loaded(self) -> bool:
        """True once the connection pool exists (the model lives on the server)."""
        return self._connection.open

    @property
    def busy(self) -> bool:
        return self._active > 0

    @property
    def dimension(self) -> int:
        """Length of each vector: configured, or learned from the server on first use."""
        if self._dimension is None:
            self._dimension = int(self._post([_PROBE_TEXT]).shape[1])
        return self._dimension

    def load(self) -> None:
        """Create the connection pool (no network traffic)."""
        self._connection.client()

    def close(self) -> None:
        self._connection.close()

    def check_health(self) -> str | None:
        """GET /v1/models: None when the server answers, else a short reason."""
        return self._connection.check_health()

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None
    ) -> npt.NDArray[np.float32]:
        """L2-normalised float32 vectors, one row per text, in input order."""
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not one string")
        size = batch_size or self.batch_size
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [self._post(list(texts[i : i + size])) for i in range(0, len(texts), size)]
        vectors = np.concatenate(parts)
        if self._dimension is None:
            self._dimension = int(vectors.shape[1])
        elif vectors.shape[1] != self._dimension:
            raise EmbeddingUpstreamError(
                f"the embedding server returned {vectors.shape[1]} dimensions, "
                f"not the {self._dimension} this appliance uses"
            )
        return vectors

    def _post(self, texts: list[str]) -> npt.NDArray[np.float32]:
        body = {"model": self._config.model, "input": texts, "encoding_format": "float"}
        self._active += 1
        try:
            payload = self._send(body)
        finally:
            self._active -= 1
        return _vectors(payload, len(texts))

    def _send(self, body: dict[str, Any]) -> Any:
        """POST with retries; the decoded JSON of a 2xx answer."""
        client = self._connection.client()
        config = self._config
        delay = config.backoff_initial_s
        attempts = config.max_retries + 1
        for attempt in range(1, attempts + 1):
            self.requests += 1
            try:
                response = client.post(self._url, json=body)
            except httpx.TimeoutException:
                raise EmbeddingUnavailableError(
                    f"the embedding server at {self.endpoint} did not answer within "
                    f"{config.read_timeout_s} s"
                ) from None
            except httpx.TransportError as error:
                if attempt == attempts:
                    raise EmbeddingUnavailableError(
                        f"the embedding server at {self.endpoint} is unreachable after "
                        f"{attempts} attempts ({type(error).__name__})"
                    ) from None
                wait = delay
            else:
                status = response.status_code
                if status < 400:
                    try:
                        return response.json()
                    except ValueError:
                        raise EmbeddingUpstreamError(
                            "the embedding server's reply is not JSON"
                        ) from None
                if status != 429 and status < 500:
                    # the server's words may quote the input: they go to the log only
                    raise EmbeddingUpstreamError(
                        f"the embedding server refused the request ({status})",
                        detail=_error_detail(response),
                    )
                if attempt == attempts:
                    raise EmbeddingUnavailableError(
                        f"the embedding server still answered {status} after {attempts} attempts"
                    )
                wait = retry_after(response) or delay
            time.sleep(min(wait, config.backoff_max_s))
            delay = min(delay * 2, config.backoff_max_s)
        raise AssertionError("unreachable: the loop returns or raises")


def _vectors(payload: Any, count: int) -> npt.NDArray[np.float32]:
    """The rows of an embeddings answer, in input order, pooled and normalised."""
    try:
        data = sorted(payload["data"], key=lambda item: int(item.get("index", 0)))
        rows = [np.asarray(item["embedding"], dtype=np.float32) for item in data]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise EmbeddingUpstreamError("the embedding server's reply is no embeddings list") from None
    if len(rows) != count:
        raise EmbeddingUpstreamError(
            f"the embedding server returned {len(rows)} vectors for {count} texts"
        )
    pooled = [row.mean(axis=0) if row.ndim == 2 else row for row in rows]
    if any(row.ndim != 1 or row.size == 0 for row in pooled) or len({r.size for r in pooled}) != 1:
        raise EmbeddingUpstreamError("the embedding server returned vectors of unequal shape")
    matrix = np.vstack(pooled).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


def _error_detail(response: httpx.Response) -> str:
    return (error_message(response.text) or response.reason_phrase)[:_DETAIL_CHARS]
