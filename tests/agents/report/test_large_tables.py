"""Large tables: a PDF spills across pages with the header repeated, within the limits;
a 100,000-row table is refused for PDF (`too_large`) before any layout, and written to
XLSX in write-only mode with bounded memory."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agents.report.errors import TooLargeError
from agents.report.service import ReportService
from tests.agents.report.conftest import require_program

ROOT = Path(__file__).resolve().parents[3]


def _steps(count: int) -> dict[str, object]:
    steps = [
        {
            "step": f"step-{i:06d}",
            "agent": "extract",
            "status": "succeeded",
            "attempts": 1,
            "duration_s": i % 97 / 10,
            "error": None,
        }
        for i in range(count)
    ]
    return {
        "workflow": "big",
        "run_id": "r",
        "status": "ok",
        "started_at": "",
        "finished_at": "",
        "steps": steps,
    }


@pytest.mark.slow
def test_a_long_table_spills_across_pages_with_its_header_repeated(
    reports: ReportService, tenant: str, tmp_path: Path
) -> None:
    pdftotext = require_program("pdftotext", "poppler-utils")
    # GIVEN 1,500 steps
    # WHEN they are rendered to PDF
    record = reports.produce_now(tenant, "run-report", "pdf", None, _steps(1500), "t")
    # THEN the table runs over many pages, each page of it starting with the header row
    assert record.status == "succeeded", record.error_message
    assert record.pages is not None and record.pages > 20
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(reports.content(tenant, record.id)[1])
    last = subprocess.run(
        [pdftotext, "-f", str(record.pages), "-l", str(record.pages), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Attempts" in last and "step-001499" in last
    assert f"Page {record.pages}" in last


def test_a_100000_row_pdf_is_refused_as_too_large_before_it_is_stored(
    reports: ReportService, tenant: str
) -> None:
    # GIVEN 100,000 rows for a PDF (above pdf_max_rows)
    data = _steps(100_000)
    # WHEN the report is requested
    with pytest.raises(TooLargeError) as raised:
        reports.request(tenant, "run-report", "pdf", None, data, "t", enqueue=False)
    # THEN it is refused with too_large, naming the limit and the other formats
    assert raised.value.code == "too_large"
    assert "100,000" in raised.value.message and "XLSX" in raised.value.message


_XLSX_SCRIPT = """
import io, json, resource, sys
from agents.report.catalog import builtin_templates
from agents.report.dataset import from_input
from agents.report.render import render
data = json.loads(sys.stdin.read())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(sys.argv[1], "wb") as out:
    render(builtin_templates()["run-report"], from_input(data), "xlsx", out)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kib": before, "after_kib": after}))
"""


@pytest.mark.slow
def test_a_100000_row_xlsx_streams_with_bounded_memory(tmp_path: Path) -> None:
    # GIVEN 100,000 rows, in a process of their own so its peak memory can be read
    target = tmp_path / "big.xlsx"
    done = subprocess.run(
        [sys.executable, "-c", _XLSX_SCRIPT, str(target)],
        input=json.dumps(_steps(100_000)),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=600,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    # WHEN / THEN the file is written and writing it grew the process by under 100 MiB
    # beyond the rows themselves (write-only mode streams each row to the file)
    figures = json.loads(done.stdout)
    grown_mib = (figures["after_kib"] - figures["before_kib"]) / 1024
    assert grown_mib < 100, f"grew by {grown_mib:.0f} MiB"
    assert target.stat().st_size > 1_000_000


def test_a_pdf_running_past_the_page_limit_stops_with_too_large() -> None:
    import io

    from agents.report.catalog import builtin_templates
    from agents.report.dataset import from_input
    from agents.report.limits import PdfLimits
    from agents.report.render import RenderLimits, render

    # GIVEN a page limit of 3 and a table that needs many more pages
    limits = RenderLimits(pdf=PdfLimits(max_pages=3))
    # WHEN it is rendered THEN layout stops at the limit with too_large
    with pytest.raises(TooLargeError, match="3 pages"):
        render(
            builtin_templates()["run-report"], from_input(_steps(600)), "pdf", io.BytesIO(), limits
        )
