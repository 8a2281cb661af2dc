"""Mail parsing: bodies, attachments as child documents, digests and bounces."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from agents.ingest.errors import IngestError
from agents.ingest.sandbox.direct import parse_direct
from agents.ingest.sandbox.document import PAGE_SEPARATOR, ParsedDocument
from tests.agents.hostile_files import (
    make_pdf,
    real_file,
)


def assert_consistent(document: ParsedDocument) -> None:
    """The invariants every ParsedDocument keeps, whatever its format."""
    assert document.text == PAGE_SEPARATOR.join(page.text for page in document.pages)
    assert [page.number for page in document.pages] == list(range(1, len(document.pages) + 1))
    for section in document.sections:
        assert 1 <= section.page <= len(document.pages)
        assert 0 <= section.offset <= len(document.text)
    for value in document.metadata.values():
        assert isinstance(value, str | int)


def error_code(data: bytes, filename: str | None = None) -> str:
    with pytest.raises(IngestError) as caught:
        parse_direct(data, filename)
    return caught.value.code


# --- DOCX ---------------------------------------------------------------------------------


def test_real_mail_with_an_image_attachment_returns_it_as_a_child():
    # GIVEN a MIME mail from CPython's email test suite carrying a GIF
    data = real_file("eml_gif_attachment")
    # WHEN parsed
    document = parse_direct(data, None)
    # THEN headers are metadata and text, the body is text, the GIF is a child document
    assert_consistent(document)
    assert document.format == "eml"
    assert document.metadata["subject"] == "Here is your dingus fish"
    assert document.metadata["from"] == "Barry <barry@digicool.com>"
    assert document.text.startswith("From: Barry <barry@digicool.com>")
    assert [(c.filename, c.content_type) for c in document.children] == [
        ("dingusfish.gif", "image/gif")
    ]
    assert document.children[0].content.startswith(b"GIF8")


def test_real_digest_mail_returns_each_enclosed_message_as_a_parseable_child():
    # GIVEN a MIME digest of five messages
    document = parse_direct(real_file("eml_digest"), None)
    # WHEN its children are parsed in turn
    children = [parse_direct(child.content, child.filename) for child in document.children]
    # THEN each enclosed message is an e-mail document of its own
    assert len(children) == 5
    assert all(child.format == "eml" for child in children)
    assert all(c.content_type == "message/rfc822" for c in document.children)


def test_real_mbox_style_bounce_is_read_as_mail():
    # GIVEN a bounce saved with its mbox "From " envelope line
    document = parse_direct(real_file("eml_mbox_bounce"), None)
    # WHEN parsed THEN the mail headers are found
    assert document.metadata["from"].startswith("Mail Delivery Subsystem")
    assert "Returned mail" in str(document.metadata["subject"])


def test_mail_html_body_and_pdf_attachment_with_a_path_in_its_name():
    # GIVEN a mail with plain and HTML bodies and a PDF whose name tries to climb paths
    message = EmailMessage()
    message["From"] = "Zoë <zoe@example.com>"
    message["To"] = "team@example.com"
    message["Subject"] = "Invoice März"
    message["Message-ID"] = "<abc@example.com>"
    message.set_content("Please find the invoice attached.")
    message.add_alternative("<p>Please find the <b>invoice</b> attached.</p>", subtype="html")
    pdf = make_pdf(["Invoice 42: total 99 EUR"])
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename="../../etc/invoice.pdf"
    )
    # WHEN parsed
    document = parse_direct(message.as_bytes(), None)
    # THEN the plain body is the text, the attachment is a child with a bare name,
    # and the child itself parses as the PDF it is
    assert "Please find the invoice attached." in document.text
    assert "<b>" not in document.text
    assert document.metadata["subject"] == "Invoice März"
    assert document.metadata["message_id"] == "<abc@example.com>"
    assert document.metadata["attachment_count"] == 1
    (child,) = document.children
    assert child.filename == "invoice.pdf"
    assert child.content == pdf
    assert parse_direct(child.content, child.filename).pages[0].text == "Invoice 42: total 99 EUR"


def test_html_only_mail_body_is_rendered_as_text():
    # GIVEN a mail whose only body is HTML
    message = EmailMessage()
    message["From"] = "news@example.com"
    message["Subject"] = "News"
    message.set_content("<html><body><h1>Hello</h1><script>x()</script></body></html>", "html")
    # WHEN parsed THEN the visible text is the body
    document = parse_direct(message.as_bytes(), None)
    assert document.text.endswith("Hello")
    assert "x()" not in document.text


# --- JSON ---------------------------------------------------------------------------------
