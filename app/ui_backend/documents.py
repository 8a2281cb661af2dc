"""Dashboard figures and documents, through the ingest service and the document ledger."""

from typing import Any

from agents.documents.ledger import DocumentLedger
from agents.documents.records import STATES
from agents.documents.tags import DocumentTags
from agents.ingest.service import IngestService
from app.api.documents import display_name
from app.runtime import Runtime
from app.services import Services
from app.ui_backend.errors import InvalidInput
from app.ui_backend.gate import SessionGate
from storage.errors import NotFoundError
from ui.backend import Dashboard, ModelStatus

_MAX_LIST = 200
_SNIPPET_CHARS = 280


def snippet(text: str) -> str:
    """The passage on one line, cut at a word near `_SNIPPET_CHARS`."""
    flat = " ".join(text.split())
    if len(flat) <= _SNIPPET_CHARS:
        return flat
    cut = flat[:_SNIPPET_CHARS].rsplit(" ", 1)[0]
    return cut + " …"


_RECENT = 8
_FAILURES = 6


class DocumentMethods:
    """The DocumentsBackend part of ApplianceUiBackend (same rules as /documents)."""

    _gate: SessionGate
    _services: Services
    _runtime: Runtime

    def _ingest(self) -> IngestService:
        return self._runtime.ingest

    def _ledger(
        self, token: str | None, tenant_id: str, needed: str = "viewer", *, active: bool = True
    ) -> DocumentLedger:
        access = self._gate.access(token, tenant_id, needed, active=active)
        return self._ingest().ledger(access.tenant_id)

    def dashboard(self, token: str | None, tenant_id: str) -> Dashboard:
        """Counts per state, queue, recent arrivals, failures and models (a timer refreshes
        it, so it does not count as user activity)."""
        ledger = self._ledger(token, tenant_id, active=False)
        recent, _ = ledger.list_documents(limit=_RECENT)
        failed, _ = ledger.list_documents(state="failed", limit=_FAILURES)
        unsupported, _ = ledger.list_documents(state="unsupported", limit=_FAILURES)
        failures = sorted(failed + unsupported, key=lambda d: d.updated_at, reverse=True)
        return Dashboard(
            counts=ledger.counts_by_state(),
            queue=self._runtime.queue.status(),
            recent=[d.public() for d in recent],
            failures=[d.public() for d in failures[:_FAILURES]],
            models=self.models(),
        )

    def models(self) -> list[ModelStatus]:
        """Language and embedding model: loaded or not (never loads one to find out)."""
        found: list[ModelStatus] = []
        llm = self._runtime.llm
        configured = self._services.settings.models
        if llm is not None:
            status = llm.status()
            found.append(
                ModelStatus(
                    "language model",
                    str(status.model),
                    bool(status.loaded),
                    int(status.memory_bytes or 0) or None,
                    str(getattr(status, "backend", "")),
                )
            )
        else:
            name = configured.llm_model or "SmolLM2-135M-Instruct (default)"
            found.append(ModelStatus("language model", name, False, None, "not started"))
        embedder = self._runtime.analysis.embedder
        found.append(ModelStatus("embeddings", str(embedder.name), bool(embedder.loaded)))
        return self._with_servers(found)

    def _with_servers(self, found: list[ModelStatus]) -> list[ModelStatus]:
        """A model served by inference servers shows as loaded while one answers, with
        the servers' state as its detail."""
        inference = self._runtime.inference
        if inference is None:
            return found
        pools = {"language model": inference.llm, "embeddings": inference.embedding}
        out = []
        for model in found:
            pool = pools.get(model.kind)
            if pool is None:
                out.append(model)
                continue
            states = pool.health(inference.max_age_s)
            up = [s.url for s in states if s.up]
            detail = (
                f"server {up[0]}"
                if up
                else "no server reachable ("
                + ", ".join(f"{s.url}: {s.detail}" for s in states)
                + ")"
            )
            out.append(ModelStatus(model.kind, model.name, bool(up), None, detail))
        return out

    def semantic_search_available(self) -> bool:
        return True

    def documents(
        self,
        token: str | None,
        tenant_id: str,
        *,
        state: str | None = None,
        q: str | None = None,
        semantic: bool = False,
        limit: int = _MAX_LIST,
        tag: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first, filtered by state, title and tag; by meaning (best match first,
        with `snippet`, `page` and `score`) when `semantic`. Each row has its `tags`."""
        if state and state not in STATES:
            raise InvalidInput(f"unknown state {state!r}")
        ledger = self._ledger(token, tenant_id, active=False)
        limit = max(1, min(limit, _MAX_LIST))
        by_meaning = bool(semantic and q and self.semantic_search_available())
        if by_meaning and q:
            found = self._by_meaning(ledger, tenant_id, q, state, limit)
        else:
            records, _ = ledger.list_documents(state=state, q=q, tag=tag, limit=limit)
            found = [r.public() for r in records]
        tags = DocumentTags(ledger.db)
        if tag and by_meaning:  # the list above is filtered by the ledger
            wanted = tags.tagged(tag)
            found = [d for d in found if d["id"] in wanted]
        of = tags.of(d["id"] for d in found)
        return [{**d, "tags": of.get(d["id"], [])} for d in found]

    def _by_meaning(
        self, ledger: DocumentLedger, tenant_id: str, q: str, state: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Documents in order of their best passage's closeness in meaning to the query,
        each with that passage (`snippet`, `page`) and its score (0-1, `score`).

        Candidates come from hybrid search (so exact words count); they are ranked by the
        cosine similarity with the query, which, unlike the fused score (scaled so the
        weakest candidate is 0), means the same from one search to the next."""
        hits = self._runtime.analysis.search(tenant_id, q, k=min(limit, 50), mode="hybrid")

        def closeness(hit: Any) -> float:
            return float(hit.similarity if hit.similarity is not None else hit.score)

        best: dict[str, Any] = {}
        for hit in sorted(hits, key=closeness, reverse=True):
            best.setdefault(hit.document_id, hit)
        found = []
        for doc_id, hit in best.items():
            try:
                record = ledger.get(doc_id)
            except NotFoundError:
                continue  # deleted since it was indexed
            if state is None or record.state == state:
                found.append(
                    {
                        **record.public(),
                        "snippet": snippet(hit.text),
                        "page": hit.page,
                        "score": round(max(0.0, min(1.0, closeness(hit))), 3),
                    }
                )
        return found

    def document(self, token: str | None, tenant_id: str, document_id: str) -> dict[str, Any]:
        return self._ledger(token, tenant_id, active=False).get(document_id).public()

    def document_pages(
        self, token: str | None, tenant_id: str, document_id: str
    ) -> list[tuple[int, str]]:
        return self._ledger(token, tenant_id, active=False).pages(document_id)

    def original(self, token: str | None, tenant_id: str, document_id: str) -> tuple[str, bytes]:
        """(download file name, decrypted content) of the file as it arrived."""
        record, content = self._ledger(token, tenant_id).original(document_id)
        return display_name(record.filename) or f"{record.id}.bin", content

    def upload(
        self, token: str | None, tenant_id: str, filename: str, content: bytes
    ) -> dict[str, Any]:
        """Store one file and queue its parsing (editors), as POST /documents does."""
        access = self._gate.access(token, tenant_id, "editor")
        result = self._ingest().receive(
            access.tenant_id,
            content,
            filename=display_name(filename),
            source="upload",
            source_ref=access.principal.username,
        )
        return result.public()

    def delete_document(self, token: str | None, tenant_id: str, document_id: str) -> None:
        """Remove text, originals and index entries (editors), as DELETE /documents does."""
        access = self._gate.access(token, tenant_id, "editor")
        self._ingest().delete(
            access.tenant_id, document_id, actor=access.principal.username, client="ui"
        )

    def max_upload_bytes(self) -> int:
        settings = self._services.settings
        return min(settings.ingest.max_file_mb, settings.server.max_body_mb) * 2**20
