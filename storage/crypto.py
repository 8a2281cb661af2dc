"""Small, audited-library-only crypto helpers: random keys, HKDF, AES-256-GCM wrapping."""

import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.errors import WrongKeyError

KEY_BYTES = 32
NONCE_BYTES = 12


def random_key() -> bytes:
    """A fresh 256-bit key from the OS CSPRNG."""
    return os.urandom(KEY_BYTES)


def derive_key(master: bytes, purpose: str) -> bytes:
    """Derive an independent 256-bit subkey for one purpose (HKDF-SHA256)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()
    ).derive(master)


def wrap(key_encryption_key: bytes, secret: bytes, context: str) -> bytes:
    """Encrypt `secret` with AES-256-GCM; `context` is bound as associated data."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key_encryption_key).encrypt(nonce, secret, context.encode())


def unwrap(key_encryption_key: bytes, wrapped: bytes, context: str) -> bytes:
    """Reverse of `wrap`; raises WrongKeyError when the key or context does not match."""
    nonce, body = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
    try:
        return AESGCM(key_encryption_key).decrypt(nonce, body, context.encode())
    except InvalidTag as exc:
        raise WrongKeyError(f"cannot unwrap {context}: wrong master key") from exc


# Every appliance database is written with these and can only be read with them.
# SQLCipher pays a fixed cost per page (fresh IV, HMAC set-up) on top of AES per byte;
# with 16 KiB pages a bulk insert of rows + vectors cost 1.25x the unencrypted time
# instead of 1.41x at 4 KiB (docs/benchmarks.md). HMAC-SHA256 runs on the CPU's SHA
# instructions where SHA-512 has none, and 256 bits of tag are plenty for page integrity.
CIPHER_PAGE_SIZE = 16384
CIPHER_SETTINGS = (
    f"PRAGMA cipher_page_size = {CIPHER_PAGE_SIZE}",
    "PRAGMA cipher_hmac_algorithm = HMAC_SHA256",
)


def apply_key(conn: Any, key: bytes) -> None:
    """Key a fresh SQLCipher connection with a raw key and the appliance's cipher settings."""
    conn.execute(f"PRAGMA key = {sqlcipher_key_pragma(key)}")
    for statement in CIPHER_SETTINGS:
        conn.execute(statement)


def sqlcipher_key_pragma(key: bytes) -> str:
    """The PRAGMA value that hands SQLCipher a raw key, skipping its own slow KDF."""
    return f"\"x'{key.hex()}'\""
