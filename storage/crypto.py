"""Small, audited-library-only crypto helpers: random keys, HKDF, AES-256-GCM wrapping."""

import os

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


def sqlcipher_key_pragma(key: bytes) -> str:
    """The PRAGMA value that hands SQLCipher a raw key, skipping its own slow KDF."""
    return f"\"x'{key.hex()}'\""
