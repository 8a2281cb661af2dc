"""Inbound hooks: checking a sender's signature or token, and turning records into documents.

A sender proves itself in one of two ways (the hook may hold either secret or both):

    X-Appliance-Timestamp: <unix seconds>
    X-Appliance-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" under the secret>
or
    X-Appliance-Hook-Token: <token>

A signature is valid only within the timestamp tolerance, and only once: its fingerprint
(sha256 of "<timestamp>.<body>") is kept for the tolerance window, so a captured request
replayed inside the window is refused. Tokens carry no timestamp and cannot be protected
against replay; signatures should be preferred. All comparisons are constant-time.

Each JSON record becomes one document: the record rendered as readable "key: value"
text, its fields flattened (and size-capped) into the document's metadata.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlcipher3

from agents.ingest.errors import IngestError
from storage.clock import now_iso
from storage.database import Database

SIGNATURE_HEADER = "x-appliance-signature"
TIMESTAMP_HEADER = "x-appliance-timestamp"
TOKEN_HEADER = "x-appliance-hook-token"  # noqa: S105 - a header name
MAX_RECORDS = 1000
MAX_METADATA_KEYS = 200
MAX_METADATA_VALUE = 1000
MAX_LIST_ITEMS = 50
_MAX_DEPTH = 20
# metadata names the appliance sets itself; record fields of the same name get a prefix
RESERVED_METADATA = frozenset({"hook", "hook_id", "record_index", "received_at", "sections"})


class HookAuthError(IngestError):
    """The delivery did not prove it comes from the hook's sender."""

    status_code = 401
    code = "hook_unauthorized"
    default_message = "The hook signature or token is not valid."


class HookPayloadError(IngestError):
    """The body is not a JSON object or an array of objects."""

    status_code = 400
    code = "invalid_hook_payload"
    default_message = "The body must be a JSON object or an array of JSON objects."


@dataclass(frozen=True)
class HookCredentials:
    """What a delivery presented, from its headers."""

    signature: str | None = None
    timestamp: str | None = None
    token: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> HookCredentials:
        return cls(
            signature=headers.get(SIGNATURE_HEADER),
            timestamp=headers.get(TIMESTAMP_HEADER),
            token=headers.get(TOKEN_HEADER),
        )

    @property
    def present(self) -> bool:
        return bool(self.signature or self.token)


@dataclass(frozen=True)
class Verified:
    """A delivery that passed: how, and (for signatures) its replay fingerprint."""

    method: str  # "hmac" | "token"
    fingerprint: str | None


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Appliance-Signature value for `body` sent at `timestamp` (for senders, tests)."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    """Constant-time equality that does not leak the expected length either."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


def verify(
    credentials: HookCredentials,
    secrets: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance_s: int,
) -> Verified:
    """Check a delivery against the hook's secrets; HookAuthError says what failed.

    A signature, when sent, is what is checked (a token beside it is ignored).
    """
    if credentials.signature:
        secret = secrets.get("secret")
        if not secret:
            raise HookAuthError("This hook does not take signatures; send its token.")
        try:
            timestamp = int((credentials.timestamp or "").strip())
        except ValueError:
            raise HookAuthError(
                "Send X-Appliance-Timestamp (unix seconds) with the signature."
            ) from None
        if abs(now - timestamp) > tolerance_s:
            raise HookAuthError(
                f"The timestamp is more than {tolerance_s} seconds away from the server's "
                "clock; sign each delivery when it is sent."
            )
        if not _same(credentials.signature.strip().lower(), sign(secret, timestamp, body)):
            raise HookAuthError("The signature does not match the body and timestamp.")
        digest = hashlib.sha256(f"{timestamp}.".encode() + body).hexdigest()
        return Verified("hmac", digest)
    if credentials.token:
        token = secrets.get("token")
        if not token or not _same(credentials.token.strip(), token):
            raise HookAuthError("The hook token is not valid.")
        return Verified("token", None)
    raise HookAuthError(
        "Send X-Appliance-Signature with X-Appliance-Timestamp, or X-Appliance-Hook-Token."
    )


def remember_delivery(db: Database, hook_id: str, fingerprint: str, tolerance_s: int) -> None:
    """Record a signed delivery; HookAuthError when the same one was seen in the window.

    Fingerprints older than twice the tolerance are dropped: a delivery that old fails
    the timestamp check anyway.
    """
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2 * tolerance_s)
    try:
        with db.write() as conn:
            conn.execute(
                "DELETE FROM hook_deliveries WHERE connector_id = ? AND at < ?",
                (hook_id, cutoff.isoformat(timespec="milliseconds")),
            )
            conn.execute(
                "INSERT INTO hook_deliveries (connector_id, fingerprint, at) VALUES (?,?,?)",
                (hook_id, fingerprint, now_iso()),
            )
    except sqlcipher3.IntegrityError as error:
        raise HookAuthError(
            "This delivery was already received (replay); sign each delivery anew."
        ) from error


