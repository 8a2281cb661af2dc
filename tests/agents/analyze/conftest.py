"""Fixtures of the analysis tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents.analyze.index_support import Tenant


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[Tenant]:
    opened = Tenant(tmp_path)
    yield opened
    opened.db.close()
