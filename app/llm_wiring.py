"""Builds the one LLM service and the answerer from settings (models load lazily)."""

from agents.analyze.answer import Answerer, AnswerSettings, Searcher
from agents.llm import LlamaProcessBackend, LLMConfig, LLMService, OpenAICompatibleBackend
from agents.llm.endpoints import EndpointPool
from agents.llm.failover import FailoverBackend
from agents.llm.types import Backend
from agents.models import locate_llm_model
from agents.telemetry.llm_meter import MeteredBackend
from agents.telemetry.metrics import Metrics
from app.errors import AppError
from app.inference_wiring import build_llm_pool
from app.settings import Settings


class LLMSettingsError(AppError):
    status_code = 500
    code = "invalid_settings"


def build_llm(
    settings: Settings,
    metrics: Metrics | None = None,
    pool: EndpointPool[OpenAICompatibleBackend] | None = None,
) -> LLMService:
    """The LLM service; with enabled metrics its backend records every call. With
    `llm_backend = "openai"` calls fail over across `pool` (built from settings if None)."""
    models = settings.models
    backend: Backend
    if models.llm_backend == "llama":
        backend = LlamaProcessBackend(
            locate_llm_model(models.llm_model),
            LLMConfig(
                n_ctx=models.llm_n_ctx,
                n_threads=models.llm_threads,
                n_gpu_layers=models.llm_gpu_layers,
                chat_format=models.llm_chat_format,
                flash_attention=models.llm_flash_attention,
            ),
        )
    elif models.llm_backend == "openai":
        pool = pool or build_llm_pool(settings)
        assert pool is not None
        backend = FailoverBackend(pool)
    else:
        raise LLMSettingsError("models.llm_backend must be 'llama' or 'openai'")
    if metrics is not None and metrics.enabled:
        backend = MeteredBackend(backend, metrics)
    return LLMService(backend)


def build_answerer(settings: Settings, analysis: Searcher, llm: LLMService) -> Answerer:
    models = settings.models
    return Answerer(
        analysis,
        llm,
        AnswerSettings(
            min_similarity=models.answer_min_similarity,
            answer_tokens=models.answer_max_tokens,
            context_window=llm.backend.context_window,
            passage_tokens=models.answer_passage_tokens,
            temperature=models.answer_temperature,
            repeat_penalty=models.answer_repeat_penalty,
            loop_words=models.answer_loop_words,
            support_share=models.answer_support_share,
            extractive_fallback=models.answer_extractive_fallback,
        ),
    )
