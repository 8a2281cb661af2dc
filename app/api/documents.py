"""Documents of one tenant: upload (multipart or JSON), list, show, text, original, delete."""

import base64
import binascii
import functools
import re
from typing import Annotated, Any, Literal, get_args

import anyio
import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from agents.documents.records import STATES
from agents.ingest.errors import IngestError
from app.api.deps import ClientDep, IngestDep, LedgerDep, TenantAccessDep
from app.api.limits import check_json_depth
from app.errors import AppError

_MAX_FILES_PER_REQUEST = 100
State = Literal["received", "parsing", "parsed", "indexing", "indexed", "failed", "unsupported"]
if get_args(State) != STATES:  # the ledger's states are the contract's
    raise RuntimeError("documents.State differs from the ledger's STATES")
MAX_PAGE = 200
_UNSAFE_NAME = re.compile(r"[^\w.\- ()\[\]]+")


class InvalidUpload(AppError):
    status_code = 400
    code = "invalid_upload"


class JsonDocument(msgspec.Struct, forbid_unknown_fields=True):
    filename: str | None = None
    content_base64: str | None = None
    text: str | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


def display_name(name: str | None) -> str | None:
    """A file name fit for display and Content-Disposition; never used as a path."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .")[:200]
    return cleaned or None


async def _uploads(
    request: Request[Any, Any, Any],
) -> list[tuple[str | None, bytes, dict[str, Any]]]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        parts = form.getall("files") if "files" in form else []
        files = [item for item in parts if hasattr(item, "read")]
        if not files:
            raise InvalidUpload("multipart uploads need one or more parts named 'files'")
        return [(display_name(f.filename), await f.read(), {}) for f in files]
    if content_type.startswith("application/json"):
        raw = await request.body()
        check_json_depth(raw)
        try:
            body = msgspec.json.decode(raw, type=JsonDocument | list[JsonDocument])
        except msgspec.ValidationError as exc:
            raise InvalidUpload(f"invalid document JSON: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise InvalidUpload("the body is not valid JSON") from exc
        items = body if isinstance(body, list) else [body]
        if not items:
            raise InvalidUpload("the list of documents is empty")
        uploads: list[tuple[str | None, bytes, dict[str, Any]]] = []
        for item in items:
            if (item.content_base64 is None) == (item.text is None):
                raise InvalidUpload("give exactly one of 'content_base64' and 'text'")
            name: str | None
            if item.text is not None:
                content = item.text.encode()
                name = display_name(item.filename) or "text.txt"
            else:
                try:
                    content = base64.b64decode(item.content_base64 or "", validate=True)
                except (binascii.Error, ValueError) as exc:
                    raise InvalidUpload("'content_base64' is not valid base64") from exc
                name = display_name(item.filename)
            uploads.append((name, content, item.metadata))
        return uploads
    raise InvalidUpload(
        "send multipart/form-data with 'files', or JSON {filename, content_base64|text}"
    )


class DocumentsController(Controller):
    path = "/documents"
    tags = ["documents"]

    @post("/", status_code=HTTP_202_ACCEPTED)
    async def upload(
        self, request: Request[Any, Any, Any], tenant_access: TenantAccessDep, ingest: IngestDep
    ) -> dict[str, Any]:
        """Store each file and queue its parsing; 202 with ids and states."""
        uploads = await _uploads(request)
        if len(uploads) > _MAX_FILES_PER_REQUEST:
            raise InvalidUpload(f"at most {_MAX_FILES_PER_REQUEST} files per request")
        items = []
        for name, content, metadata in uploads:
            try:
                result = await anyio.to_thread.run_sync(
                    functools.partial(
                        ingest.receive,
                        tenant_access.tenant_id,
                        content,
                        filename=name,
                        source="upload",
                        source_ref=tenant_access.principal.username,
                        metadata=metadata,
                    )
                )
                items.append(result.public())
            except IngestError as exc:
                items.append(
                    {
                        "filename": name,
                        "state": "failed",
                        "error": {"code": exc.code, "message": str(exc)},
                    }
                )
        return {"items": items}

    @get("/")
    async def list_documents(
        self,
        ledger: LedgerDep,
        state_filter: Annotated[State | None, QueryParameter(name="state")] = None,
        status: FromQuery[State | None] = None,
        source: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        text: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """Newest first; filter by state, source, type, text and tag; cursor paging.

        `q`: part of the title or file name; `text`: words in the text of indexed documents;
        `tag`: a tag the documents carry.
        """
        wanted = state_filter or status
        if wanted and wanted not in STATES:
            raise InvalidUpload(f"unknown state {wanted!r}; one of {', '.join(STATES)}")
        page = functools.partial(
            ledger.list_documents,
            state=wanted,
            source=source,
            fmt=type,
            q=q,
            text=text,
            tag=tag,
            limit=limit,
            cursor=cursor,
        )
        # A page of at most 200 rows read along an index (newest first, or by state) takes
        # well under a millisecond, less than handing it to a worker thread; the other
        # filters may scan the whole table, so those leave the event loop.
        scans = bool(q or text or source or type or tag)
        records, next_cursor = await anyio.to_thread.run_sync(page) if scans else page()
        return {"items": [r.public() for r in records], "next_cursor": next_cursor}

    @get("/{document_id:str}", sync_to_thread=True)
    def show(self, document_id: FromPath[str], ledger: LedgerDep) -> dict[str, Any]:
        return ledger.get(document_id).public()

    @get("/{document_id:str}/text", sync_to_thread=True)
    def text(self, document_id: FromPath[str], ledger: LedgerDep) -> dict[str, Any]:
        """Extracted text page by page."""
        pages = ledger.pages(document_id)
        return {
            "document_id": document_id,
            "pages": [{"page": number, "text": text} for number, text in pages],
            "text": "\n\n".join(text for _, text in pages),
        }

    @get("/{document_id:str}/original", sync_to_thread=True)
    def original(self, document_id: FromPath[str], ledger: LedgerDep) -> Response[bytes]:
        """The file as it arrived (decrypted), as a download."""
        record, content = ledger.original(document_id)
        name = display_name(record.filename) or f"{record.id}.bin"
        return Response(
            content,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @delete("/{document_id:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def remove(
        self,
        document_id: FromPath[str],
        tenant_access: TenantAccessDep,
        ingest: IngestDep,
        client: ClientDep,
    ) -> None:
        """Delete text, originals and index entries (and attachments of a mail)."""
        ingest.delete(
            tenant_access.tenant_id,
            document_id,
            actor=tenant_access.principal.username,
            client=client,
        )
