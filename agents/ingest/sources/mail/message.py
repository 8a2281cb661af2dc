"""One fetched mail turned into what the ingest ledger needs: identity, headers, parts.

Parsing never raises: a mail the stdlib parser cannot take apart is handed on whole, as
a single `message/rfc822` part, so the ledger records it (the EML parser then reports
what is wrong) instead of the mail vanishing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime
from typing import Literal

from agents.ingest.sources.mail.config import Take

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_NAME = 150
_MAX_HEADER = 998  # RFC 5322 line limit; longer values are junk or attacks


@dataclass(frozen=True)
class MailPart:
    """A document candidate from a mail: an attachment or the body.

    `filename` is a display name chosen by the sender, sanitised, and must never be used
    as a path. `sha256` is of `content`.
    """

    filename: str
    content: bytes = field(repr=False)
    content_type: str
    sha256: str
    role: Literal["body", "attachment"] = "attachment"


@dataclass(frozen=True)
class MailItem:
    """What one message yields. `parts == []` still gets recorded so it is not re-fetched.

    `key` identifies the message at its server for `MailState.is_done`:
    "imap:<folder>:<uidvalidity>:<uid>" or "pop3:<uidl>". `message_id` is the header, or
    a synthetic "<sha256@no-message-id.invalid>" of the raw bytes (`synthetic_id=True`).
    `problem` is set when the content was deliberately not taken ("too_large": only the
    headers were fetched); the sink should record such an item as failed.
    """

    key: str
    message_id: str
    subject: str
    sender: str
    date: dt.datetime | None
    size: int
    parts: list[MailPart]
    synthetic_id: bool = False
    folder: str | None = None
    uid: int | None = None
    uidvalidity: int | None = None
    uidl: str | None = None
    problem: str | None = None

    @property
    def idempotency_key(self) -> str:
        """Message-ID plus a hash over the parts' hashes: the same mail delivered twice
        (or found again under a new UIDVALIDITY) has the same key, while a sender reusing
        a Message-ID for different content does not collide."""
        digest = hashlib.sha256("\n".join(sorted(p.sha256 for p in self.parts)).encode())
        return f"{self.message_id} {digest.hexdigest()}"


def parse_message(raw: bytes, key: str, take: Take, **where: object) -> MailItem:
    """Build the `MailItem` for a full raw message; `where` sets folder/uid/uidvalidity/uidl."""
    message: Message
    try:
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        parts = _collect_parts(parsed, take)
        message = parsed
    except Exception:  # noqa: BLE001 - hostile MIME must not stop the mailbox; keep it whole
        log.warning("mail %s could not be split into parts; keeping it whole", key)
        message = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        parts = [make_part("message.eml", raw, "message/rfc822", "attachment")]
    return _item(message, raw, key, len(raw), parts, None, where)


def parse_headers(
    raw_headers: bytes, key: str, size: int, problem: str, **where: object
) -> MailItem:
    """A `MailItem` with no parts for a message whose body was deliberately not fetched."""
    message = BytesHeaderParser(policy=policy.default).parsebytes(raw_headers)
    return _item(message, raw_headers, key, size, [], problem, where)


def make_part(filename: str, content: bytes, content_type: str, role: str) -> MailPart:
    """A `MailPart` with its sha256 computed."""
    digest = hashlib.sha256(content).hexdigest()
    kind: Literal["body", "attachment"] = "body" if role == "body" else "attachment"
    return MailPart(filename, content, content_type, digest, kind)


def safe_filename(name: str, fallback: str) -> str:
    """A display name: no directories, control characters or leading dots; bounded length."""
    base = _CONTROL.sub("", name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = base.lstrip(".").strip()
    return base[-_MAX_NAME:] or fallback


def _item(
    message: Message,
    raw: bytes,
    key: str,
    size: int,
    parts: list[MailPart],
    problem: str | None,
    where: dict[str, object],
) -> MailItem:
    message_id = _header(message, "Message-ID")
    synthetic = not message_id
    if synthetic:
        # Line endings differ between IMAP and POP3 transports; the identity must not.
        normalised = raw.replace(b"\r\n", b"\n")
        message_id = f"<{hashlib.sha256(normalised).hexdigest()}@no-message-id.invalid>"
    return MailItem(
        key=key,
        message_id=message_id,
        subject=_header(message, "Subject"),
        sender=_header(message, "From"),
        date=_date(_header(message, "Date")),
        size=size,
        parts=parts,
        synthetic_id=synthetic,
        problem=problem,
        folder=_opt_str(where.get("folder")),
        uid=_opt_int(where.get("uid")),
        uidvalidity=_opt_int(where.get("uidvalidity")),
        uidl=_opt_str(where.get("uidl")),
    )


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - the modern header parser trips on malformed headers
        value = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    return " ".join(str(value).split())[:_MAX_HEADER] if value is not None else ""


def _date(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _collect_parts(message: EmailMessage, take: Take) -> list[MailPart]:
    body = message.get_body(preferencelist=("plain", "html"))
    parts: list[MailPart] = []
    if take in ("body", "both") and body is not None:
        text = _text(body).strip()
        if text:
            subtype = body.get_content_subtype()
            extension = ".html" if subtype == "html" else ".txt"
            name = safe_filename(_header(message, "Subject"), "message")[:100] + extension
            parts.append(make_part(name, text.encode("utf-8"), f"text/{subtype}", "body"))
    if take in ("attachments", "both"):
        _attachments(message, body, parts, top=True)
    return parts


def _text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, ValueError, AttributeError):
        pass  # unknown charset name or broken transfer encoding: decode by hand below
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def _attachments(part: Message, body: Message | None, out: list[MailPart], top: bool) -> None:
    if part is body:
        return
    index = sum(1 for p in out if p.role == "attachment")
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload(0) if part.is_multipart() else None
        if isinstance(inner, Message):
            name = safe_filename(part.get_filename() or "", f"message-{index + 1}.eml")
            out.append(make_part(name, inner.as_bytes(), "message/rfc822", "attachment"))
        return
    if part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, Message):
                _attachments(sub, body, out, top=False)
        return
    # A single-part mail whose only content is a file is how scanners send documents.
    if _is_attachment(part) or (top and part.get_content_maintype() != "text"):
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload:
            content_type = part.get_content_type()
            extension = mimetypes.guess_extension(content_type) or ".bin"
            name = safe_filename(part.get_filename() or "", f"attachment-{index + 1}{extension}")
            out.append(make_part(name, payload, content_type, "attachment"))


def _is_attachment(part: Message) -> bool:
    if part.get_content_disposition() == "attachment":
        return True
    if not part.get_filename():
        return False
    # Named images with a Content-ID are pictures embedded in the HTML body (logos).
    return not (part.get_content_maintype() == "image" and part.get("Content-ID"))
