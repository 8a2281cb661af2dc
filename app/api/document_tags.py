"""Tags on documents and deleting several documents at once, beside the documents routes.

Viewers read tags; editors add and remove them and delete documents (the tenant scope's
default for writing methods). Bulk deletion audits every document as a single delete does.
"""

from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from agents.documents.ledger import DocumentLedger
from agents.documents.tags import (
    MAX_DOCUMENTS_PER_CALL,
    MAX_TAG_CHARS,
    MAX_TAGS_PER_CALL,
    TAG_PATTERN,
    DocumentTags,
)
from app.api.deps import ClientDep, IngestDep, LedgerDep, TenantAccessDep
from app.api.limits import MAX_NAME_CHARS, Identifier, TextRule
from storage.errors import NotFoundError

# declared in the schema; checked by agents.documents.tags.clean_tag (422 invalid_tag)
TAG_RULE = TextRule(max_chars=MAX_TAG_CHARS, pattern=TAG_PATTERN)
Tag = Annotated[str, TAG_RULE.schema()]


# Litestar does not publish constraints of a list's items, so they are declared on the list
def _list_of(item: dict[str, Any], min_items: int, max_items: int) -> msgspec.Meta:
    return msgspec.Meta(
        min_length=min_items,
        max_length=max_items,
        extra_json_schema={"extra": {"items": {"type": "string", **item}}},
    )


DocumentIds = Annotated[
    list[Identifier],
    _list_of({"minLength": 1, "maxLength": MAX_NAME_CHARS}, 1, MAX_DOCUMENTS_PER_CALL),
]
Tags = Annotated[
    list[Tag],
    _list_of(
        {"minLength": 1, "maxLength": MAX_TAG_CHARS, "pattern": TAG_PATTERN}, 0, MAX_TAGS_PER_CALL
    ),
]


class TagChange(msgspec.Struct, forbid_unknown_fields=True):
    document_ids: DocumentIds
    add: Tags = msgspec.field(default_factory=list)
    remove: Tags = msgspec.field(default_factory=list)


class BulkDelete(msgspec.Struct, forbid_unknown_fields=True):
    document_ids: DocumentIds


def tags_of(ledger: DocumentLedger) -> DocumentTags:
    """The tag store on the ledger's tenant database."""
    return DocumentTags(ledger.db)


class DocumentTagsController(Controller):
    path = "/documents"
    tags = ["documents"]

    @get("/tags", sync_to_thread=True)
    def all_tags(self, ledger: LedgerDep) -> dict[str, Any]:
        """Every tag in use, with its number of documents."""
        return {"items": [{"tag": t, "count": n} for t, n in tags_of(ledger).all_tags()]}

    @get("/{document_id:str}/tags", sync_to_thread=True)
    def document_tags(self, document_id: FromPath[str], ledger: LedgerDep) -> dict[str, Any]:
        """The tags of one document."""
        ledger.get(document_id)
        return {
            "document_id": document_id,
            "tags": tags_of(ledger).of([document_id]).get(document_id, []),
        }

    @post("/tags", status_code=HTTP_200_OK, sync_to_thread=True)
    def change_tags(self, data: JSONBody[TagChange], ledger: LedgerDep) -> dict[str, Any]:
        """Add and remove tags on the listed documents (nothing changes if one is unknown)."""
        store = tags_of(ledger)
        added = store.add(data.document_ids, data.add) if data.add else 0
        removed = store.remove(data.document_ids, data.remove) if data.remove else 0
        return {"added": added, "removed": removed, "tags": store.of(data.document_ids)}

    @post("/bulk-delete", status_code=HTTP_200_OK, sync_to_thread=True)
    def bulk_delete(
        self,
        data: JSONBody[BulkDelete],
        tenant_access: TenantAccessDep,
        ingest: IngestDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """Delete each listed document as DELETE /documents/{id} does; ids already gone
        (or removed as an attachment of an earlier one) are listed as `missing`."""
        deleted: list[str] = []
        missing: list[str] = []
        for document_id in dict.fromkeys(data.document_ids):
            if document_id in deleted:
                continue
            try:
                deleted += ingest.delete(
                    tenant_access.tenant_id,
                    document_id,
                    actor=tenant_access.principal.username,
                    client=client,
                )
            except NotFoundError:
                missing.append(document_id)
        return {"deleted": deleted, "missing": missing}
