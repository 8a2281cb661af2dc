"""Expensive parts shared by the analysis tests: the embedding model, loaded once."""

from __future__ import annotations

import pytest

from agents.analyze import Chunker, Embedder
from agents.models import locate_embedding_model


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(locate_embedding_model(""))


@pytest.fixture(scope="session")
def chunker() -> Chunker:
    return Chunker(locate_embedding_model("").path)
