"""`appliance ingest PATH... --tenant T`: folders recursively, a summary, exactly once."""

import subprocess
from pathlib import Path

import pytest

from agents.documents.ledger import DocumentLedger
from app.services import open_services
from tests.conftest import FAST_SECURITY, make_settings, run_cli


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "incoming"
    (root / "2025" / "q4").mkdir(parents=True)
    for number in range(12):
        (root / "2025" / f"note-{number}.txt").write_text(f"Minutes of meeting {number}.\n")
    (root / "2025" / "q4" / "copy.txt").write_text("Minutes of meeting 3.\n")  # same content
    (root / "2025" / "q4" / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    (root / "readme.md").write_text("# Incoming\n\nFiles from the scanner.\n")
    return root


def _ingest(data_dir: Path, config: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "ingest",
        *map(str, paths),
        "--tenant",
        "demo",
        "--data-dir",
        str(data_dir),
        "--config",
        str(config),
    )


def test_a_folder_is_ingested_recursively_with_a_summary(
    data_dir: Path, config: Path, folder: Path
) -> None:
    # WHEN a folder with 15 files in subfolders is ingested (one duplicate, one corrupt)
    result = _ingest(data_dir, config, folder)
    # THEN the summary counts each file once, and the failure is named with its reason
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "13 added, 1 duplicates, 1 failed"
    assert "broken.pdf" in result.stderr
    # AND the tenant holds one document per distinct content, each parsed or failed
    services = open_services(make_settings(data_dir, security=FAST_SECURITY), None)
    try:
        tenant = services.system.find_tenant("demo")
        ledger = DocumentLedger(
            services.tenants.database(tenant.id), services.tenants.blobs(tenant.id)
        )
        documents, _ = ledger.list_documents(limit=200)
    finally:
        services.close()
    assert len(documents) == 14
    states = sorted(d.state for d in documents)
    assert states.count("failed") == 1 and states.count("parsed") == 13


def test_ingesting_the_same_folder_again_adds_nothing(
    data_dir: Path, config: Path, folder: Path
) -> None:
    # GIVEN the folder was ingested once
    assert _ingest(data_dir, config, folder).returncode == 0
    # WHEN it is ingested again
    again = _ingest(data_dir, config, folder)
    # THEN every file is recognised as already there
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "0 added, 15 duplicates, 0 failed"


def test_a_path_that_does_not_exist_is_one_clear_line(data_dir: Path, config: Path) -> None:
    # WHEN the path is wrong; THEN one line says so, nothing is added
    result = _ingest(data_dir, config, data_dir.parent / "nowhere")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nowhere" in result.stderr
