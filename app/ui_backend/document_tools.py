"""What the UI does with documents besides showing them: tags, deleting several at once,
and the model's summarize, classify and extract on one document (as the API's routes do,
with the same roles: viewers read and analyse, editors tag and delete)."""

from typing import Any

from agents.analyze import documents_ops
from agents.documents.tags import DocumentTags
from app.api.limits import NAME
from app.runtime import Runtime
from app.ui_backend.errors import InvalidInput
from app.ui_backend.gate import SessionGate
from storage.errors import NotFoundError
from ui.backend import Unavailable

MODEL_UNAVAILABLE = "the language model is not available on this appliance"
MAX_FIELDS = 20


def fields_schema(fields: list[str]) -> dict[str, Any]:
    """A JSON Schema asking for each named field as text (what 'Extract' offers people
    who do not write schemas)."""
    names = list(dict.fromkeys(f.strip() for f in fields if f.strip()))
    if not names or len(names) > MAX_FIELDS:
        raise InvalidInput(f"name 1-{MAX_FIELDS} fields, separated by commas")
    for name in names:
        NAME.check("fields", name)
    return {
        "type": "object",
        "properties": {name: {"type": "string"} for name in names},
        "required": names,
    }


class DocumentToolMethods:
    """The DocumentToolsBackend part of ApplianceUiBackend."""

    _gate: SessionGate
    _runtime: Runtime

    def _tags(self, token: str | None, tenant_id: str, needed: str) -> tuple[DocumentTags, str]:
        access = self._gate.access(token, tenant_id, needed, active=needed != "viewer")
        ledger = self._runtime.ingest.ledger(access.tenant_id)
        return DocumentTags(ledger.db), access.tenant_id

    def tags_of(
        self, token: str | None, tenant_id: str, document_ids: list[str]
    ) -> dict[str, list[str]]:
        store, _ = self._tags(token, tenant_id, "viewer")
        return store.of(document_ids)

    def all_tags(self, token: str | None, tenant_id: str) -> list[tuple[str, int]]:
        store, _ = self._tags(token, tenant_id, "viewer")
        return store.all_tags()

    def tagged(self, token: str | None, tenant_id: str, tag: str) -> set[str]:
        store, _ = self._tags(token, tenant_id, "viewer")
        return store.tagged(tag)

    def change_tags(
        self,
        token: str | None,
        tenant_id: str,
        document_ids: list[str],
        add: list[str],
        remove: list[str],
    ) -> None:
        """Add and remove tags on the documents (editors)."""
        store, _ = self._tags(token, tenant_id, "editor")
        if add:
            store.add(document_ids, add)
        if remove:
            store.remove(document_ids, remove)

    def delete_documents(self, token: str | None, tenant_id: str, document_ids: list[str]) -> int:
        """Delete each document as a single delete does (editors); how many went."""
        access = self._gate.access(token, tenant_id, "editor")
        gone: set[str] = set()
        for document_id in document_ids:
            if document_id in gone:
                continue  # an attachment of a mail deleted just before
            try:
                gone.update(
                    self._runtime.ingest.delete(
                        access.tenant_id,
                        document_id,
                        actor=access.principal.username,
                        client="ui",
                    )
                )
            except NotFoundError:
                continue
        return len(gone.intersection(document_ids))

    def _document_text(self, token: str | None, tenant_id: str, document_id: str) -> str:
        access = self._gate.access(token, tenant_id, "viewer")
        if self._runtime.llm is None:
            raise Unavailable(MODEL_UNAVAILABLE)
        ledger = self._runtime.ingest.ledger(access.tenant_id)
        return documents_ops.document_text(ledger, document_id)

    def language_model_available(self) -> bool:
        return self._runtime.llm is not None

    def summarize_document(self, token: str | None, tenant_id: str, document_id: str) -> str:
        """A summary of the whole document (map-reduce over its parts)."""
        text = self._document_text(token, tenant_id, document_id)
        assert self._runtime.llm is not None  # checked by _document_text
        return str(documents_ops.summarise(self._runtime.llm, text)["summary"])

    def classify_document(
        self, token: str | None, tenant_id: str, document_id: str, labels: list[str]
    ) -> str:
        """The one label of `labels` that fits the document best."""
        names = list(dict.fromkeys(label.strip() for label in labels if label.strip()))
        if len(names) < 2:
            raise InvalidInput("give at least two labels, separated by commas")
        for name in names:
            NAME.check("labels", name)
        text = self._document_text(token, tenant_id, document_id)
        assert self._runtime.llm is not None
        return documents_ops.classify(self._runtime.llm, text, names)

    def extract_fields(
        self, token: str | None, tenant_id: str, document_id: str, fields: list[str]
    ) -> dict[str, Any]:
        """The named fields, as text, read from the document."""
        schema = fields_schema(fields)
        text = self._document_text(token, tenant_id, document_id)
        assert self._runtime.llm is not None
        return documents_ops.extract(self._runtime.llm, text, schema)
