"""HMAC-SHA256 signatures shared by inbound hooks and outbound webhooks.

Two wire formats:
- the appliance's own inbound hook signature: `X-Appliance-Signature: sha256=<hex HMAC of
  "<timestamp>.<body>">` (`appliance_signature`);
- Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`,
  `webhook-signature: v1,<base64 HMAC of "<id>.<timestamp>.<body>">` under a `whsec_`
  secret whose remainder is base64 key bytes (`standard_headers`, `verify_standard`).
All comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
from collections.abc import Mapping

WHSEC_PREFIX = "whsec_"


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """The raw HMAC-SHA256 of `message` under `key`."""
    return hmac.new(key, message, hashlib.sha256).digest()


def same(given: str, expected: str) -> bool:
    """Constant-time equality that does not leak the expected length either."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


def appliance_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Appliance-Signature value for `body` sent at `timestamp`."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac_sha256(secret.encode(), message).hex()


def new_webhook_secret() -> str:
    """A fresh `whsec_` secret (24 random bytes, base64)."""
    return WHSEC_PREFIX + base64.b64encode(_random.token_bytes(24)).decode()


def webhook_key(secret: str) -> bytes:
    """The key bytes of a Standard Webhooks secret: base64 after `whsec_`; a secret
    without the prefix (or not base64) is used as its UTF-8 bytes."""
    if secret.startswith(WHSEC_PREFIX):
        try:
            return base64.b64decode(secret[len(WHSEC_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac_sha256(webhook_key(secret), signed)).decode()


def standard_headers(
    message_id: str, timestamp: int, body: bytes, secret: str | None
) -> dict[str, str]:
    """The Standard Webhooks headers; without a secret only id and timestamp."""
    headers = {"webhook-id": message_id, "webhook-timestamp": str(timestamp)}
    if secret:
        headers["webhook-signature"] = standard_signature(secret, message_id, timestamp, body)
    return headers


def verify_standard(
    headers: Mapping[str, str], body: bytes, secret: str, *, now: float, tolerance_s: int
) -> bool:
    """True when one of the `v1,` signatures matches and the timestamp is recent."""
    message_id = headers.get("webhook-id", "")
    try:
        timestamp = int(headers.get("webhook-timestamp", ""))
    except ValueError:
        return False
    if not message_id or abs(now - timestamp) > tolerance_s:
        return False
    expected = standard_signature(secret, message_id, timestamp, body)
    given = headers.get("webhook-signature", "").split()
    return any(same(candidate, expected) for candidate in given)
