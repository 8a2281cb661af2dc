"""Pointing the appliance at an embeddings server re-indexes every tenant: the model name
and dimension are recorded per tenant, and the server's vectors (576 dimensions from a
real llama.cpp server) replace MiniLM's (384) without mixing the two (issue 17)."""

from pathlib import Path

import pytest

from agents.analyze.index import ChunkIndex
from agents.analyze.remote_embedding import RemoteEmbedder
from agents.documents.ledger import DocumentLedger
from agents.documents.tasks import IndexTask
from agents.ingest.sandbox.document import single_page
from app.runtime import build_answering
from app.services import open_services
from app.settings import Settings
from app.tasks import reindex_after_model_change
from tests.conftest import make_settings
from tests.llama_server import LlamaServer

pytestmark = pytest.mark.slow

TEXTS = {
    "harbour.txt": "The north pier of Port Aldwin was repaired by Kestrel Marine in March.",
    "bakery.txt": "The bakery on Mill Street sells rye bread and almond croissants daily.",
    "orbit.txt": "The satellite reached a stable orbit after its third engine burn.",
}


def test_a_new_embeddings_server_re_indexes_the_tenant_with_its_own_vectors(
    initialised: Settings, llama_embed_server: LlamaServer
) -> None:
    # GIVEN a tenant indexed with the local MiniLM model (384 dimensions)
    services = open_services(initialised, None)
    tenant_id = services.system.find_tenant("demo").id
    ledger = DocumentLedger(services.tenants.database(tenant_id), services.tenants.blobs(tenant_id))
    ids = {}
    for name, text in TEXTS.items():
        received = ledger.receive(text.encode(), filename=name, source="upload")
        ledger.save_parsed(received.document.id, single_page("txt", text))
        ids[name] = received.document.id
    local = build_answering(services).analysis
    assert reindex_after_model_change(local, lambda task: None) == 0
    for document_id in ids.values():
        assert local.index_document(tenant_id, document_id).state == "indexed"
    first = ChunkIndex(services.tenants.database(tenant_id)).model()
    assert first is not None and first.dimension == 384
    services.close()
    # WHEN the appliance restarts with an OpenAI-compatible embeddings server configured
    remote_settings = make_settings(
        initialised.data_dir,
        inference={
            "embedding_backend": "openai",
            "embedding_base_url": llama_embed_server.base_url,
            "embedding_model": llama_embed_server.alias,
            "embedding_batch_size": 1,  # see test_remote_embedding: llama-cpp-python's server
        },
    )
    services = open_services(remote_settings, None)
    try:
        analysis = build_answering(services).analysis
        assert isinstance(analysis.embedder, RemoteEmbedder)
        queued: list[IndexTask] = []
        # THEN the start-up job records the new model and queues every document again
        assert reindex_after_model_change(analysis, queued.append) == len(TEXTS)
        assert {t.document_id for t in queued} == set(ids.values())
        index = ChunkIndex(services.tenants.database(tenant_id))
        recorded = index.model()
        assert recorded is not None
        assert (recorded.name, recorded.dimension) == (llama_embed_server.alias, 576)
        # WHEN the queued index tasks run THEN every document is indexed with 576-d vectors
        for task in queued:
            assert analysis.index_document(task.tenant_id, task.document_id).state == "indexed"
        hits = analysis.search(tenant_id, "Who repaired the pier of Port Aldwin?", k=3)
        assert hits and hits[0].document_id == ids["harbour.txt"]
        dense = analysis.search(tenant_id, "bread", k=3, mode="dense")
        assert len(dense) == 3
        # AND a second start changes nothing
        assert reindex_after_model_change(analysis, queued.append) == 0
    finally:
        services.close()


def test_settings_point_nothing_at_a_server_by_default(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    assert settings.inference.embedding_backend == "local"
    assert settings.inference.llm_fallback_urls == []
