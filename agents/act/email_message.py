"""Building an e-mail from an outbox payload: headers, text and HTML parts, attachments.

The Message-ID is derived from the outbox message id, so a mail sent twice (a crash
between sending and recording) carries the same Message-ID and receivers can drop the
repeat. Attachments are read at send time from the tenant's encrypted blobs (reports by
blob id, documents by their original's blob), never copied into the outbox.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from agents.act.errors import ActionConfigError, PayloadTooLargeError

#: reads an attachment reference ({"blob_id"} or {"document_id"}) -> (bytes, filename hint)
AttachmentReader = Callable[[dict[str, Any]], tuple[bytes, str]]


def message_id_header(message_id: str, from_address: str) -> str:
    """A stable RFC 5322 Message-ID for the outbox message `message_id`."""
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:32]
    domain = from_address.rsplit("@", 1)[-1].strip("> ") or "appliance.invalid"
    return f"<{digest}@{domain}>"


def _clean_header(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ActionConfigError("Header values must be one line.")
    return value


def build_email(
    message_id: str,
    payload: dict[str, Any],
    read_attachment: AttachmentReader,
    max_attachment_bytes: int,
) -> EmailMessage:
    """The MIME message for an e-mail outbox payload."""
    mail = EmailMessage()
    mail["From"] = _clean_header(str(payload["from"]))
    mail["To"] = ", ".join(_clean_header(str(a)) for a in payload["to"])
    if payload.get("cc"):
        mail["Cc"] = ", ".join(_clean_header(str(a)) for a in payload["cc"])
    mail["Subject"] = _clean_header(str(payload.get("subject") or ""))
    mail["Message-ID"] = message_id_header(message_id, str(payload["from"]))
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail.set_content(str(payload.get("text") or ""))
    if payload.get("html"):
        mail.add_alternative(str(payload["html"]), subtype="html")
    total = 0
    for reference in payload.get("attachments") or []:
        content, hint = read_attachment(reference)
        total += len(content)
        if total > max_attachment_bytes:
            raise PayloadTooLargeError(
                f"The attachments exceed {max_attachment_bytes // 2**20} MiB "
                "([actions] max_attachments_mb)."
            )
        filename = str(reference.get("filename") or hint or "attachment")
        content_type = reference.get("content_type") or (
            mimetypes.guess_type(filename)[0] or "application/octet-stream"
        )
        maintype, _, subtype = str(content_type).partition("/")
        mail.add_attachment(
            content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename
        )
    return mail


def recipients(payload: dict[str, Any]) -> list[str]:
    return [str(a) for a in [*payload["to"], *(payload.get("cc") or [])]]
