"""The master key: from `<data>/master.key` or derived from a passphrase with argon2id.

`keyinfo.json` records which mode is in use, the KDF salt and parameters, and a check
value, so a wrong passphrase is reported before any database is touched.
"""

import hashlib
import hmac
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw

from storage.crypto import KEY_BYTES, derive_key, random_key
from storage.datadir import DataDir
from storage.errors import DataDirError, MasterKeyMissingError, WrongKeyError

PassphraseSource = Callable[[], str]

_CHECK_LABEL = b"agent-appliance master key check v1"


@dataclass(frozen=True)
class PassphraseKdf:
    """argon2id parameters for deriving the master key from a passphrase."""

    memory_kib: int = 262_144
    time_cost: int = 3
    parallelism: int = 1


@dataclass(frozen=True)
class MasterKey:
    """The unwrapped master key and the subkeys derived from it."""

    key: bytes

    @property
    def system_db_key(self) -> bytes:
        return derive_key(self.key, "system.db")

    @property
    def queue_db_key(self) -> bytes:
        return derive_key(self.key, "queue.db")

    @property
    def wrapping_key(self) -> bytes:
        return derive_key(self.key, "tenant-key-wrapping")

    def check_value(self) -> str:
        return hmac.new(self.key, _CHECK_LABEL, hashlib.sha256).hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable only by its owner, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def derive_from_passphrase(passphrase: str, salt: bytes, kdf: PassphraseKdf) -> MasterKey:
    raw = hash_secret_raw(
        passphrase.encode(),
        salt,
        time_cost=kdf.time_cost,
        memory_cost=kdf.memory_kib,
        parallelism=kdf.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )
    return MasterKey(raw)


def _key_info(
    mode: str, key: MasterKey, salt: bytes | None = None, kdf: PassphraseKdf | None = None
) -> dict[str, object]:
    info: dict[str, object] = {"version": 1, "mode": mode, "check": key.check_value()}
    if salt is not None and kdf is not None:
        info["salt"] = salt.hex()
        info["kdf"] = {
            "memory_kib": kdf.memory_kib,
            "time_cost": kdf.time_cost,
            "parallelism": kdf.parallelism,
        }
    return info


def create_key_file(data: DataDir) -> MasterKey:
    """Generate a random master key, store it 0600 in master.key."""
    key = MasterKey(random_key())
    _write_private(data.master_key_file, key.key.hex().encode() + b"\n")
    _write_private(data.key_info_file, json.dumps(_key_info("file", key)).encode())
    return key


def create_from_passphrase(data: DataDir, passphrase: str, kdf: PassphraseKdf) -> MasterKey:
    """Derive the master key from a passphrase; only salt and check value are stored."""
    salt = os.urandom(16)
    key = derive_from_passphrase(passphrase, salt, kdf)
    _write_private(data.key_info_file, json.dumps(_key_info("passphrase", key, salt, kdf)).encode())
    return key


def read_key_info(data: DataDir) -> dict[str, object]:
    try:
        info: dict[str, object] = json.loads(data.key_info_file.read_text())
    except FileNotFoundError as exc:
        raise DataDirError(
            f"{data.root} is not an initialised data directory (no keyinfo.json); "
            "run 'appliance init'"
        ) from exc
    except ValueError as exc:
        raise DataDirError(f"{data.key_info_file} is damaged: {exc}") from exc
    return info


def _read_key_file(path: Path) -> MasterKey:
    text = path.read_text().strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise WrongKeyError(f"{path} does not hold a hex-encoded key") from exc
    if len(raw) != KEY_BYTES:
        raise WrongKeyError(f"{path} does not hold a 256-bit key")
    return MasterKey(raw)


def load(data: DataDir, passphrase: PassphraseSource | None) -> MasterKey:
    """Load the master key in whatever mode `init` chose, verifying it against keyinfo."""
    info = read_key_info(data)
    if info.get("mode") == "passphrase":
        if passphrase is None:
            raise MasterKeyMissingError(
                "this data directory is passphrase-protected; set APPLIANCE_PASSPHRASE "
                "or run interactively"
            )
        kdf_raw = info.get("kdf")
        if not isinstance(kdf_raw, dict):
            raise DataDirError(f"{data.key_info_file} is missing its KDF parameters")
        kdf = PassphraseKdf(**{k: int(v) for k, v in kdf_raw.items()})
        key = derive_from_passphrase(passphrase(), bytes.fromhex(str(info["salt"])), kdf)
        if not hmac.compare_digest(key.check_value(), str(info["check"])):
            interrupted = pending(data)
            if interrupted is not None and interrupted[1] is not None:
                salt, new_kdf = interrupted[1]
                retry = derive_from_passphrase(passphrase(), salt, new_kdf)
                if retry == interrupted[0]:
                    return retry
            raise WrongKeyError("wrong passphrase for this data directory")
        return key
    if not data.master_key_file.exists():
        interrupted = pending(data)
        if interrupted is not None:
            return interrupted[0]
        raise MasterKeyMissingError(
            f"master key file {data.master_key_file} is missing; restore it from where you "
            "kept it (it is not in backups unless --include-key was given)"
        )
    key = _read_key_file(data.master_key_file)
    if not hmac.compare_digest(key.check_value(), str(info.get("check", ""))):
        interrupted = pending(data)
        if interrupted is not None:
            # a key rotation was interrupted after keyinfo moved on
            candidate = interrupted[0]
            if hmac.compare_digest(candidate.check_value(), str(info.get("check", ""))):
                return candidate
        raise WrongKeyError(f"{data.master_key_file} does not match this data directory")
    return key


def store_rotated(
    data: DataDir, new: MasterKey, passphrase_kdf: tuple[bytes, PassphraseKdf] | None
) -> None:
    """Make `new` the master key on disk (the last step of a rotation)."""
    if passphrase_kdf is None:
        _write_private(data.master_key_file, new.key.hex().encode() + b"\n")
        _write_private(data.key_info_file, json.dumps(_key_info("file", new)).encode())
    else:
        salt, kdf = passphrase_kdf
        _write_private(
            data.key_info_file, json.dumps(_key_info("passphrase", new, salt, kdf)).encode()
        )
        data.master_key_file.unlink(missing_ok=True)


def write_pending(
    data: DataDir, new: MasterKey, passphrase_kdf: tuple[bytes, PassphraseKdf] | None
) -> None:
    """Record the next key before any database is re-keyed, so a crash can finish later."""
    record: dict[str, object] = {"key": new.key.hex()}
    if passphrase_kdf is not None:
        salt, kdf = passphrase_kdf
        record["salt"] = salt.hex()
        record["kdf"] = {
            "memory_kib": kdf.memory_kib,
            "time_cost": kdf.time_cost,
            "parallelism": kdf.parallelism,
        }
    _write_private(data.pending_master_key_file, json.dumps(record).encode())


def clear_pending(data: DataDir) -> None:
    data.pending_master_key_file.unlink(missing_ok=True)


def pending(data: DataDir) -> tuple[MasterKey, tuple[bytes, PassphraseKdf] | None] | None:
    """The key of an interrupted rotation, with its passphrase salt and KDF if any."""
    path = data.pending_master_key_file
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    key = MasterKey(bytes.fromhex(record["key"]))
    if "salt" in record:
        return key, (bytes.fromhex(record["salt"]), PassphraseKdf(**record["kdf"]))
    return key, None
