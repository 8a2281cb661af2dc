"""Fixtures for the report tests: a real tenant (SQLCipher file, blobs, ledger rows),
the report service over it, sample data for every built-in template, and the Debian
programs (poppler-utils, LibreOffice) that check the files.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.documents.ledger import DocumentLedger
from agents.ingest.sandbox.document import PAGE_SEPARATOR, PageText, ParsedDocument
from agents.report.service import ReportService
from agents.report.sources import DataSources, SourceServices
from app.services import Services, open_services
from app.settings import Settings
from tests.conftest import ADMIN_PASSWORD, make_settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
GREEK, CYRILLIC, ACCENTED = "Καλημέρα κόσμε", "Привет, мир", "Zoë Ångström café"


def require_program(name: str, package: str) -> str:
    """The program's path; skip without it, fail in CI (CI=true)."""
    found = shutil.which(name)
    if found:
        return found
    message = f"needs {name} (Debian {package})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def report_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    from app.initialise import initialise

    settings: Settings = make_settings(tmp_path_factory.mktemp("reports") / "data")
    initialise(settings, "admin", ADMIN_PASSWORD, demo=False, passphrase=None)
    services = open_services(settings, None)
    yield services
    services.close()


@pytest.fixture(scope="session")
def tenant(report_services: Services) -> str:
    """A tenant with three parsed documents from two sources, one of them failed."""
    record = report_services.tenants.create("reports")
    ledger = ledger_of(report_services, record.id)
    texts = {
        "invoice-acme.txt": f"Invoice 2026-001 from ACME GmbH.\nTotal 1,250.00 EUR. {ACCENTED}",
        "brief.txt": f"Greek: {GREEK}\n\nCyrillic: {CYRILLIC}",
    }
    for name, text in texts.items():
        received = ledger.receive(text.encode(), filename=name, source="upload")
        pages = [PageText(1, text.split("\n")[0]), PageText(2, text.split("\n")[-1])]
        ledger.save_parsed(
            received.document.id,
            ParsedDocument("txt", PAGE_SEPARATOR.join(p.text for p in pages), pages),
        )
    failed = ledger.receive(b"\x00broken", filename="broken.bin", source="dropbox")
    ledger.fail(failed.document.id, "unsupported", "not a document", unsupported=True)
    ledger.receive(texts["brief.txt"].encode(), filename="again.txt", source="dropbox")
    return record.id


def ledger_of(services: Services, tenant_id: str) -> DocumentLedger:
    return DocumentLedger(services.tenants.database(tenant_id), services.tenants.blobs(tenant_id))


@pytest.fixture(scope="session")
def reports(report_services: Services) -> ReportService:
    """The report service as the runtime builds it, without a language model."""
    return ReportService(
        report_services.tenants,
        DataSources(report_services.tenants, SourceServices()),
        scratch_dir=report_services.data.scratch_dir,
    )


def first_document(services: Services, tenant_id: str) -> str:
    records, _ = ledger_of(services, tenant_id).list_documents(q="invoice-acme")
    return records[0].id


def run_data() -> dict[str, Any]:
    steps = [
        {
            "step": "fetch",
            "agent": "ingest",
            "status": "succeeded",
            "attempts": 1,
            "duration_s": 1.25,
            "error": None,
        },
        {
            "step": "extract-totals",
            "agent": "extract",
            "status": "succeeded",
            "attempts": 2,
            "duration_s": 14.5,
            "error": None,
        },
        {
            "step": "notify",
            "agent": "email",
            "status": "failed",
            "attempts": 3,
            "duration_s": 0.75,
            "error": "smtp refused",
        },
    ]
    return {
        "workflow": "Monthly invoices",
        "run_id": "run-42",
        "status": "failed",
        "started_at": "2026-11-30T08:00:00Z",
        "finished_at": "2026-11-30T08:01:10Z",
        "steps": steps,
    }


def qa_data() -> dict[str, Any]:
    return {
        "answer": f"The total is 1,250.00 EUR [1]. {GREEK} [2].",
        "citations": [
            {"number": 1, "document": "invoice-acme.txt", "page": 1, "quote": "Total 1,250.00 EUR"},
            {"number": 2, "document": "brief.txt", "page": 2, "quote": CYRILLIC},
        ],
    }


def extraction_rows() -> list[dict[str, Any]]:
    return [
        {
            "document_id": f"doc{i}",
            "title": f"Invoice {i}",
            "vendor": f"Vendor {i % 3}",
            "invoice_number": f"INV-{i:04d}",
            "date": f"2026-11-{i + 1:02d}",
            "total": 100.5 * (i + 1),
            "currency": "EUR",
        }
        for i in range(12)
    ]


def request_for(template_id: str, services: Services, tenant_id: str) -> dict[str, Any]:
    """Parameters and data that make each built-in template produce a full report."""
    if template_id == "document-summary":
        return {"params": {"document_id": first_document(services, tenant_id)}, "data": None}
    if template_id == "extraction-table":
        return {"params": {}, "data": extraction_rows()}
    if template_id == "qa-brief":
        return {"params": {"question": "What is the total?"}, "data": qa_data()}
    if template_id == "run-report":
        return {"params": {"run_id": "run-42"}, "data": run_data()}
    return {"params": {"days": 7}, "data": None}


# what pdftotext must find in each template's PDF: table values and chart labels
EXPECTED_TEXT = {
    "document-summary": ["Words per page", "Characters", "ACME"],
    "extraction-table": ["INV-0003", "Vendor 2", "1,206.00"],
    "qa-brief": ["What is the total?", "invoice-acme.txt", CYRILLIC],
    "run-report": ["extract-totals", "Seconds per step", "smtp refused", "14.50"],
    "activity": ["Documents per day", "New documents", "upload", "dropbox", "parsed"],
}
