"""Ask, extract, classify and summarise over one tenant's documents (viewers may use them)."""

import json
import time
from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Controller, Response, post
from litestar.params import JSONBody
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_200_OK

from agents.analyze import documents_ops
from agents.documents.ledger import DocumentLedger
from agents.telemetry.metrics import Metrics
from app.api.deps import AnswererDep, LedgerDep, LLMDep, MetricsDep, TenantAccessDep
from app.errors import AppError

MAX_K = 20
MAX_TEXT_CHARS = 2_000_000


class InvalidRequest(AppError):
    status_code = 400
    code = "invalid_request"


class AskRequest(msgspec.Struct, forbid_unknown_fields=True):
    question: str
    k: int = 5
    filters: dict[str, Any] = msgspec.field(default_factory=dict)
    stream: bool = False


class ExtractRequest(msgspec.Struct, forbid_unknown_fields=True):
    schema: dict[str, Any]
    document_id: str | None = None
    text: str | None = None


class ClassifyRequest(msgspec.Struct, forbid_unknown_fields=True):
    labels: list[str]
    document_id: str | None = None
    text: str | None = None


class SummarizeRequest(msgspec.Struct, forbid_unknown_fields=True):
    document_id: str


def _input_text(ledger: DocumentLedger, document_id: str | None, text: str | None) -> str:
    if (document_id is None) == (text is None):
        raise InvalidRequest("give exactly one of 'document_id' and 'text'")
    if text is not None:
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidRequest(f"'text' is longer than {MAX_TEXT_CHARS} characters")
        return text
    return documents_ops.document_text(ledger, str(document_id))


def _sse(events: Iterator[dict[str, Any]]) -> Iterator[str]:
    for event in events:
        yield json.dumps(event)


def _timed(
    events: Iterator[dict[str, Any]], metrics: Metrics, tenant_id: str, started: float
) -> Iterator[dict[str, Any]]:
    """The events of a streamed answer; the ask is timed when the last one was sent."""
    yield from events
    metrics.asked(tenant_id, time.perf_counter() - started)


_READ = {"min_role": "viewer"}


class AnalysisController(Controller):
    tags = ["analysis"]
    opt = _READ

    @post("/ask", status_code=HTTP_200_OK, sync_to_thread=True)
    def ask(
        self,
        data: JSONBody[AskRequest],
        tenant_access: TenantAccessDep,
        answerer: AnswererDep,
        metrics: MetricsDep,
    ) -> Response[Any] | ServerSentEvent:
        """An answer with numbered citations; `stream: true` sends Server-Sent Events."""
        if not data.question.strip():
            raise InvalidRequest("the question is empty")
        k = max(1, min(data.k, MAX_K))
        filters = data.filters or None
        tenant_id = tenant_access.tenant_id
        started = time.perf_counter()
        if data.stream:
            events = answerer.stream(tenant_id, data.question, k, filters)
            return ServerSentEvent(_sse(_timed(events, metrics, tenant_id, started)))
        answer = answerer.ask(tenant_id, data.question, k, filters)
        metrics.asked(tenant_id, time.perf_counter() - started)
        return Response(answer)

    @post("/extract", status_code=HTTP_200_OK, sync_to_thread=True)
    def extract(
        self, data: JSONBody[ExtractRequest], ledger: LedgerDep, llm: LLMDep
    ) -> dict[str, Any]:
        """JSON valid against `schema` (422 if the schema cannot be expressed as a grammar)."""
        text = _input_text(ledger, data.document_id, data.text)
        return {"data": documents_ops.extract(llm, text, data.schema)}

    @post("/classify", status_code=HTTP_200_OK, sync_to_thread=True)
    def classify(
        self, data: JSONBody[ClassifyRequest], ledger: LedgerDep, llm: LLMDep
    ) -> dict[str, Any]:
        """Exactly one of `labels`."""
        text = _input_text(ledger, data.document_id, data.text)
        return {"label": documents_ops.classify(llm, text, data.labels)}

    @post("/summarize", status_code=HTTP_200_OK, sync_to_thread=True)
    def summarize(
        self, data: JSONBody[SummarizeRequest], ledger: LedgerDep, llm: LLMDep
    ) -> dict[str, Any]:
        """A summary of the whole document, however long (map-reduce over its parts)."""
        text = documents_ops.document_text(ledger, data.document_id)
        return {"document_id": data.document_id, **documents_ops.summarise(llm, text)}
