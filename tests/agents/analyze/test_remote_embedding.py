"""Embeddings from a real OpenAI-compatible server (llama.cpp's, serving the packaged
GGUF with /v1/embeddings): batching, order, normalisation, retries and timeouts."""

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agents.analyze import Chunker
from agents.analyze.index import ChunkIndex
from agents.analyze.indexer import index_document
from agents.analyze.remote_embedding import (
    EmbeddingUnavailableError,
    RemoteEmbedder,
    RemoteEmbeddingConfig,
)
from agents.models import locate_embedding_model
from tests.agents.analyze.index_support import Tenant
from tests.llama_server import LlamaServer, free_port

pytestmark = pytest.mark.slow

SMOLLM2_WIDTH = 576
CANARY_KEY = "sk-canary-embed-91b2"


def _client(server: LlamaServer, batch_size: int) -> RemoteEmbedder:
    return RemoteEmbedder(
        RemoteEmbeddingConfig(base_url=server.base_url, model=server.alias, batch_size=batch_size)
    )


@pytest.fixture
def remote(llama_embed_server: LlamaServer) -> Iterator[RemoteEmbedder]:
    # llama-cpp-python's server mixes up the token vectors of all but the first input of
    # a request for a model without a pooling layer: one text per request with it
    embedder = _client(llama_embed_server, batch_size=1)
    yield embedder
    embedder.close()


def test_texts_are_sent_in_batches_and_come_back_normalised_in_order(
    llama_embed_server: LlamaServer, remote: RemoteEmbedder
) -> None:
    # GIVEN 20 different texts and batches of 8
    texts = [f"Invoice number {i} for {i * 3} chairs, due in {i + 10} days." for i in range(20)]
    batched = _client(llama_embed_server, batch_size=8)
    # WHEN they are embedded
    vectors = batched.encode(texts)
    batched.close()
    # THEN three requests carried them, one unit vector per text, of the server's width
    assert batched.requests == 3
    assert vectors.shape == (20, SMOLLM2_WIDTH) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # AND one text per request gives each text its own vector, in input order
    alone = remote.encode(texts[:4])
    assert remote.requests == 4
    for i in range(4):
        assert np.allclose(remote.encode([texts[i]])[0], alone[i], atol=1e-4)
    assert remote.dimension == SMOLLM2_WIDTH


def test_the_dimension_is_learned_from_the_server_when_not_configured(
    remote: RemoteEmbedder,
) -> None:
    # GIVEN no configured dimension WHEN it is asked for THEN one short request finds it
    assert remote.dimension == SMOLLM2_WIDTH
    assert remote.requests == 1
    assert remote.check_health() is None


def test_an_unreachable_server_is_retried_with_backoff_then_503_without_the_key() -> None:
    # GIVEN a port where nothing listens, two retries from 0.2 s
    embedder = RemoteEmbedder(
        RemoteEmbeddingConfig(
            base_url=f"http://127.0.0.1:{free_port()}/v1",
            model="m",
            api_key=CANARY_KEY,
            dimension=4,
            max_retries=2,
            backoff_initial_s=0.2,
        )
    )
    started = time.monotonic()
    # WHEN texts are embedded THEN three attempts are made, waiting 0.2 + 0.4 s between
    with pytest.raises(EmbeddingUnavailableError) as caught:
        embedder.encode(["a text"])
    assert embedder.requests == 3
    assert time.monotonic() - started >= 0.6
    assert caught.value.status_code == 503 and caught.value.code == "embedding_unavailable"
    assert CANARY_KEY not in str(caught.value) and CANARY_KEY not in repr(embedder._config)
    assert embedder.check_health() is not None


def test_a_server_that_never_answers_times_out() -> None:
    # GIVEN a socket that accepts connections (in its backlog) but never answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        embedder = RemoteEmbedder(
            RemoteEmbeddingConfig(
                base_url=f"http://127.0.0.1:{port}", model="m", dimension=4, read_timeout_s=0.5
            )
        )
        # WHEN texts are embedded THEN the read time limit ends the wait (no retry: a
        # server that accepted the work and is slow would only get more of it)
        started = time.monotonic()
        with pytest.raises(EmbeddingUnavailableError, match="did not answer within"):
            embedder.encode(["a text"])
        assert time.monotonic() - started < 5
        assert embedder.requests == 1


def test_documents_wait_for_an_embedding_server_that_is_down_and_index_when_it_returns(
    llama_embed_server: LlamaServer, tmp_path: Path
) -> None:
    # GIVEN a parsed document and the embedding server's address answering nothing
    tenant = Tenant(tmp_path)
    try:
        doc = tenant.add("Harbour crane 7 needs a new brake before the winter season starts.")
        index = ChunkIndex(tenant.db)
        chunker = Chunker(locate_embedding_model("").path, max_tokens=64, overlap_tokens=8)
        config = RemoteEmbeddingConfig(
            base_url=f"http://127.0.0.1:{free_port()}/v1",
            model=llama_embed_server.alias,
            dimension=SMOLLM2_WIDTH,
            max_retries=1,
            backoff_initial_s=0.1,
            batch_size=1,
        )
        down = RemoteEmbedder(config)
        # WHEN it is indexed
        outcome = index_document(tenant.ledger, index, chunker, down, doc)
        down.close()
        # THEN it is deferred, not failed: back to `parsed` with the reason noted
        record = tenant.ledger.get(doc)
        assert outcome.state == "deferred" and outcome.error_code == "embedding_unavailable"
        assert record.state == "parsed" and record.error_code == "embedding_unavailable"
        # WHEN the server answers again and the document is indexed once more
        up = RemoteEmbedder(replace(config, base_url=llama_embed_server.base_url))
        outcome = index_document(tenant.ledger, index, chunker, up, doc)
        up.close()
        # THEN it is indexed and the noted fault cleared
        record = tenant.ledger.get(doc)
        assert outcome.state == "indexed" and record.state == "indexed"
        assert record.error_code is None and index.count() >= 1
    finally:
        tenant.db.close()
