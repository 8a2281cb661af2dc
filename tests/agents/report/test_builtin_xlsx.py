"""Every built-in template renders to an XLSX that openpyxl reads with typed values and
native chart parts, and that LibreOffice (headless) converts without complaint."""

import datetime as dt
import io
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from agents.report.service import ReportService
from app.services import Services
from tests.agents.report.conftest import request_for, require_program
from tests.agents.report.test_builtin_pdf import BUILTIN_IDS

CHARTS = {
    "document-summary": 1,
    "extraction-table": 0,
    "qa-brief": 0,
    "activity": 3,
    "run-report": 1,
}


def _xlsx(reports: ReportService, services: Services, tenant: str, template_id: str) -> bytes:
    wanted = request_for(template_id, services, tenant)
    record = reports.produce_now(tenant, template_id, "xlsx", wanted["params"], wanted["data"], "t")
    assert record.status == "succeeded", record.error_message
    return reports.content(tenant, record.id)[1]


@pytest.mark.parametrize("template_id", BUILTIN_IDS)
def test_builtin_template_makes_an_xlsx_with_typed_values_and_native_charts(
    template_id: str, reports: ReportService, report_services: Services, tenant: str
) -> None:
    # GIVEN / WHEN the template is rendered to XLSX
    content = _xlsx(reports, report_services, tenant, template_id)
    # THEN the package holds one chart part per chart section
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == CHARTS[template_id]
    # AND each table sheet has a frozen, filterable header and typed, non-formula values
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames[0] == "Summary"
    tables = [ws for ws in book.worksheets if ws.freeze_panes == "A2"]
    assert tables, "no table sheet"
    for ws in tables:
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                assert cell.data_type != "f"
    numbers = [
        c
        for ws in tables
        for row in ws.iter_rows(min_row=2)
        for c in row
        if isinstance(c.value, int | float)
    ]
    assert numbers and all(c.number_format != "General" for c in numbers)


def test_dates_and_currency_are_typed_cells_with_formats(
    reports: ReportService, report_services: Services, tenant: str
) -> None:
    # GIVEN extraction rows with a date and a total per invoice
    content = _xlsx(reports, report_services, tenant, "extraction-table")
    # WHEN the table sheet is read back
    ws = openpyxl.load_workbook(io.BytesIO(content))["Extracted fields"]
    header = [c.value for c in ws[1]]
    first = {h: c for h, c in zip(header, ws[2], strict=True)}
    # THEN the date is a date cell and the total a number with a number format
    assert isinstance(first["Date"].value, dt.datetime)
    assert first["Date"].number_format == "yyyy-mm-dd"
    assert first["Total"].value == pytest.approx(100.5)
    assert first["Total"].number_format.startswith("#,##0.00")


@pytest.mark.slow
@pytest.mark.parametrize("template_id", BUILTIN_IDS)
def test_libreoffice_opens_every_builtin_xlsx(
    template_id: str,
    reports: ReportService,
    report_services: Services,
    tenant: str,
    tmp_path: Path,
) -> None:
    soffice = require_program("soffice", "libreoffice-calc-nogui")
    # GIVEN the XLSX of the template
    source = tmp_path / f"{template_id}.xlsx"
    source.write_bytes(_xlsx(reports, report_services, tenant, template_id))
    # WHEN LibreOffice converts it headless (its own profile, so runs do not collide)
    profile = tmp_path / "lo-profile"
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    # THEN it succeeds and produces a non-empty PDF (a file needing repair would not convert)
    converted = tmp_path / f"{template_id}.pdf"
    assert done.returncode == 0, done.stderr[-500:]
    assert converted.exists() and converted.stat().st_size > 1000, done.stdout + done.stderr
