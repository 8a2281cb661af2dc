"""Backups are consistent, still encrypted, verified, and restore into a new directory."""

from pathlib import Path

import pytest

from app.services import open_services
from app.settings import Settings
from storage import backup as backups
from storage.datadir import DataDir
from storage.errors import DataDirError
from tests.conftest import make_settings


def test_backup_then_restore_gives_back_the_same_data(
    initialised: Settings, tmp_path: Path
) -> None:
    # GIVEN a tenant with a row and a blob
    services = open_services(initialised, None)
    tenant = services.system.find_tenant("demo")
    with services.tenants.database(tenant.id).write() as conn:
        conn.execute("INSERT INTO tenant_settings VALUES ('canary', 'backup-canary-7f3', 'now')")
    blob_id = services.tenants.blobs(tenant.id).put(b"blob-canary-9a1" * 100)
    # WHEN a backup is taken while the databases are open
    out = tmp_path / "backup"
    manifest = backups.backup(
        services.data, services.master, services.system, out, include_key=False
    )
    services.close()
    # THEN the copy is encrypted and has no key
    assert manifest["tenants"] == ["demo"]
    for path in out.rglob("*"):
        if path.is_file():
            body = path.read_bytes()
            assert b"backup-canary-7f3" not in body and b"blob-canary-9a1" not in body
            assert not body.startswith(b"SQLite format 3")
    assert not (out / "master.key").exists()
    # WHEN it is restored into a new directory with the key put back
    target = make_settings(tmp_path / "restored")
    backups.restore(out, DataDir(target.data_dir))
    (target.data_dir / "master.key").write_bytes((initialised.data_dir / "master.key").read_bytes())
    restored = open_services(target, None)
    try:
        with restored.tenants.database(tenant.id).read() as conn:
            value = conn.execute("SELECT value FROM tenant_settings WHERE key='canary'").fetchone()[
                0
            ]
        assert value == "backup-canary-7f3"
        assert restored.tenants.blobs(tenant.id).get(blob_id) == b"blob-canary-9a1" * 100
    finally:
        restored.close()


def test_damaged_backup_is_refused_before_anything_is_written(
    initialised: Settings, tmp_path: Path
) -> None:
    services = open_services(initialised, None)
    out = tmp_path / "backup"
    backups.backup(services.data, services.master, services.system, out, include_key=True)
    services.close()
    system_copy = out / "system.db"
    raw = bytearray(system_copy.read_bytes())
    raw[5000] ^= 0xFF
    system_copy.write_bytes(bytes(raw))
    target = tmp_path / "restored"
    with pytest.raises(DataDirError, match=r"system\.db is missing or damaged"):
        backups.restore(out, DataDir(target))
    assert not target.exists()


def test_restore_refuses_a_non_empty_directory(initialised: Settings, tmp_path: Path) -> None:
    services = open_services(initialised, None)
    out = tmp_path / "backup"
    backups.backup(services.data, services.master, services.system, out, include_key=True)
    services.close()
    with pytest.raises(DataDirError, match="not empty"):
        backups.restore(out, DataDir(initialised.data_dir))
