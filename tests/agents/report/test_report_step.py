"""The `report` workflow step: data from earlier steps in, a stored report's id out;
retries return the same report; bad data fails without retries."""

import pytest

from agents.report.service import ReportService
from agents.report.step import ReportStep
from agents.supervisor.step import StepContext, StepError, StepRegistry
from tests.agents.report.conftest import extraction_rows


def test_the_step_makes_a_report_and_returns_its_id(reports: ReportService, tenant: str) -> None:
    # GIVEN the step registered as the runtime does, and rows from an earlier step
    registry = StepRegistry()
    registry.register(ReportStep(reports))
    step = registry.get("report")
    assert step is not None
    ctx = StepContext(tenant_id=tenant, run_id="run-1", step_id="sheet")
    # WHEN it runs
    result = step.run(
        ctx, {"template": "extraction-table", "format": "xlsx", "data": extraction_rows()}
    )
    # THEN the output names a stored, finished report of the run
    output = result.output
    assert set(output) == {"report_id", "format", "size", "pages"}
    record = reports.get(tenant, output["report_id"])
    assert record.status == "succeeded" and record.run_id == "run-1"
    assert output["format"] == "xlsx" and output["size"] == record.size > 0


def test_a_retried_step_returns_the_report_it_already_made(
    reports: ReportService, tenant: str
) -> None:
    # GIVEN a step that ran once
    step = ReportStep(reports)
    ctx = StepContext(tenant_id=tenant, run_id="run-2", step_id="sheet")
    params = {"template": "extraction-table", "format": "csv", "data": extraction_rows()}
    first = step.run(ctx, params).output
    # WHEN it runs again (at-least-once delivery)
    second = step.run(ctx, params).output
    # THEN no second report is made
    assert second == first


def test_bad_data_fails_the_step_without_retries(reports: ReportService, tenant: str) -> None:
    ctx = StepContext(tenant_id=tenant, run_id="run-3", step_id="brief")
    with pytest.raises(StepError) as raised:
        ReportStep(reports).run(ctx, {"template": "run-report", "data": {"steps": []}})
    assert raised.value.code == "missing_field" and not raised.value.retryable
