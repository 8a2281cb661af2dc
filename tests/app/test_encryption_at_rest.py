"""Every byte the appliance stores is encrypted: canaries never appear on disk."""

from pathlib import Path

import pytest

from app.queue import build_huey
from app.services import open_services
from app.settings import Settings
from storage.crypto import CIPHER_PAGE_SIZE, random_key
from storage.database import Database, DatabaseOptions
from storage.errors import WrongKeyError
from tests.conftest import run_cli, write_config

pytestmark = pytest.mark.slow

CANARY = "canary-4f1c9e7d-do-not-leak"


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_canary_written_while_serving_is_nowhere_on_disk(
    initialised: Settings, server_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a running server
    server = server_factory(initialised.data_dir, write_config(tmp_path / "c.toml", initialised))
    server.wait_ready()
    # WHEN a canary goes into a tenant database, a blob and the queue database
    services = open_services(initialised, None)
    tenant = services.system.find_tenant("demo")
    with services.tenants.database(tenant.id).write() as conn:
        conn.execute("INSERT INTO tenant_settings VALUES ('canary', ?, 'now')", (CANARY,))
    services.tenants.blobs(tenant.id).put(((CANARY + "\n") * 1000).encode())
    huey = build_huey(services.data, services.master)
    huey.storage.put_data("canary", CANARY.encode())
    huey.storage.close()
    services.close()
    # AND the server is stopped
    assert server.stop() == 0
    # THEN no file under the data dir contains it, and no database has a plain header
    files = _files(initialised.data_dir)
    assert any(p.name.endswith(".db-wal") or p.suffix == ".db" for p in files)
    assert any("blobs" in p.parts for p in files)
    assert any(p.name == "appliance.log" for p in files)
    for path in files:
        body = path.read_bytes()
        assert CANARY.encode() not in body, path
        assert CANARY.encode("utf-16-le") not in body, path
        if path.suffix == ".db":
            assert not body.startswith(b"SQLite format 3"), path


def test_tenant_database_with_wrong_key_fails_clearly(services) -> None:  # type: ignore[no-untyped-def]
    tenant = services.system.find_tenant("demo")
    path = services.data.tenant_db(tenant.id)
    services.tenants.close()
    with pytest.raises(WrongKeyError, match="wrong key"):
        Database(path, random_key(), DatabaseOptions(load_vec=True))


def test_flipped_byte_in_a_page_is_reported_by_doctor(
    initialised: Settings, tmp_path: Path
) -> None:
    # GIVEN a tenant database with several pages of data
    services = open_services(initialised, None)
    tenant = services.system.find_tenant("demo")
    with services.tenants.database(tenant.id).write() as conn:
        for i in range(2000):
            conn.execute("INSERT INTO tenant_settings VALUES (?, ?, 'now')", (f"k{i}", "v" * 200))
    path = services.data.tenant_db(tenant.id)
    services.close()
    # WHEN one byte is flipped inside a page of the settings' rows, which fill the back
    # half of the file (the front holds the schema's empty root pages)
    raw = bytearray(path.read_bytes())
    assert len(raw) > 20 * CIPHER_PAGE_SIZE
    raw[(len(raw) // CIPHER_PAGE_SIZE * 3 // 4) * CIPHER_PAGE_SIZE + 100] ^= 0x01
    path.write_bytes(bytes(raw))
    # THEN doctor reports that database and exits non-zero
    config = write_config(tmp_path / "c.toml", initialised)
    result = run_cli("doctor", "--data-dir", str(initialised.data_dir), "--config", str(config))
    assert result.returncode == 1
    failing = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert any("tenant demo database" in line for line in failing), result.stdout
    # AND reading the damaged page through the app fails instead of returning bad data
    reopened = open_services(initialised, None)
    try:
        with pytest.raises(Exception, match=r"damaged|malformed|not a database"):
            with reopened.tenants.database(tenant.id).read() as conn:
                conn.execute("SELECT count(*), sum(length(value)) FROM tenant_settings").fetchone()
                conn.execute("SELECT key, value FROM tenant_settings ORDER BY key").fetchall()
    finally:
        reopened.close()
