"""Turning raw mail into MailItems, and validating connector settings (no server needed)."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from typing import Any

import pytest

from agents.ingest.sources import mail
from agents.ingest.sources.mail.message import safe_filename
from tests.agents.dovecot import make_mail, small_pdf

PDF = small_pdf()


def parse(raw: bytes, take: str = "attachments") -> mail.MailItem:
    return mail.parse_message(raw, "imap:INBOX:1:1", take)  # type: ignore[arg-type]


def test_attachments_keep_their_bytes_names_types_and_hashes() -> None:
    # GIVEN a mail with a PDF and a text attachment
    raw = make_mail(
        "Invoice",
        attachments=[("a.pdf", PDF, "application/pdf"), ("b.txt", b"hello\n", "text/plain")],
    )

    # WHEN it is parsed for attachments
    item = parse(raw)

    # THEN both attachments come out unchanged, and the body is not one of them
    assert [(p.filename, p.content_type, p.role) for p in item.parts] == [
        ("a.pdf", "application/pdf", "attachment"),
        ("b.txt", "text/plain", "attachment"),
    ]
    assert item.parts[0].content == PDF
    assert item.parts[0].sha256 == hashlib.sha256(PDF).hexdigest()
    assert item.subject == "Invoice" and "sender@example.test" in item.sender
    assert item.date is not None and item.date.year == 2024
    assert item.size == len(raw)


def test_take_both_puts_the_plain_body_first_and_html_only_mail_keeps_html() -> None:
    # GIVEN a mail with text and HTML alternatives and an attachment, and an HTML-only mail
    mixed = make_mail(
        "Both",
        body="plain text\n",
        html="<b>html</b>",
        attachments=[("a.pdf", PDF, "application/pdf")],
    )
    html_only = make_mail("Html", body="", html="<p>only html</p>")

    # WHEN both are parsed taking body and attachments
    both = parse(mixed, "both")
    html = parse(html_only, "both")

    # THEN the body part is text/plain (preferred) followed by the attachment
    assert [(p.role, p.content_type) for p in both.parts] == [
        ("body", "text/plain"),
        ("attachment", "application/pdf"),
    ]
    # AND an HTML-only mail yields its HTML body
    assert [(p.role, p.content_type, p.filename) for p in html.parts] == [
        ("body", "text/html", "Html.html")
    ]


def test_sender_chosen_file_names_never_form_a_path() -> None:
    # GIVEN attachments named with directories, control characters and a dot-file
    raw = make_mail(
        "Names",
        attachments=[
            ("../../etc/passwd", b"x", "text/plain"),
            ("..\\..\\boot.ini", b"y", "text/plain"),
            (".bashrc", b"z", "text/plain"),
        ],
    )

    # WHEN parsed
    names = [part.filename for part in parse(raw).parts]

    # THEN only harmless display names remain
    assert names == ["passwd", "boot.ini", "bashrc"]
    assert safe_filename("\x1b[31mevil\x00.pdf", "f") == "[31mevil.pdf"
    assert safe_filename("../..", "fallback.bin") == "fallback.bin"


def test_a_mail_without_usable_parts_still_yields_an_item() -> None:
    # GIVEN a mail with only a body, taken for attachments
    item = parse(make_mail("Hello", body="hi\n"))

    # THEN it is an item with no parts (recorded, so it is not fetched again)
    assert item.parts == []
    assert item.idempotency_key.startswith(item.message_id)


def test_inline_logo_is_not_an_attachment_but_a_scanned_pdf_alone_is() -> None:
    # GIVEN an HTML mail with an embedded logo (Content-ID) and a scanner's PDF-only mail
    message = EmailMessage()
    message["Subject"] = "Newsletter"
    message.set_content("text")
    message.add_alternative("<img src='cid:logo'>", subtype="html")
    alternatives = message.get_payload()
    assert isinstance(alternatives, list)
    html_part = alternatives[1]
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(
        b"\x89PNG",
        maintype="image",
        subtype="png",
        cid="<logo>",
        filename="logo.png",
        disposition="inline",
    )
    scan = EmailMessage()
    scan["Subject"] = "Scan"
    scan.set_content(PDF, maintype="application", subtype="pdf")

    # WHEN both are parsed for attachments
    newsletter, scanned = parse(message.as_bytes()), parse(scan.as_bytes())

    # THEN the logo is skipped and the bare PDF is taken, with a generated name
    assert newsletter.parts == []
    assert [(p.filename, p.content) for p in scanned.parts] == [("attachment-1.pdf", PDF)]


def test_synthetic_message_id_does_not_depend_on_line_endings() -> None:
    # GIVEN one mail without Message-ID, once with CRLF (IMAP) and once with LF endings
    raw = make_mail("No id", message_id=False)
    crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    # WHEN both are parsed
    a, b = parse(raw), parse(crlf)

    # THEN they get the same synthetic id and idempotency key
    assert a.synthetic_id and a.message_id == b.message_id
    assert a.idempotency_key == b.idempotency_key


def test_a_reused_message_id_with_different_content_is_not_a_duplicate() -> None:
    # GIVEN two mails sharing a Message-ID but carrying different attachments
    one = make_mail("A", message_id="<same@x>", attachments=[("a.txt", b"1", "text/plain")])
    two = make_mail("B", message_id="<same@x>", attachments=[("a.txt", b"2", "text/plain")])

    # THEN their idempotency keys differ, while a re-delivery of the first matches it
    assert parse(one).idempotency_key != parse(two).idempotency_key
    assert parse(one).idempotency_key == parse(b"Received: by relay\r\n" + one).idempotency_key


def test_broken_mime_is_handed_on_whole_instead_of_raising() -> None:
    # GIVEN a multipart mail whose structure is garbage
    raw = (
        b"Subject: broken\r\nMessage-ID: <b@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\n'
        b'Content-Type: application/pdf; name="a.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="a.pdf"\r\n\r\n%%%notbase64\r\n'
    )

    # WHEN parsed
    item = parse(raw)

    # THEN it does not raise and the content is not lost
    assert item.message_id == "<b@x>"
    assert len(item.parts) == 1


def test_config_rejects_unsafe_or_incomplete_settings() -> None:
    # GIVEN settings a user could type
    base: dict[str, Any] = {
        "protocol": "imap",
        "host": "mail.example.com",
        "username": "u",
        "password": "pw",
    }

    # THEN plain text to a remote host, move without target and bad choices are refused
    with pytest.raises(mail.MailConfigError, match=r"127\.0\.0\.1"):
        mail.MailboxConfig(**base, security="plain")
    with pytest.raises(mail.MailConfigError, match="move_to"):
        mail.MailboxConfig(**base, after_success="move")
    with pytest.raises(mail.MailConfigError, match="take"):
        mail.MailboxConfig(**base, take="everything")  # type: ignore[arg-type]
    # AND valid settings get standard ports and a tuple of search criteria
    config = mail.MailboxConfig(**base, search=["SINCE", "01-Jan-2024"])
    assert config.effective_port == 993 and config.search == ("SINCE", "01-Jan-2024")
    pop = mail.MailboxConfig(**{**base, "protocol": "pop3"}, security="starttls")
    assert pop.effective_port == 110


def test_the_password_never_appears_in_repr_or_description() -> None:
    # GIVEN a config with a distinctive password
    config = mail.MailboxConfig("imap", "mail.example.com", "u", "s3cr3t-Pa55")

    # THEN neither repr nor the description shows it
    assert "s3cr3t-Pa55" not in repr(config)
    assert "s3cr3t-Pa55" not in config.describe()
