"""Embeddings from the real all-MiniLM-L6-v2 model: consistent, normalised, thread-safe."""

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from agents.analyze import Embedder
from agents.models import locate_embedding_model

pytestmark = pytest.mark.slow  # loading torch and the model takes several seconds

TEXTS = [
    "The invoice is due within thirty days.",
    "Les chats dorment beaucoup pendant la journée.",
    "SQLite stores the whole database in a single file.",
    "A much longer passage about offline document appliances, which parse, chunk, embed "
    "and index files so that questions can be answered with citations. " * 8,
    "",
    "short",
]


@pytest.fixture(scope="module")
def embedder() -> Iterator[Embedder]:
    yield Embedder(locate_embedding_model(""))


def test_dimension_is_known_before_the_model_loads(embedder: Embedder) -> None:
    # GIVEN a fresh embedder WHEN asked its name and dimension
    # THEN they come from the model files, without loading torch
    assert embedder.name == "all-MiniLM-L6-v2"
    assert embedder.dimension == 384
    assert not embedder.loaded


def test_vectors_are_float32_unit_length_one_row_per_text(embedder: Embedder) -> None:
    # GIVEN several texts, an empty one among them WHEN encoded
    vectors = embedder.encode(TEXTS)
    # THEN one float32 row of the model's dimension per text, each of length 1
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), embedder.dimension)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.loaded


def test_a_text_embeds_the_same_alone_and_in_any_batch(embedder: Embedder) -> None:
    # GIVEN each text embedded on its own
    alone = np.vstack([embedder.encode([text]) for text in TEXTS])
    # WHEN the same texts are embedded in batches of mixed lengths and sizes
    together = embedder.encode(TEXTS, batch_size=len(TEXTS))
    pairs = embedder.encode(TEXTS, batch_size=2)
    reversed_order = embedder.encode(TEXTS[::-1])[::-1]
    # THEN every vector agrees with its solo vector to cosine >= 0.9999
    for batch in (together, pairs, reversed_order):
        cosines = np.sum(alone * batch, axis=1)
        assert cosines.min() >= 0.9999


def test_related_texts_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    # GIVEN a query, a paraphrase and an unrelated sentence WHEN embedded
    query, para, other = embedder.encode(
        [
            "When must the bill be paid?",
            "The invoice is due within thirty days.",
            "Cats sleep for most of the day.",
        ]
    )
    # THEN the paraphrase scores higher than the unrelated text
    assert float(query @ para) > float(query @ other) + 0.1


def test_no_texts_give_an_empty_matrix(embedder: Embedder) -> None:
    # GIVEN no texts WHEN encoded THEN a 0 x dimension float32 matrix
    empty = embedder.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_a_bare_string_is_refused(embedder: Embedder) -> None:
    # GIVEN one string instead of a list WHEN encoded THEN a TypeError, not 26 letter vectors
    with pytest.raises(TypeError):
        embedder.encode("abcdefghijklmnopqrstuvwxyz")


def test_concurrent_encodes_match_sequential_results(embedder: Embedder) -> None:
    # GIVEN the sequential vectors of several batches
    batches = [TEXTS[i:] + TEXTS[:i] for i in range(len(TEXTS))]
    expected = [embedder.encode(batch) for batch in batches]
    # WHEN the same batches are encoded from six threads at once
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(embedder.encode, batches))
    # THEN each thread gets exactly its own vectors
    for mine, reference in zip(got, expected, strict=True):
        assert np.allclose(mine, reference, atol=1e-6)


def test_importing_the_packages_loads_no_heavy_library() -> None:
    # GIVEN a fresh interpreter WHEN the llm and analyze packages are imported
    code = (
        "import sys, agents.llm, agents.analyze, agents.models\n"
        "heavy = {'torch', 'sentence_transformers', 'transformers', 'llama_cpp'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    # THEN none of torch, sentence-transformers, transformers or llama_cpp is loaded
    assert result.stdout.strip() == "[]"
