"""In-memory mail state and sinks for mailbox tests, and sample mails with attachments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from io import BytesIO

from agents.ingest.sources.mail import MailItem, SinkResult


class MemoryState:
    """The caller's `MailState` and ledger, in memory: a test double of the database."""

    def __init__(self) -> None:
        self.validity: dict[tuple[str, str], int] = {}
        self.done: dict[tuple[str, str], str] = {}
        self.ledger: dict[tuple[str, str], str] = {}

    def uidvalidity(self, connector_id: str, folder: str) -> int | None:
        return self.validity.get((connector_id, folder))

    def set_uidvalidity(self, connector_id: str, folder: str, value: int) -> None:
        self.validity[(connector_id, folder)] = value
        prefix = f"imap:{folder}:"
        for key in [k for k in self.done if k[0] == connector_id and k[1].startswith(prefix)]:
            if not key[1].startswith(f"{prefix}{value}:"):
                del self.done[key]

    def is_done(self, connector_id: str, key: str) -> bool:
        return (connector_id, key) in self.done

    def seen_message(self, connector_id: str, idempotency_key: str) -> bool:
        return (connector_id, idempotency_key) in self.ledger

    def mark_done(self, connector_id: str, key: str, idempotency_key: str, outcome: str) -> None:
        self.done[(connector_id, key)] = outcome
        self.ledger.setdefault((connector_id, idempotency_key), outcome)


class RecordingSink:
    """A sink that records every item it is given; `fail_when(item)` makes it fail.

    Like the real one, it writes the ledger (the state's `ledger`) before it answers
    "stored", so `seen_message` knows the message from then on.
    """

    def __init__(self, state: MemoryState, connector_id: str = "c1") -> None:
        self.state = state
        self.connector_id = connector_id
        self.items: list[MailItem] = []
        self.fail_when: Callable[[MailItem], bool] = lambda item: False

    def __call__(self, item: MailItem) -> SinkResult:
        self.items.append(item)
        if self.fail_when(item):
            return SinkResult.failed("attachment could not be parsed")
        self.state.ledger[(self.connector_id, item.idempotency_key)] = "stored"
        return SinkResult.stored()

    def subjects(self) -> list[str]:
        return [item.subject for item in self.items]


# -- test mails --


def small_pdf(text: str = "Invoice 42") -> bytes:
    """A one-page PDF made with ReportLab."""
    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_mail(
    subject: str,
    body: str = "Hello,\nsee attached.\n",
    attachments: list[tuple[str, bytes, str]] | None = None,
    message_id: str | bool | None = True,
    html: str | None = None,
) -> bytes:
    """An RFC 5322 message; `message_id=False` leaves the Message-ID header out."""
    message = EmailMessage()
    message["From"] = "Sender <sender@example.test>"
    message["To"] = "user@example.test"
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC))
    if message_id is True:
        message["Message-ID"] = make_msgid(domain="example.test")
    elif isinstance(message_id, str):
        message["Message-ID"] = message_id
    if body:
        message.set_content(body)
    if html is not None:
        if body:
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
    for filename, content, content_type in attachments or []:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
