"""Moving a tenant between two data directories on one machine (two nodes): exported
still encrypted, its key sealed for the target node only, imported and registered there,
and the same search gives the same results (issue 17)."""

import shutil
from pathlib import Path

import pytest

from agents.documents.ledger import DocumentLedger
from agents.ingest.sandbox.document import single_page
from app.initialise import initialise
from app.operations import tenants
from app.operations.actor import CLI
from app.runtime import build_answering
from app.services import Services, open_services
from app.settings import Settings
from storage.errors import DataDirError
from storage.tenant_transfer import read_export
from tests.conftest import ADMIN_PASSWORD, make_settings, run_cli, write_config

pytestmark = pytest.mark.slow

TEXTS = {
    "harbour.txt": "The north pier of Port Aldwin was repaired by Kestrel Marine in March 2025.",
    "bakery.txt": "The bakery on Mill Street sells rye bread and almond croissants daily.",
    "orbit.txt": "The satellite reached a stable orbit after its third engine burn.",
}
QUERIES = ("Who repaired the pier?", "Where can I buy croissants?", "orbit engine burn")


def _node(root: Path, name: str) -> Settings:
    settings = make_settings(root / name)
    initialise(settings, "admin", ADMIN_PASSWORD, demo=False, passphrase=None)
    return settings


def _results(services: Services, slug: str) -> list[list[tuple[str, int, float]]]:
    analysis = build_answering(services).analysis
    tenant_id = services.system.find_tenant(slug).id
    return [
        [(h.document_id, h.chunk_id, round(h.score, 5)) for h in analysis.search(tenant_id, q)]
        for q in QUERIES
    ]


def _cli(settings: Settings, config: Path, *args: str) -> str:
    done = run_cli(*args, "--data-dir", str(settings.data_dir), "--config", str(config))
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_exported_tenant_answers_the_same_search_on_the_other_node(tmp_path: Path) -> None:
    # GIVEN node A with tenant acme holding three indexed documents, and node B, node C
    node_a, node_b, node_c = (_node(tmp_path, n) for n in ("a", "b", "c"))
    config = write_config(tmp_path / "fast.toml", node_a)
    services = open_services(node_a, None)
    record = tenants.create_tenant(services, CLI, "acme", "Acme Ltd", None)
    ledger = DocumentLedger(services.tenants.database(record.id), services.tenants.blobs(record.id))
    analysis = build_answering(services).analysis
    for name, text in TEXTS.items():
        received = ledger.receive(text.encode(), filename=name, source="upload")
        ledger.save_parsed(received.document.id, single_page("txt", text))
        assert analysis.index_document(record.id, received.document.id).state == "indexed"
    before = _results(services, "acme")
    assert all(before)
    tenant_key = services.tenants.data_key(record.id)
    originals = {d.id: ledger.original(d.id)[1] for d in ledger.list_documents()[0]}
    services.close()
    # WHEN B's transfer key is fetched and A exports acme for it
    key_file = tmp_path / "b.transfer-key"
    _cli(node_b, config, "tenant", "transfer-key", "--out", str(key_file))
    export = tmp_path / "acme-export"
    _cli(
        node_a, config, "tenant", "export", "acme", "--to-key", str(key_file), "--out", str(export)
    )
    # THEN the tenant key is in no file of the export, in clear or as hex
    for path in export.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert tenant_key not in content and tenant_key.hex().encode() not in content
    # AND node C cannot import it (sealed for B), naming the reason
    refused = run_cli(
        "tenant", "import", str(export), "--data-dir", str(node_c.data_dir), "--config", str(config)
    )
    assert refused.returncode != 0 and "sealed for another appliance" in refused.stderr
    # WHEN B imports it with its admin as owner
    out = _cli(node_b, config, "tenant", "import", str(export), "--owner", "admin")
    assert "imported tenant acme" in out
    # THEN B answers the same searches with the same results, and the originals decrypt
    services = open_services(node_b, None)
    try:
        assert _results(services, "acme") == before
        moved = services.system.find_tenant("acme")
        assert (moved.id, moved.name) == (record.id, "Acme Ltd")
        ledger_b = DocumentLedger(
            services.tenants.database(moved.id), services.tenants.blobs(moved.id)
        )
        assert {i: ledger_b.original(i)[1] for i in originals} == originals
        admin = services.system.find_user("admin")
        assert services.system.tenant_and_role("acme", admin.id)[1] == "owner"
        assert (services.data.inbox_dir / "acme").is_dir()
    finally:
        services.close()
    # AND importing it a second time is refused (the tenant exists)
    again = run_cli(
        "tenant", "import", str(export), "--data-dir", str(node_b.data_dir), "--config", str(config)
    )
    assert again.returncode != 0 and "already exists" in again.stderr


def test_a_damaged_or_extended_export_is_refused(tmp_path: Path) -> None:
    # GIVEN an export of an empty tenant
    node_a, node_b = _node(tmp_path, "a"), _node(tmp_path, "b")
    services = open_services(node_a, None)
    tenants.create_tenant(services, CLI, "acme", None, None)
    services.close()
    config = write_config(tmp_path / "fast.toml", node_a)
    key = _cli(node_b, config, "tenant", "transfer-key").strip()
    export = tmp_path / "export"
    _cli(node_a, config, "tenant", "export", "acme", "--to-key", key, "--out", str(export))
    assert read_export(export)["tenant"]["slug"] == "acme"
    # WHEN a byte of the database changes THEN the export is refused, naming the file
    damaged = tmp_path / "damaged"
    shutil.copytree(export, damaged)
    db = damaged / "tenant.db"
    content = bytearray(db.read_bytes())
    content[5000] ^= 0xFF
    db.write_bytes(bytes(content))
    with pytest.raises(DataDirError, match=r"tenant\.db is missing or damaged"):
        read_export(damaged)
    # WHEN a file is added THEN it is refused too
    extended = tmp_path / "extended"
    shutil.copytree(export, extended)
    (extended / "blobs" / "extra").write_bytes(b"x")
    with pytest.raises(DataDirError, match="does not list"):
        read_export(extended)
