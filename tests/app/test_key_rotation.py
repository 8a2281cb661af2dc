"""Tenant keys wrapped under the master key, and master key rotation, through the
services that open a data directory."""

import hashlib
from pathlib import Path

from app.services import open_services
from app.settings import Settings
from storage import masterkey, rotation
from storage.crypto import random_key
from storage.masterkey import MasterKey


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tenant_keys_are_stored_only_wrapped(initialised: Settings) -> None:
    services = open_services(initialised, None)
    try:
        tenant = services.system.find_tenant("demo")
        key = services.tenants.data_key(tenant.id)
        wrapped = services.system.wrapped_key(tenant.id)
        assert key not in wrapped
        assert key.hex().encode() not in services.data.system_db.read_bytes()
    finally:
        services.close()


def test_rotation_rewraps_tenant_keys_without_touching_tenant_data(initialised: Settings) -> None:
    # GIVEN a tenant with data and a blob
    services = open_services(initialised, None)
    tenant = services.system.find_tenant("demo")
    with services.tenants.database(tenant.id).write() as conn:
        conn.execute("INSERT INTO tenant_settings VALUES ('k', 'v', 'now')")
    blob_id = services.tenants.blobs(tenant.id).put(b"blob body")
    services.tenants.close()
    data = services.data
    tenant_files = {
        p: _digest(p)
        for p in data.tenant_dir(tenant.id).rglob("*")
        if p.is_file() and p.suffix != ".db-shm"
    }
    old_wrapped = services.system.wrapped_key(tenant.id)
    old_master = services.master
    # WHEN the master key is rotated
    new = MasterKey(random_key())
    count = rotation.rotate(data, services.system_db, old_master, new, None)
    services.close()
    # THEN every tenant key was re-wrapped, tenant files are byte-identical
    assert count == 1
    assert {p: _digest(p) for p in tenant_files} == tenant_files
    reopened = open_services(initialised, None)
    try:
        assert reopened.master == new
        assert reopened.system.wrapped_key(tenant.id) != old_wrapped
        with reopened.tenants.database(tenant.id).read() as conn:
            assert conn.execute("SELECT value FROM tenant_settings").fetchone()[0] == "v"
        assert reopened.tenants.blobs(tenant.id).get(blob_id) == b"blob body"
    finally:
        reopened.close()
    # AND the old key opens nothing any more
    assert masterkey.load(data, None) == new
    assert not data.pending_master_key_file.exists()


def test_interrupted_rotation_is_finished_on_next_open(initialised: Settings) -> None:
    # GIVEN a rotation that stopped after system.db was re-keyed (the state a crash leaves)
    services = open_services(initialised, None)
    data, old = services.data, services.master
    new = MasterKey(random_key())
    masterkey.write_pending(data, new, None)
    services.system_db.rekey(new.system_db_key)
    services.close()
    # WHEN the appliance opens again
    reopened = open_services(initialised, None)
    try:
        # THEN it completed the rotation: new key in force, tenant data readable
        assert reopened.master == new
        tenant = reopened.system.find_tenant("demo")
        reopened.tenants.database(tenant.id)
    finally:
        reopened.close()
    assert not data.pending_master_key_file.exists()
    assert masterkey.load(data, None) != old
