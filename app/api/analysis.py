"""Ask, extract, classify and summarise over one tenant's documents (viewers may use them)."""

import json
from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Controller, Response, post
from litestar.params import JSONBody
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_200_OK

from agents.analyze import documents_ops
from agents.documents.ledger import DocumentLedger
from app.api.deps import AnswererDep, LedgerDep, LLMDep, TenantAccessDep
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


_READ = {"min_role": "viewer"}


class AnalysisController(Controller):
    tags = ["analysis"]
    opt = _READ

    @post("/ask", status_code=HTTP_200_OK, sync_to_thread=True)
    def ask(
        self, data: JSONBody[AskRequest], tenant_access: TenantAccessDep, answerer: AnswererDep
    ) -> Response[Any] | ServerSentEvent:
        """An answer with numbered citations; `stream: true` sends Server-Sent Events."""
        if not data.question.strip():
            raise InvalidRequest("the question is empty")
        k = max(1, min(data.k, MAX_K))
        filters = data.filters or None
        if data.stream:
            events = answerer.stream(tenant_access.tenant_id, data.question, k, filters)
            return ServerSentEvent(_sse(events))
        return Response(answerer.ask(tenant_access.tenant_id, data.question, k, filters))

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
