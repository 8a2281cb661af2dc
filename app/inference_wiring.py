"""Builds the clients of inference servers from `[models]` and `[inference]`: the LLM's
fail-over pool of OpenAI-compatible endpoints, and the remote embedder, and reports
their health for `/health/ready`, `/status` and the UI (docs/scaling.md)."""

from dataclasses import dataclass
from typing import Any

from agents.analyze.embedding import Embedder
from agents.analyze.remote_embedding import RemoteEmbedder, RemoteEmbeddingConfig
from agents.llm import OpenAICompatibleBackend, OpenAICompatibleConfig
from agents.llm.endpoints import EndpointHealth, EndpointPool
from agents.models import ModelLocation
from agents.telemetry.metrics import Metrics
from agents.telemetry.timed import MeteredEmbedder
from app.errors import AppError
from app.settings import Settings


class InferenceSettingsError(AppError):
    status_code = 500
    code = "invalid_settings"


def build_llm_pool(settings: Settings) -> EndpointPool[OpenAICompatibleBackend] | None:
    """The LLM endpoints in order of preference, or None for the local llama.cpp model."""
    models, inference = settings.models, settings.inference
    if models.llm_backend != "openai":
        return None
    if not models.remote_base_url or not models.remote_model:
        raise InferenceSettingsError(
            "models.llm_backend = 'openai' needs models.remote_base_url and models.remote_model"
        )
    urls = [models.remote_base_url, *inference.llm_fallback_urls]
    try:
        backends = [
            OpenAICompatibleBackend(
                OpenAICompatibleConfig(
                    base_url=url,
                    model=models.remote_model,
                    api_key=models.remote_api_key,
                    context_window=models.remote_context_window,
                    json_format=models.remote_json_format,
                    connect_timeout_s=inference.connect_timeout_s,
                    read_timeout_s=inference.read_timeout_s,
                    max_retries=inference.max_retries,
                    backoff_initial_s=inference.backoff_initial_s,
                    backoff_max_s=inference.backoff_max_s,
                )
            )
            for url in urls
        ]
    except ValueError as error:
        raise InferenceSettingsError(f"LLM endpoint settings: {error}") from None
    return EndpointPool(backends, recheck_after_s=inference.recheck_after_s)


def remote_embedding_config(settings: Settings) -> RemoteEmbeddingConfig | None:
    """The embeddings server's settings, or None when embeddings are computed locally."""
    inference = settings.inference
    if inference.embedding_backend != "openai":
        return None
    try:
        return RemoteEmbeddingConfig(
            base_url=inference.embedding_base_url,
            model=inference.embedding_model,
            api_key=inference.embedding_api_key,
            dimension=inference.embedding_dimension,
            batch_size=inference.embedding_batch_size,
            connect_timeout_s=inference.connect_timeout_s,
            read_timeout_s=inference.read_timeout_s,
            max_retries=inference.max_retries,
            backoff_initial_s=inference.backoff_initial_s,
            backoff_max_s=inference.backoff_max_s,
        )
    except ValueError as error:
        raise InferenceSettingsError(f"inference.embedding_* settings: {error}") from None


def build_embedder(
    settings: Settings, local_model: ModelLocation, metrics: Metrics | None = None
) -> Embedder | RemoteEmbedder:
    """The local sentence-transformers embedder, or the client of an embeddings server."""
    remote = remote_embedding_config(settings)
    if remote is not None:
        return RemoteEmbedder(remote)
    threads = settings.models.embedding_threads
    if metrics is not None and metrics.enabled:
        return MeteredEmbedder(local_model, metrics=metrics, threads=threads)
    return Embedder(local_model, threads=threads)


@dataclass(frozen=True)
class InferenceHealth:
    """The inference servers this appliance calls (none when every model is local)."""

    llm: EndpointPool[OpenAICompatibleBackend] | None
    embedding: EndpointPool[RemoteEmbedder] | None
    max_age_s: float = 5.0

    def checks(self) -> dict[str, dict[str, Any]]:
        """`/health/ready` entries: `llm_endpoints` is ok while one endpoint answers,
        `embedding_endpoint` while the embeddings server answers."""
        found: dict[str, dict[str, Any]] = {}
        for name, pool in (("llm_endpoints", self.llm), ("embedding_endpoint", self.embedding)):
            if pool is None:
                continue
            states = pool.health(self.max_age_s)
            found[name] = {
                "ok": any(state.up for state in states),
                "endpoints": [_public(state) for state in states],
            }
        return found

    def down(self) -> list[str]:
        """Plain sentences for the UI, one per kind of server that cannot be reached."""
        lines = []
        for label, pool in (("language model", self.llm), ("embeddings", self.embedding)):
            if pool is not None and not any(s.up for s in pool.health(self.max_age_s)):
                lines.append(f"The {label} server cannot be reached; the appliance retries.")
        return lines


def _public(state: EndpointHealth) -> dict[str, Any]:
    return {"url": state.url, "up": state.up, "detail": state.detail}
