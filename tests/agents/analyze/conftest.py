"""Fixtures of the analysis tests: the embedding model loaded once, and a real tenant."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.analyze import Chunker, Embedder
from agents.models import locate_embedding_model
from tests.agents.analyze.index_support import Tenant


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(locate_embedding_model(""))


@pytest.fixture(scope="session")
def chunker() -> Chunker:
    return Chunker(locate_embedding_model("").path)


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[Tenant]:
    opened = Tenant(tmp_path)
    yield opened
    opened.db.close()
