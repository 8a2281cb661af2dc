"""The JWT signing key: 32 random bytes kept only wrapped (AES-GCM) in system.db `secrets`.

The wrap context `secret:<name>` is the one storage/rotation.py uses, so rotating the
master key re-wraps this key too and outstanding tokens stay valid.
"""

from storage import crypto
from storage.clock import now_iso
from storage.database import Database
from storage.masterkey import MasterKey
from storage.rotation import SECRET_CONTEXT

JWT_KEY_NAME = "jwt-signing-key"


def load_or_create_signing_key(system_db: Database, master: MasterKey) -> bytes:
    """The existing key, or a new one stored atomically (a concurrent creator wins once)."""
    context = SECRET_CONTEXT + JWT_KEY_NAME
    with system_db.write() as conn:
        row = conn.execute("SELECT wrapped FROM secrets WHERE name = ?", (JWT_KEY_NAME,)).fetchone()
        if row is None:
            wrapped = crypto.wrap(master.wrapping_key, crypto.random_key(), context)
            conn.execute(
                "INSERT INTO secrets (name, wrapped, created_at) VALUES (?, ?, ?)",
                (JWT_KEY_NAME, wrapped, now_iso()),
            )
        else:
            wrapped = bytes(row[0])
    return crypto.unwrap(master.wrapping_key, wrapped, context)
