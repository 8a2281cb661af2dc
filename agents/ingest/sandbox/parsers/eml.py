"""E-mail (RFC 5322 / MIME): headers and body as text, attachments as child documents."""

from __future__ import annotations

import mimetypes
import re
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser

from agents.ingest.sandbox.document import ChildDocument, ParsedDocument, single_page
from agents.ingest.sandbox.parsers.html import html_to_text
from agents.ingest.sandbox.textcodec import normalise

_SHOWN_HEADERS = (("From", "from"), ("To", "to"), ("Cc", "cc"), ("Date", "date"))
_KEPT_HEADERS = (
    ("Subject", "subject"),
    ("Message-ID", "message_id"),
    ("In-Reply-To", "in_reply_to"),
    ("Reply-To", "reply_to"),
)
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")
_MAX_NAME = 200


def parse(data: bytes) -> ParsedDocument:
    """Render the main headers and body; every attachment becomes a `ChildDocument`."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    metadata: dict[str, str | int] = {}
    lines: list[str] = []
    for header, key in _SHOWN_HEADERS + _KEPT_HEADERS:
        value = _header(message, header)
        if value:
            metadata[key] = value[:1000]
            if header in ("From", "To", "Cc", "Date", "Subject"):
                lines.append(f"{header}: {value}")
    if "subject" in metadata:
        metadata["title"] = metadata["subject"]
    body_part = _body_part(message)
    body = _body_text(body_part) if body_part is not None else ""
    children: list[ChildDocument] = []
    _collect_attachments(message, body_part, children)
    text = "\n".join(lines)
    if body:
        text += "\n\n" + body
    if children:
        text += "\n\nAttachments: " + ", ".join(child.filename for child in children)
    metadata["attachment_count"] = len(children)
    return single_page("eml", text.strip(), metadata=metadata, children=children)


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - the modern header parser trips on some malformed headers
        value = None
    else:
        return " ".join(str(value).split()) if value is not None else ""
    for raw_name, raw_value in message.raw_items():
        if raw_name.lower() == name.lower():
            try:
                return " ".join(str(make_header(decode_header(str(raw_value)))).split())
            except Exception:  # noqa: BLE001 - unreadable encoded-words: keep them as sent
                return " ".join(str(raw_value).split())
    return ""


def _body_part(message: Message) -> Message | None:
    if isinstance(message, EmailMessage):
        return message.get_body(preferencelist=("plain", "html"))
    return None


def _body_text(part: Message) -> str:
    text = _part_text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return normalise(text).strip()


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name in the header
        return payload.decode("utf-8", errors="replace")


def _collect_attachments(
    part: Message, body_part: Message | None, out: list[ChildDocument], top: bool = True
) -> None:
    if part is body_part:
        return
    if part.get_content_type() == "message/rfc822":
        out.append(_attached_message(part, len(out)))
    elif part.get_content_maintype() == "multipart":
        for sub in part.get_payload() if isinstance(part.get_payload(), list) else []:
            if isinstance(sub, Message):
                _collect_attachments(sub, body_part, out, top=False)
    # A single-part mail whose only content is a file is how scanners send documents.
    elif _is_attachment(part) or (top and part.get_content_maintype() != "text"):
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload:
            out.append(ChildDocument(_filename(part, len(out)), payload, part.get_content_type()))


def _is_attachment(part: Message) -> bool:
    if part.get_content_disposition() == "attachment":
        return True
    if not part.get_filename():
        return False
    # Named images with a Content-ID are pictures embedded in the HTML body (logos).
    return not (part.get_content_maintype() == "image" and part.get("Content-ID"))


def _attached_message(part: Message, index: int) -> ChildDocument:
    inner = part.get_payload(0) if part.is_multipart() else None
    if isinstance(inner, Message):
        content = inner.as_bytes(policy=policy.default.clone(linesep="\r\n"))
        subject = _header(inner, "Subject")
    else:
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        subject = ""
    name = part.get_filename() or f"{subject or f'message-{index + 1}'}.eml"
    return ChildDocument(_safe_name(name, index, ".eml"), content, "message/rfc822")


def _filename(part: Message, index: int) -> str:
    extension = mimetypes.guess_extension(part.get_content_type()) or ".bin"
    return _safe_name(part.get_filename() or "", index, extension)


def _safe_name(name: str, index: int, extension: str) -> str:
    # Display names only: strip any directory part and control characters anyway, so
    # a careless consumer cannot be steered to another path or terminal escape.
    base = _UNSAFE_NAME.sub("", name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = base.lstrip(".") or f"attachment-{index + 1}{extension}"
    return base[-_MAX_NAME:]
