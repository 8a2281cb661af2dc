"""Master key (file or passphrase), tenant key wrapping and master key rotation."""

import hashlib
import stat
from pathlib import Path

import pytest

from storage import crypto, masterkey
from storage.crypto import random_key
from storage.datadir import DataDir
from storage.errors import MasterKeyMissingError, WrongKeyError
from storage.masterkey import PassphraseKdf

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
