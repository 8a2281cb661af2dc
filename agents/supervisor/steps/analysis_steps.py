"""Steps over the analysis agent: classify, extract, summarize, ask, search.

Contract (docs/architecture.md, "Workflow steps"): no outside effects, so re-running
after a crash is harmless (idempotent up to the model's sampling).
"""

from collections.abc import Callable
from typing import Any, ClassVar

from agents.analyze import documents_ops
from agents.analyze.answer import Answerer
from agents.analyze.service import AnalysisService
from agents.documents.ledger import DocumentLedger
from agents.llm.service import LLMService
from agents.supervisor.step import Step, StepContext, StepError, StepResult

MAX_TEXT_CHARS = 2_000_000
LedgerOf = Callable[[str], DocumentLedger]

_SOURCE = {
    "document_id": {"type": "string", "minLength": 1},
    "text": {"type": "string", "maxLength": MAX_TEXT_CHARS},
}


def input_text(ledger_of: LedgerOf, ctx: StepContext, params: dict[str, Any]) -> str:
    """The text a step works on: `text`, or the text of `document_id` in this tenant."""
    if params.get("text") is not None:
        return str(params["text"])
    document_id = params.get("document_id")
    if not document_id:
        raise StepError("give 'document_id' or 'text'", code="invalid_params", retryable=False)
    try:
        return documents_ops.document_text(ledger_of(ctx.tenant_id), str(document_id))
    except Exception as exc:
        if getattr(exc, "status_code", 500) == 404:
            raise StepError("no such document", code="not_found", retryable=False) from exc
        raise


class ClassifyStep(Step):
    agent = "classify"
    description = "Pick one of the given labels for a document or text."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["labels"],
        "properties": {
            **_SOURCE,
            "labels": {"type": "array", "minItems": 2, "items": {"type": "string"}},
        },
    }

    def __init__(self, llm: LLMService, ledger_of: LedgerOf) -> None:
        self.llm = llm
        self.ledger_of = ledger_of

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        text = input_text(self.ledger_of, ctx, params)
        return StepResult({"label": documents_ops.classify(self.llm, text, params["labels"])})


class ExtractStep(Step):
    agent = "extract"
    description = "Fields as JSON valid against a JSON Schema (grammar-constrained)."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["schema"],
        "properties": {**_SOURCE, "schema": {"type": "object"}},
    }

    def __init__(self, llm: LLMService, ledger_of: LedgerOf) -> None:
        self.llm = llm
        self.ledger_of = ledger_of

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        text = input_text(self.ledger_of, ctx, params)
        return StepResult({"data": documents_ops.extract(self.llm, text, params["schema"])})


class SummarizeStep(Step):
    agent = "summarize"
    description = "A summary of a whole document or text (map-reduce when long)."
    params_schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": _SOURCE}

    def __init__(self, llm: LLMService, ledger_of: LedgerOf) -> None:
        self.llm = llm
        self.ledger_of = ledger_of

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        text = input_text(self.ledger_of, ctx, params)
        return StepResult(documents_ops.summarise(self.llm, text))


class AskStep(Step):
    agent = "ask"
    description = "An answer with citations from the tenant's documents."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["question"],
        "properties": {
            "question": {"type": "string", "minLength": 1, "maxLength": 4000},
            "k": {"type": "integer", "minimum": 1, "maximum": 20},
            "filters": {"type": "object"},
        },
    }

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        answer = self.answerer.ask(
            ctx.tenant_id, params["question"], params.get("k", 5), params.get("filters") or None
        )
        return StepResult(answer)


class SearchStep(Step):
    agent = "search"
    description = "The best passages for a query (hybrid, dense or keyword)."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["query"],
        "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": 4000},
            "k": {"type": "integer", "minimum": 1, "maximum": 50},
            "mode": {"enum": ["hybrid", "dense", "keyword"]},
            "filters": {"type": "object"},
        },
    }

    def __init__(self, analysis: AnalysisService) -> None:
        self.analysis = analysis

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        hits = self.analysis.search(
            ctx.tenant_id,
            params["query"],
            k=params.get("k", 10),
            mode=params.get("mode", "hybrid"),
            filters=params.get("filters") or None,
        )
        return StepResult({"hits": [hit.public() for hit in hits], "count": len(hits)})