def forget_delivery(db: Database, hook_id: str, fingerprint: str) -> None:
    """Drop a remembered delivery that could not be stored, so the sender's retry is taken."""
    with db.write() as conn:
        conn.execute(
            "DELETE FROM hook_deliveries WHERE connector_id = ? AND fingerprint = ?",
            (hook_id, fingerprint),
        )


# -- records to documents --


def records_of(body: bytes) -> list[dict[str, Any]]:
    """The records of a delivery: one JSON object, or an array of objects."""
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as error:
        raise HookPayloadError("The body is not UTF-8 encoded JSON.") from error
    except json.JSONDecodeError as error:
        raise HookPayloadError(
            f"The body is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
        ) from error
    except (RecursionError, ValueError) as error:
        raise HookPayloadError(f"The JSON body cannot be read: {error}"[:300]) from error
    records = value if isinstance(value, list) else [value]
    if not records:
        raise HookPayloadError("The array holds no records.")
    if len(records) > MAX_RECORDS:
        raise HookPayloadError(f"At most {MAX_RECORDS} records per delivery.")
    if not all(isinstance(record, dict) for record in records):
        raise HookPayloadError()
    return records


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def render(record: Mapping[str, Any], heading: str | None = None) -> str:
    """The record as readable text: "key: value" lines, nested values indented.

    `heading` becomes the first line, followed by a blank one.
    """
    lines: list[str] = []
    if heading is not None:
        lines += [" ".join(heading.split()), ""]
    _render_mapping(record, 0, lines)
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _render_mapping(mapping: Mapping[str, Any], depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    for key, value in mapping.items():
        if isinstance(value, dict | list) and value and depth < _MAX_DEPTH:
            lines.append(f"{pad}{key}:")
            _render_value(value, depth + 1, lines)
        elif isinstance(value, dict | list):
            lines.append(f"{pad}{key}: {json.dumps(value, ensure_ascii=False)}")
        else:
            lines.append(f"{pad}{key}: {_scalar(value)}")


def _render_value(value: Any, depth: int, lines: list[str]) -> None:
    if isinstance(value, dict):
        _render_mapping(value, depth, lines)
        return
    pad = "  " * depth
    for item in value:
        if isinstance(item, dict) and item and depth < _MAX_DEPTH:
            lines.append(f"{pad}-")
            _render_mapping(item, depth + 1, lines)
        elif isinstance(item, list) and item and depth < _MAX_DEPTH:
            lines.append(f"{pad}-")
            _render_value(item, depth + 1, lines)
        elif isinstance(item, dict | list):
            lines.append(f"{pad}- {json.dumps(item, ensure_ascii=False)}")
        else:
            lines.append(f"{pad}- {_scalar(item)}")


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """Fields as metadata: nested keys dotted ("customer.name"), lists of scalars kept as
    lists, strings and lists capped, at most MAX_METADATA_KEYS keys."""
    out: dict[str, Any] = {}
    _flatten(record, "", out, 0)
    return {(f"record.{k}" if k in RESERVED_METADATA else k): v for k, v in out.items()}


def _flatten(value: Any, prefix: str, out: dict[str, Any], depth: int) -> None:
    if len(out) >= MAX_METADATA_KEYS:
        return
    if isinstance(value, dict) and depth < _MAX_DEPTH:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out, depth + 1)
        return
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        out[prefix[:200]] = [_capped(v) for v in value[:MAX_LIST_ITEMS]]
        return
    if isinstance(value, list) and depth < _MAX_DEPTH:
        for index, item in enumerate(value[:MAX_LIST_ITEMS]):
            _flatten(item, f"{prefix}.{index}", out, depth + 1)
        return
    out[prefix[:200]] = _capped(value)


def _capped(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        if isinstance(value, str):
            return value[:MAX_METADATA_VALUE]
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            return str(value)[:MAX_METADATA_VALUE]
        return value
    return json.dumps(value, ensure_ascii=False)[:MAX_METADATA_VALUE]


def record_metadata(
    record: Mapping[str, Any],
    *,
    hook_id: str,
    hook_name: str,
    index: int,
    received_at: str,
    title_field: str | None = None,
) -> dict[str, Any]:
    """Document metadata for one record: its flattened fields plus where it came from."""
    fields = flatten(record)
    metadata: dict[str, Any] = {
        **fields,
        "hook": hook_name,
        "hook_id": hook_id,
        "record_index": index,
        "received_at": received_at,
    }
    if title_field:
        title = fields.get(title_field)
        if isinstance(title, str | int | float) and str(title).strip():
            metadata["title"] = str(title).strip()[:300]
    return metadata
