"""Master key rotation: re-wrap tenant keys and secrets, re-key system.db and queue.db.

Tenant databases and blobs are untouched: they are encrypted with tenant keys, which
only change their wrapping. Every step is idempotent; the new key is written to
`master.key.new` first, so a crash part-way is finished by `resume` on the next start.
"""

from pathlib import Path

import sqlcipher3

from storage import crypto, masterkey
from storage.crypto import apply_key, sqlcipher_key_pragma
from storage.database import Database
from storage.datadir import DataDir
from storage.errors import WrongKeyError
from storage.masterkey import MasterKey, PassphraseKdf
from storage.tenants import wrap_context

SECRET_CONTEXT = "secret:"  # noqa: S105 - a label, not a secret


def _rewrap(blob: bytes, context: str, old: MasterKey, new: MasterKey) -> bytes:
    try:
        crypto.unwrap(new.wrapping_key, blob, context)
        return blob  # already moved on by an earlier, interrupted run
    except WrongKeyError:
        return crypto.wrap(
            new.wrapping_key, crypto.unwrap(old.wrapping_key, blob, context), context
        )


def _rekey_file(path: Path, old_key: bytes, new_key: bytes) -> None:
    if not path.exists():
        return
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    try:
        apply_key(conn, new_key)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return  # already under the new key
        except sqlcipher3.DatabaseError:
            pass
    finally:
        conn.close()
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    try:
        apply_key(conn, old_key)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute(f"PRAGMA rekey = {sqlcipher_key_pragma(new_key)}")
    finally:
        conn.close()


def rotate(
    data: DataDir,
    system_db: Database,
    old: MasterKey,
    new: MasterKey,
    passphrase_kdf: tuple[bytes, PassphraseKdf] | None,
) -> int:
    """Move everything from `old` to `new`; returns how many tenant keys were re-wrapped.

    The caller must hold the appliance stopped (no server using queue.db).
    """
    masterkey.write_pending(data, new, passphrase_kdf)
    with system_db.write() as conn:
        tenants = conn.execute("SELECT id, wrapped_key FROM tenants").fetchall()
        for tenant_id, blob in tenants:
            conn.execute(
                "UPDATE tenants SET wrapped_key = ? WHERE id = ?",
                (_rewrap(bytes(blob), wrap_context(tenant_id), old, new), tenant_id),
            )
        for name, blob in conn.execute("SELECT name, wrapped FROM secrets").fetchall():
            conn.execute(
                "UPDATE secrets SET wrapped = ? WHERE name = ?",
                (_rewrap(bytes(blob), SECRET_CONTEXT + name, old, new), name),
            )
    system_db.rekey(new.system_db_key)
    _rekey_file(data.queue_db, old.queue_db_key, new.queue_db_key)
    masterkey.store_rotated(data, new, passphrase_kdf)
    masterkey.clear_pending(data)
    return len(tenants)


def open_system_db_during_rotation(path: Path, old: MasterKey, pending: MasterKey) -> MasterKey:
    """Which of the two keys currently opens system.db."""
    for candidate in (old, pending):
        conn = sqlcipher3.connect(str(path), isolation_level=None)
        try:
            apply_key(conn, candidate.system_db_key)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return candidate
        except sqlcipher3.DatabaseError:
            continue
        finally:
            conn.close()
    raise WrongKeyError("system.db opens with neither the current nor the pending master key")
