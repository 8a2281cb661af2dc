"""A search query's embedding never waits for a long indexing call on the shared model."""

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from agents.analyze import Embedder
from agents.models import locate_embedding_model

pytestmark = pytest.mark.slow  # loading torch and the model takes several seconds

CHUNK = (
    "The harbour authority inspected the north pier, replaced twelve timber piles and "
    "recorded the cost of the mooring rings in the quarterly maintenance ledger. "
)


@pytest.fixture(scope="module")
def embedder() -> Iterator[Embedder]:
    model = Embedder(locate_embedding_model(""), batch_size=16)
    model.load()
    yield model


def test_a_query_is_embedded_while_a_long_indexing_call_runs(embedder: Embedder) -> None:
    # GIVEN a thread embedding many batches of chunks (an indexing job)
    chunks = [f"{i}. {CHUNK * 2}" for i in range(16 * 12)]
    times: dict[str, float] = {}

    def index() -> None:
        times["index_start"] = time.monotonic()
        embedder.encode(chunks)
        times["index_end"] = time.monotonic()

    worker = threading.Thread(target=index)
    worker.start()
    while not embedder.busy:
        time.sleep(0.005)
    # WHEN a search query is embedded meanwhile
    times["query_start"] = time.monotonic()
    query = embedder.encode(["Who repaired the north pier?"])
    times["query_end"] = time.monotonic()
    worker.join()
    # THEN the query is answered long before the indexing call ends, and waited for
    # a small part of the indexing time (at most about one batch of 12)
    assert times["query_end"] < times["index_end"]
    indexing = times["index_end"] - times["index_start"]
    assert times["query_end"] - times["query_start"] < indexing / 4
    assert query.shape == (1, embedder.dimension)


def test_a_call_split_into_batches_matches_one_call_per_text(embedder: Embedder) -> None:
    # GIVEN texts of different lengths, more than one batch of them
    texts = [f"{i} " + CHUNK * (1 + i % 3) for i in range(20)]
    # WHEN embedded in one call (split into turns) and one by one
    together = embedder.encode(texts)
    alone = np.vstack([embedder.encode([text]) for text in texts])
    # THEN every row is the text's own vector, in input order
    assert together.shape == (20, embedder.dimension)
    assert np.allclose(together, alone, atol=1e-5)
