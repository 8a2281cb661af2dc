"""The workflow benchmark runs both sides with the same number of executions."""

from pathlib import Path

import pytest

from bench.workflow_suite import run_workflow
from tests.conftest import make_settings

pytestmark = pytest.mark.slow


def test_engine_and_bare_huey_execute_the_same_number_of_runs(tmp_path: Path) -> None:
    body = run_workflow(make_settings(tmp_path / "unused"), runs=40)
    results = body["results"]
    assert results["engine"]["executions"] == results["bare_huey"]["executions"] == 40
    assert results["engine_vs_bare_huey_throughput"] is not None
    assert results["per_step_overhead_ms"] is not None
    assert set(body["met"]) == set(body["targets"])
