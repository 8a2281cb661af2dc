"""Sealing a tenant's data key for another appliance (moving a tenant between nodes).

Each appliance has a transfer key pair derived from its master key (X25519; the private
half is never stored, only derived when needed). `appliance tenant transfer-key` prints
the public half of the TARGET node; the source seals the tenant key to it: an ephemeral
X25519 key agreement, HKDF-SHA256 over the shared secret (salt: both public keys), and
AES-256-GCM with the tenant id as associated data. Only the target's master key can open
it, so the tenant key is never on disk in clear, and no secret travels between the
nodes (the public key may be copied by any means). After a master-key rotation the
transfer key changes: fetch it right before an export.
"""

import base64
import binascii
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from storage import crypto
from storage.errors import StorageError, WrongKeyError
from storage.masterkey import MasterKey

PREFIX = "appliance-transfer-v1:"
SCHEME = "x25519-hkdf-sha256-aes256gcm"
_INFO = b"appliance tenant transfer v1"


class TransferKeyError(StorageError):
    """A transfer key or sealed key that cannot be used (malformed, or for another node)."""

    status_code = 400
    code = "invalid_transfer_key"


def _private(master: MasterKey) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(crypto.derive_key(master.key, "tenant-transfer"))


def _raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_transfer_key(master: MasterKey) -> str:
    """This node's public transfer key as one line of text (safe to share)."""
    return PREFIX + base64.b64encode(_raw(_private(master).public_key())).decode()


def parse_transfer_key(text: str) -> X25519PublicKey:
    """A public transfer key from its text form; TransferKeyError when malformed."""
    text = text.strip()
    if not text.startswith(PREFIX):
        raise TransferKeyError(f"a transfer key starts with {PREFIX!r}")
    try:
        raw = base64.b64decode(text[len(PREFIX) :], validate=True)
        return X25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise TransferKeyError("the transfer key is damaged") from None


def _kek(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=crypto.KEY_BYTES, salt=ephemeral + recipient, info=_INFO
    ).derive(shared)


def _context(tenant_id: str) -> str:
    return f"tenant-transfer:{tenant_id}"


def seal(recipient_text: str, tenant_key: bytes, tenant_id: str) -> dict[str, str]:
    """The tenant key sealed to the recipient's public transfer key (a JSON-able dict)."""
    recipient = parse_transfer_key(recipient_text)
    ephemeral = X25519PrivateKey.from_private_bytes(os.urandom(32))
    ephemeral_raw, recipient_raw = _raw(ephemeral.public_key()), _raw(recipient)
    kek = _kek(ephemeral.exchange(recipient), ephemeral_raw, recipient_raw)
    wrapped = crypto.wrap(kek, tenant_key, _context(tenant_id))
    return {
        "scheme": SCHEME,
        "recipient": base64.b64encode(recipient_raw).decode(),
        "ephemeral": base64.b64encode(ephemeral_raw).decode(),
        "wrapped": base64.b64encode(wrapped).decode(),
    }


def open_sealed(master: MasterKey, sealed: dict[str, str], tenant_id: str) -> bytes:
    """The tenant key from `seal`'s output, with this node's master key."""
    if not isinstance(sealed, dict) or sealed.get("scheme") != SCHEME:
        raise TransferKeyError(f"the export's key is not sealed with {SCHEME}")
    private = _private(master)
    mine = _raw(private.public_key())
    try:
        recipient = base64.b64decode(sealed["recipient"], validate=True)
        ephemeral_raw = base64.b64decode(sealed["ephemeral"], validate=True)
        wrapped = base64.b64decode(sealed["wrapped"], validate=True)
        ephemeral = X25519PublicKey.from_public_bytes(ephemeral_raw)
    except (KeyError, TypeError, binascii.Error, ValueError):
        raise TransferKeyError("the export's sealed key is damaged") from None
    if recipient != mine:
        raise TransferKeyError(
            "this export was sealed for another appliance: export again with this node's "
            "`appliance tenant transfer-key`"
        )
    kek = _kek(private.exchange(ephemeral), ephemeral_raw, recipient)
    try:
        return crypto.unwrap(kek, wrapped, _context(tenant_id))
    except WrongKeyError:
        raise TransferKeyError("the export's sealed key does not open (damaged?)") from None
