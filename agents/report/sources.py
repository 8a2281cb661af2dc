"""Where report data comes from: the request or earlier steps (`input`), a documents
query, one document (`summary`), an extraction over documents, the tenant's activity,
an answer with citations (`ask`), or a workflow run (`run`).

Services that need the language model (extract, ask, summarise) are handed in by the
composition root; a template that needs one that is missing fails with
`source_unavailable`. `declared` names each source's fields without reading anything,
so a template's references are checked when a report is requested.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.analyze.documents_ops import document_text
from agents.documents.ledger import DocumentLedger
from agents.documents.records import STATES
from agents.report.activity import tenant_activity
from agents.report.dataset import ReportData, from_input
from agents.report.errors import InvalidReportRequest, SourceUnavailableError
from agents.report.template import Template
from storage.tenants import TenantRegistry

DOCUMENT_FIELDS = frozenset(
    {
        "id",
        "title",
        "filename",
        "type",
        "size",
        "pages",
        "source",
        "state",
        "created_at",
        "updated_at",
    }
)
ACTIVITY_DAY_FIELDS = frozenset({"day", "documents", "arrivals", "duplicates", "failed"})
ACTIVITY_SOURCE_FIELDS = frozenset({"source", "arrivals", "added", "duplicates", "failed"})
ACTIVITY_STATE_FIELDS = frozenset({"state", "documents"})
CITATION_FIELDS = frozenset({"number", "document", "document_id", "page", "quote"})
PAGE_FIELDS = frozenset({"page", "characters", "words"})
# sources whose work input data can replace (rows of an earlier extract step, an answer)
_STANDS_IN = frozenset({"extraction", "ask", "run"})


def schema_column_types(schema: dict[str, Any]) -> dict[str, str]:
    """Column types for the properties of an extraction schema, in their order."""
    types = {}
    for name, spec in (schema.get("properties") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        kind = spec.get("type")
        if kind == "integer":
            types[name] = "integer"
        elif kind == "number":
            types[name] = "number"
        elif spec.get("format") in ("date", "date-time"):
            types[name] = "date"
        else:
            types[name] = "text"
    return types


@dataclass(frozen=True)
class SourceServices:
    """Optional model-backed services (None where the appliance has no model)."""

    extract: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None
    ask: Callable[[str, str], dict[str, Any]] | None = None  # (tenant id, question)
    summarise: Callable[[str], str] | None = None
    run_data: Callable[[str, str], Any] | None = None  # (tenant id, run id) -> input data


def declared(template: Template, params: dict[str, Any]) -> ReportData:
    """The fields and values each source guarantees (for checking references early)."""
    source = template.data.source
    values = dict(params)
    fields: dict[str, frozenset[str]] = {}
    if source == "documents":
        fields["rows"] = DOCUMENT_FIELDS
        values["document_count"] = 0
    elif source == "summary":
        fields["pages"] = PAGE_FIELDS
        values.update(
            dict.fromkeys(
                [
                    "title",
                    "filename",
                    "type",
                    "size",
                    "page_count",
                    "state",
                    "created_at",
                    "summary",
                ],
                "",
            )
        )
    elif source == "extraction":
        schema = params.get("schema") or template.data.options.get("schema")
        schema = schema if isinstance(schema, dict) else {}
        props = schema.get("properties") or {}
        fields["rows"] = frozenset({"document_id", "title", *props})
        values["document_count"] = 0
        types = {"document_id": "text", "title": "text"}
        return ReportData(
            {}, values | params, fields, {"rows": types | schema_column_types(schema)}
        )
    elif source == "activity":
        fields.update(
            per_day=ACTIVITY_DAY_FIELDS,
            by_source=ACTIVITY_SOURCE_FIELDS,
            by_state=ACTIVITY_STATE_FIELDS,
        )
        values.update(
            dict.fromkeys(
                [
                    "total_documents",
                    "total_arrivals",
                    "failed_documents",
                    "indexed_documents",
                    "since",
                    "until",
                    "days",
                ],
                0,
            )
        )
    elif source == "ask":
        fields["citations"] = CITATION_FIELDS
        values.update(question="", answer="")
    return ReportData({}, values | params, fields)


class DataSources:
    """Collects a report's data from one tenant; built once by the composition root."""

    def __init__(
        self, tenants: TenantRegistry, services: SourceServices, max_documents: int = 200
    ) -> None:
        self.tenants = tenants
        self.services = services
        self.max_documents = max_documents

    def _ledger(self, tenant_id: str) -> DocumentLedger:
        return DocumentLedger(self.tenants.database(tenant_id), self.tenants.blobs(tenant_id))

    def collect(
        self, tenant_id: str, template: Template, params: dict[str, Any], given: ReportData
    ) -> ReportData:
        """The data for one report: the source's, with `given` (input data) laid over it."""
        source = template.data.source
        options = {**template.data.options, **{k: v for k, v in params.items() if v is not None}}
        base = declared(template, params)
        if source == "documents":
            found = self._documents(tenant_id, options)
        elif source == "summary":
            found = self._summary(tenant_id, options)
        elif source in _STANDS_IN and (given.datasets or given.values):
            found = ReportData()  # the given data stands in for the model's work
        elif source == "extraction":
            found = self._extraction(tenant_id, options)
        elif source == "activity":
            found = self._activity(tenant_id, options)
        elif source == "ask":
            found = self._ask(tenant_id, options)
        elif source == "run":
            found = self._run(tenant_id, options)
        else:
            found = ReportData()
        return base.merged(found).merged(given)

    def _documents_by_filter(self, tenant_id: str, options: dict[str, Any]) -> list[Any]:
        ledger = self._ledger(tenant_id)
        ids = options.get("document_ids")
        if ids:
            return [ledger.get(str(i)) for i in list(ids)[: self.max_documents]]
        state = options.get("state")
        if state and state not in STATES:
            raise InvalidReportRequest(f"unknown state {state!r}; one of {', '.join(STATES)}")
        limit = min(int(options.get("limit") or self.max_documents), self.max_documents)
        records: list[Any] = []
        cursor = None
        while len(records) < limit:
            page, cursor = ledger.list_documents(
                state=state,
                source=options.get("source"),
                fmt=options.get("type"),
                q=options.get("q"),
                text=options.get("text"),
                limit=min(200, limit - len(records)),
                cursor=cursor,
            )
            records += page
            if cursor is None:
                break
        return records

    def _documents(self, tenant_id: str, options: dict[str, Any]) -> ReportData:
        rows = []
        for record in self._documents_by_filter(tenant_id, options):
            public = record.public()
            rows.append({k: public.get(k) for k in DOCUMENT_FIELDS})
        return ReportData({"rows": rows}, {"document_count": len(rows)})

    def _summary(self, tenant_id: str, options: dict[str, Any]) -> ReportData:
        document_id = options.get("document_id")
        if not document_id:
            raise InvalidReportRequest("parameter 'document_id' is required")
        ledger = self._ledger(tenant_id)
        record = ledger.get(str(document_id)).public()
        pages = ledger.pages(str(document_id))
        text = "\n\n".join(t for _, t in pages)
        if self.services.summarise is not None and text.strip():
            summary = self.services.summarise(text)
        else:
            summary = text[:1500] + ("…" if len(text) > 1500 else "")
        values = {
            k: record.get(k) for k in ("title", "filename", "type", "size", "state", "created_at")
        }
        values.update(page_count=record.get("pages") or len(pages), summary=summary)
        rows = [{"page": n, "characters": len(t), "words": len(t.split())} for n, t in pages]
        return ReportData({"pages": rows}, values)

    def _extraction(self, tenant_id: str, options: dict[str, Any]) -> ReportData:
        schema = options.get("schema")
        if not isinstance(schema, dict) or not schema.get("properties"):
            raise InvalidReportRequest("parameter 'schema' must be a JSON Schema with properties")
        if self.services.extract is None:
            raise SourceUnavailableError("extraction needs the language model, which is not loaded")
        ledger = self._ledger(tenant_id)
        rows = []
        for record in self._documents_by_filter(tenant_id, options):
            extracted = self.services.extract(document_text(ledger, record.id), schema)
            rows.append({"document_id": record.id, "title": record.title, **extracted})
        types = {"document_id": "text", "title": "text"} | schema_column_types(schema)
        return ReportData(
            {"rows": rows}, {"document_count": len(rows)}, column_types={"rows": types}
        )

    def _activity(self, tenant_id: str, options: dict[str, Any]) -> ReportData:
        days = max(1, min(int(options.get("days") or 30), 3660))
        return tenant_activity(self.tenants.database(tenant_id), days)

    def _ask(self, tenant_id: str, options: dict[str, Any]) -> ReportData:
        question = str(options.get("question") or "").strip()
        if not question:
            raise InvalidReportRequest("parameter 'question' is required")
        if self.services.ask is None:
            raise SourceUnavailableError("answers need the language model, which is not loaded")
        answer = self.services.ask(tenant_id, question)
        citations = [
            {
                "number": c.get("number", i),
                "document": c.get("title") or c.get("document_id"),
                "document_id": c.get("document_id"),
                "page": c.get("page"),
                "quote": c.get("quote"),
            }
            for i, c in enumerate(answer.get("citations", []), 1)
        ]
        return ReportData(
            {"citations": citations},
            {"question": question, "answer": str(answer.get("answer", ""))},
        )

    def _run(self, tenant_id: str, options: dict[str, Any]) -> ReportData:
        run_id = options.get("run_id")
        if self.services.run_data is None or not run_id:
            raise SourceUnavailableError(
                "workflow runs are not available here; give the run's steps as 'data'"
            )
        return from_input(self.services.run_data(tenant_id, str(run_id)))
