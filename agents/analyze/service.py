"""The analysis agent's entry points per tenant: index parsed documents, search them.

One embedder and one chunker serve every tenant (the model loads on first use); each
tenant's chunks live in its own database, reached through the tenant registry, so a
search can never see another tenant's chunks.
"""

import logging
from collections.abc import Mapping
from typing import Any

from agents.analyze.chunking import Chunker
from agents.analyze.embedding import Embedder
from agents.analyze.index import ChunkIndex
from agents.analyze.indexer import IndexOutcome, index_documents
from agents.analyze.remote_embedding import RemoteEmbedder, RemoteEmbeddingError
from agents.analyze.search import Hit, search
from agents.documents.ledger import DocumentLedger
from storage.tenants import TenantRegistry

log = logging.getLogger("appliance.analyze")


class AnalysisService:
    def __init__(
        self, tenants: TenantRegistry, embedder: Embedder | RemoteEmbedder, chunker: Chunker
    ) -> None:
        self.tenants = tenants
        self.embedder = embedder
        self.chunker = chunker

    def index(self, tenant_id: str) -> ChunkIndex:
        return ChunkIndex(self.tenants.database(tenant_id))

    def ledger(self, tenant_id: str) -> DocumentLedger:
        return DocumentLedger(self.tenants.database(tenant_id), self.tenants.blobs(tenant_id))

    def index_document(self, tenant_id: str, document_id: str) -> IndexOutcome:
        """Chunk, embed and store one parsed document; its state ends `indexed` or `failed`."""
        outcome = index_documents(
            self.ledger(tenant_id),
            self.index(tenant_id),
            self.chunker,
            self.embedder,
            [document_id],
        )[0]
        log.info("document %s %s (%d chunks)", document_id, outcome.state, outcome.chunks)
        return outcome

    def adopt_model(self) -> list[tuple[str, str]]:
        """Record the configured embedding model per tenant; (tenant, document) to re-index.

        A tenant indexed with another model is reset, never mixed: its documents go back
        to `parsed` and must be indexed again.
        """
        pending: list[tuple[str, str]] = []
        for tenant in self.tenants.system.list_tenants():
            ids = self.index(tenant.id).adopt_model(self.embedder.name, self.embedder.dimension)
            if ids:
                log.warning(
                    "tenant %s: embedding model changed; re-indexing %d document(s)",
                    tenant.slug,
                    len(ids),
                )
            pending += [(tenant.id, document_id) for document_id in ids]
        return pending

    def search(
        self,
        tenant_id: str,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        filters: Mapping[str, Any] | None = None,
        timeout_ms: int | None = None,
    ) -> list[Hit]:
        return search(
            self.index(tenant_id),
            self.embedder,
            query,
            k=k,
            mode=mode,
            filters=filters,
            timeout_ms=timeout_ms,
        )

    def status(self) -> dict[str, Any]:
        """The embedding model; its dimension is None while an embeddings server that
        must be asked for it does not answer."""
        try:
            dimension: int | None = self.embedder.dimension
        except RemoteEmbeddingError:
            dimension = None
        return {
            "embedding_model": self.embedder.name,
            "dimension": dimension,
            "loaded": self.embedder.loaded,
        }
