"""Master key (file or passphrase), tenant key wrapping and master key rotation."""

import hashlib
import stat
from pathlib import Path

import pytest

from app.services import open_services
from app.settings import Settings
from storage import crypto, masterkey, rotation
from storage.crypto import random_key
from storage.datadir import DataDir
from storage.errors import MasterKeyMissingError, WrongKeyError
from storage.masterkey import MasterKey, PassphraseKdf

FAST_KDF = PassphraseKdf(memory_kib=8192, time_cost=1)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_key_file_is_private_and_reloads_to_the_same_key(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    created = masterkey.create_key_file(data)
    mode = stat.S_IMODE(data.master_key_file.stat().st_mode)
    assert mode == 0o600
    assert masterkey.load(data, None) == created


def test_missing_key_file_is_reported_clearly(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    masterkey.create_key_file(data)
    data.master_key_file.unlink()
    with pytest.raises(MasterKeyMissingError, match=r"master key file .* is missing"):
        masterkey.load(data, None)


def test_passphrase_mode_accepts_the_right_passphrase_only(tmp_path: Path) -> None:
    # GIVEN a data dir keyed from a passphrase
    data = DataDir(tmp_path)
    created = masterkey.create_from_passphrase(data, "right horse battery", FAST_KDF)
    # THEN no key file is written, the right passphrase loads, a wrong one is refused
    assert not data.master_key_file.exists()
    assert masterkey.load(data, lambda: "right horse battery") == created
    with pytest.raises(WrongKeyError, match="wrong passphrase"):
        masterkey.load(data, lambda: "wrong horse battery")
    with pytest.raises(MasterKeyMissingError, match="APPLIANCE_PASSPHRASE"):
        masterkey.load(data, None)


def test_wrapped_key_needs_the_same_key_and_context() -> None:
    kek, secret = random_key(), random_key()
    wrapped = crypto.wrap(kek, secret, "tenant-key:a")
    assert crypto.unwrap(kek, wrapped, "tenant-key:a") == secret
    with pytest.raises(WrongKeyError):
        crypto.unwrap(random_key(), wrapped, "tenant-key:a")
    with pytest.raises(WrongKeyError):
        crypto.unwrap(kek, wrapped, "tenant-key:b")


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
