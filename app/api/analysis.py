"""Ask, extract, classify and summarise over one tenant's documents (viewers may use them)."""

import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, post
from litestar.params import JSONBody
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_200_OK

from agents.analyze import documents_ops
from agents.analyze.search_filters import SearchFilters
from agents.documents.ledger import DocumentLedger
from agents.telemetry.metrics import Metrics
from app.api.deps import AnswererDep, LedgerDep, LLMDep, MetricsDep, TenantAccessDep
from app.api.limits import NAME, Identifier
from app.errors import AppError

MAX_K = 20
MAX_TEXT_CHARS = 2_000_000
MAX_QUESTION_CHARS = 4_000
# the LLM service enforces its own limit on labels (100, agents/llm), answering 422

Question = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_QUESTION_CHARS)]
InputText = Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS)]
Label = Annotated[str, NAME.schema()]


class InvalidRequest(AppError):
    status_code = 400
    code = "invalid_request"


class AskRequest(msgspec.Struct, forbid_unknown_fields=True):
    question: Question
    k: Annotated[int, msgspec.Meta(ge=1, le=MAX_K)] = 5
    filters: dict[str, Any] = msgspec.field(default_factory=dict)
    stream: bool = False  # true: text/event-stream of token, citations and done events


class ExtractRequest(msgspec.Struct, forbid_unknown_fields=True):
    schema: dict[str, Any]
    document_id: Identifier | None = None
    text: InputText | None = None


class ClassifyRequest(msgspec.Struct, forbid_unknown_fields=True):
    labels: Annotated[list[Label], msgspec.Meta(min_length=1)]
    document_id: Identifier | None = None
    text: InputText | None = None


class SummarizeRequest(msgspec.Struct, forbid_unknown_fields=True):
    document_id: Identifier


def check_schema_names(schema: Any, path: str = "schema") -> None:
    """Names and values an extraction schema puts into the model's grammar (property
    names, enum and const strings) must be plain text (422 naming where)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for name in value:
                    NAME.check(f"{path}.properties", name)
            if key in ("enum", "const"):
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str):
                        NAME.check(f"{path}.{key}", item)
            check_schema_names(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for item in schema:
            check_schema_names(item, path)


def _input_text(ledger: DocumentLedger, document_id: str | None, text: str | None) -> str:
    if (document_id is None) == (text is None):
        raise InvalidRequest("give exactly one of 'document_id' and 'text'")
    if text is not None:
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidRequest(f"'text' is longer than {MAX_TEXT_CHARS} characters")
        return text
    return documents_ops.document_text(ledger, str(document_id))


def _timed(
    events: Iterator[dict[str, Any]], metrics: Metrics, tenant_id: str, started: float
) -> Iterator[dict[str, Any]]:
    """The events of a streamed answer; the ask is timed when the last one was sent."""
    yield from events
    metrics.asked(tenant_id, time.perf_counter() - started)


def _sse(events: Iterator[dict[str, Any]]) -> Iterator[str]:
    for event in events:
        yield json.dumps(event)


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
        tenant_id = tenant_access.tenant_id
        started = time.perf_counter()
        filters = data.filters or None
        if data.stream:
            # checked before the response starts: a bad filter is a plain JSON 400, not a
            # stream that breaks off after its first (stage) event
            SearchFilters.parse(filters)
            events = answerer.stream(tenant_id, data.question, data.k, filters)
            return ServerSentEvent(_sse(_timed(events, metrics, tenant_id, started)))
        answer = answerer.ask(tenant_id, data.question, data.k, filters)
        metrics.asked(tenant_id, time.perf_counter() - started)
        return Response(answer)

    @post("/extract", status_code=HTTP_200_OK, sync_to_thread=True)
    def extract(
        self, data: JSONBody[ExtractRequest], ledger: LedgerDep, llm: LLMDep
    ) -> dict[str, Any]:
        """JSON valid against `schema` (422 if the schema cannot be expressed as a grammar)."""
        check_schema_names(data.schema)
        text = _input_text(ledger, data.document_id, data.text)
        return {"data": documents_ops.extract(llm, text, data.schema)}

    @post("/classify", status_code=HTTP_200_OK, sync_to_thread=True)
    def classify(
        self, data: JSONBody[ClassifyRequest], ledger: LedgerDep, llm: LLMDep
    ) -> dict[str, Any]:
        """Exactly one of `labels`."""
        for label in data.labels:
            NAME.check("labels", label)
        text = _input_text(ledger, data.document_id, data.text)
        return {"label": documents_ops.classify(llm, text, data.labels)}

    @post("/summarize", status_code=HTTP_200_OK, sync_to_thread=True)
    def summarize(
        self, data: JSONBody[SummarizeRequest], ledger: LedgerDep, llm: LLMDep
    ) -> dict[str, Any]:
        """A summary of the whole document, however long (map-reduce over its parts)."""
        text = documents_ops.document_text(ledger, data.document_id)
        return {"document_id": data.document_id, **documents_ops.summarise(llm, text)}
