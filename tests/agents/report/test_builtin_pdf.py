"""Every built-in template renders to a PDF that poppler reads: every page rasterises,
and the text holds the table values and chart labels (Unicode included)."""

import subprocess
from pathlib import Path

import pytest

from agents.report.catalog import builtin_templates
from agents.report.service import ReportService
from app.services import Services
from tests.agents.report.conftest import (
    ARTIFACTS,
    CYRILLIC,
    EXPECTED_TEXT,
    GREEK,
    request_for,
    require_program,
)

BUILTIN_IDS = ["document-summary", "extraction-table", "qa-brief", "activity", "run-report"]


def test_the_builtin_templates_are_the_five_documented_ones() -> None:
    # GIVEN the templates shipped in agents/report/builtin
    # WHEN they are loaded
    found = builtin_templates()
    # THEN exactly the documented ids are there, each valid
    assert sorted(found) == sorted(BUILTIN_IDS)
    assert all(t.builtin for t in found.values())


@pytest.mark.slow
@pytest.mark.parametrize("template_id", BUILTIN_IDS)
def test_builtin_template_renders_a_pdf_poppler_reads(
    template_id: str,
    reports: ReportService,
    report_services: Services,
    tenant: str,
    tmp_path: Path,
) -> None:
    pdftoppm = require_program("pdftoppm", "poppler-utils")
    pdftotext = require_program("pdftotext", "poppler-utils")
    # GIVEN a report of the template over the tenant's data (or data given with it)
    wanted = request_for(template_id, report_services, tenant)
    # WHEN it is requested and generated
    record = reports.request(
        tenant, template_id, "pdf", wanted["params"], wanted["data"], "t", enqueue=False
    )
    done = reports.generate(tenant, record.id)
    # THEN it succeeded with pages, and poppler renders every page
    assert done.status == "succeeded", done.error_message
    assert done.pages and done.pages >= 1
    _, content = reports.content(tenant, record.id)
    assert content.startswith(b"%PDF") and len(content) == done.size
    pdf = tmp_path / f"{template_id}.pdf"
    pdf.write_bytes(content)
    ARTIFACTS.mkdir(exist_ok=True)
    prefix = ARTIFACTS / f"report-{template_id}"
    subprocess.run(
        [pdftoppm, "-r", "50", "-png", str(pdf), str(prefix)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    rendered = sorted(ARTIFACTS.glob(f"report-{template_id}-*.png"))
    assert len(rendered) == done.pages
    assert all(p.stat().st_size > 1000 for p in rendered)
    # AND the text holds the table values and chart labels
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    for expected in EXPECTED_TEXT[template_id]:
        assert expected in text, f"{expected!r} missing from the {template_id} PDF"
    assert "Page 1" in text


@pytest.mark.slow
def test_greek_and_cyrillic_render_and_cjk_gets_a_note(
    reports: ReportService, tenant: str, tmp_path: Path
) -> None:
    pdftotext = require_program("pdftotext", "poppler-utils")
    # GIVEN run data whose steps are named in Greek, Cyrillic and Chinese
    data = {
        "workflow": GREEK,
        "run_id": "r",
        "status": "ok",
        "started_at": "",
        "finished_at": "",
        "steps": [
            {
                "step": GREEK,
                "agent": CYRILLIC,
                "status": "ok",
                "attempts": 1,
                "duration_s": 1,
                "error": "发票",
            }
        ],
    }
    # WHEN it is rendered to PDF
    record = reports.produce_now(tenant, "run-report", "pdf", None, data, "t")
    _, content = reports.content(tenant, record.id)
    pdf = tmp_path / "unicode.pdf"
    pdf.write_bytes(content)
    text = subprocess.run(
        [pdftotext, str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    # THEN the embedded font draws Greek and Cyrillic, and the missing CJK glyphs are noted
    assert GREEK in text and CYRILLIC in text
    assert "no glyph in the embedded font" in text and "Cjk" in text
    assert b"DejaVuSans" in content
