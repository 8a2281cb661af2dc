"""Every supported format parses real documents into text, pages, sections and metadata."""

from __future__ import annotations

import io
import re
from email.message import EmailMessage

import pytest
from pypdf import PdfReader
from reportlab.lib.pdfencrypt import StandardEncryption

from agents.ingest.errors import IngestError
from agents.ingest.sandbox.direct import parse_direct
from agents.ingest.sandbox.document import PAGE_SEPARATOR, ParsedDocument
from tests.agents.hostile_files import (
    REAL_FILES,
    make_docx,
    make_pdf,
    make_xlsx,
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


def test_docx_keeps_headings_as_sections_and_tables_as_rows():
    # GIVEN a DOCX made with python-docx: title, headings, paragraphs and a table
    data = make_docx()
    # WHEN parsed
    document = parse_direct(data, "report.docx")
    # THEN text, table rows, heading sections (pointing into the text) and metadata are there
    assert_consistent(document)
    assert document.format == "docx"
    assert "Revenue grew by twelve percent" in document.text
    assert "North | 120" in document.text
    assert [(s.title, s.level) for s in document.sections] == [
        ("Quarterly report", 0),
        ("Revenue", 1),
        ("Outlook", 2),
    ]
    for section in document.sections:
        assert document.text[section.offset :].startswith(section.title)
    assert document.metadata["title"] == "Quarterly report"
    assert document.metadata["author"] == "Ada Lovelace"
    assert document.metadata["table_count"] == 1
    assert len(document.pages) == 1


def test_the_real_empty_docx_template_of_python_docx_is_reported_empty():
    # GIVEN the default.docx template that ships inside python-docx (no text at all)
    # WHEN parsed THEN it fails as "empty" rather than producing an empty document
    assert error_code(real_file("docx_template")) == "empty"


# --- XLSX ---------------------------------------------------------------------------------


def test_xlsx_gives_one_section_per_sheet_with_typed_cell_values():
    # GIVEN an XLSX made with openpyxl with two sheets, numbers and dates
    data = make_xlsx()
    # WHEN parsed
    document = parse_direct(data, None)
    # THEN each sheet is a section, rows are rendered and metadata names the sheets
    assert_consistent(document)
    assert document.format == "xlsx"
    assert [s.title for s in document.sections] == ["Invoices", "Contacts"]
    assert "Acme Ltd | 1250.5 | 2024-03-31T00:00:00" in document.text
    assert "Globex | 300 | 2024-04-30T00:00:00" in document.text
    assert "Grace Hopper | grace@example.com" in document.text
    contacts = document.sections[1]
    assert document.text[contacts.offset :].startswith("Contacts\nName | Email")
    assert document.metadata["sheet_names"] == "Invoices, Contacts"
    assert document.metadata["sheet_count"] == 2
    assert document.metadata["author"] == "Finance team"


# --- PDF ----------------------------------------------------------------------------------


def test_generated_pdf_keeps_page_numbers_and_bookmarks():
    # GIVEN a three-page PDF drawn by ReportLab with a bookmark per page
    data = make_pdf(["Alpha page text", "Beta page text", "Gamma page text"])
    # WHEN parsed
    document = parse_direct(data, None)
    # THEN each page's text is on its own numbered page, bookmarks point at pages
    assert_consistent(document)
    assert [(p.number, p.text) for p in document.pages] == [
        (1, "Alpha page text"),
        (2, "Beta page text"),
        (3, "Gamma page text"),
    ]
    assert [(s.title, s.page) for s in document.sections] == [
        ("Chapter 1", 1),
        ("Chapter 2", 2),
        ("Chapter 3", 3),
    ]
    assert document.metadata["page_count"] == 3
    assert document.metadata["title"] == "Generated test PDF"
    assert document.metadata["author"] == "Test Suite"


@pytest.mark.parametrize(
    ("key", "first_page_words", "bookmark"),
    [
        ("pdf_libtasn1", "Libtasn1", "1 Introduction"),
        ("pdf_mime_spec", "Shared MIME-info Database", "2. Unified system"),
    ],
)
def test_real_debian_pdfs_parse_page_by_page(key, first_page_words, bookmark):
    # GIVEN a PDF manual shipped by a Debian package
    data = real_file(key)
    # WHEN parsed
    document = parse_direct(data, None)
    # THEN every page is there (pypdf itself is the oracle for the count), page 1 has
    # the title, and the bookmark tree became sections that start at their page's text
    assert_consistent(document)
    expected_pages = len(PdfReader(REAL_FILES[key]).pages)
    assert document.metadata["page_count"] == expected_pages == len(document.pages)
    assert first_page_words in document.pages[0].text
    titles = {s.title: s for s in document.sections}
    assert bookmark in titles
    section = titles[bookmark]
    assert document.text[section.offset :].startswith(document.pages[section.page - 1].text)
    assert sum(bool(p.text) for p in document.pages) >= expected_pages - 2


def test_pdf_with_a_user_password_fails_as_encrypted():
    # GIVEN a PDF that needs a password to open
    data = make_pdf(["secret content"], password="s3cret")
    # WHEN parsed THEN the code is encrypted_pdf
    assert error_code(data) == "encrypted_pdf"


def test_pdf_restricted_only_by_an_owner_password_is_still_read():
    # GIVEN an encrypted PDF with an owner password (no printing, no copying) and an
    # empty user password, as many "protected" PDFs are
    restrictions = StandardEncryption("", ownerPassword="owner", canPrint=0, canCopy=0)
    data = make_pdf(["readable despite restrictions"], password=restrictions)
    assert PdfReader(io.BytesIO(data)).is_encrypted
    # WHEN parsed THEN the text is extracted (it opens with the empty password)
    assert parse_direct(data, None).pages[0].text == "readable despite restrictions"


# --- CSV ----------------------------------------------------------------------------------


def test_real_distro_info_csv_is_read_with_its_header():
    # GIVEN Debian's release table from distro-info-data
    data = real_file("csv_debian")
    # WHEN parsed
    document = parse_direct(data, "debian.csv")
    # THEN every row is present with its delimiter and header recorded
    assert_consistent(document)
    rows = [line for line in data.decode().splitlines() if line.strip()]
    assert document.metadata["row_count"] == len(rows)
    assert document.metadata["delimiter"] == ","
    assert str(document.metadata["columns"]).startswith("version | codename | series")
    assert "1.1 | Buzz | buzz | 1993-08-16" in document.text


def test_csv_encoding_and_semicolon_delimiter_are_detected():
    # GIVEN a European spreadsheet export: windows-1252 text, semicolons, quoted fields
    data = (
        'Name;Stadt;Betrag\n"Müller, Jürgen";München;1.234,50\n'
        "Groß;Köln;99,00\nWeiß;Düsseldorf;12,00\n"
    ).encode("cp1252")
    # WHEN parsed
    document = parse_direct(data, "export.csv")
    # THEN umlauts are decoded and the quoted comma stays inside its field
    assert document.metadata["delimiter"] == ";"
    assert "Müller, Jürgen | München | 1.234,50" in document.text
    assert document.metadata["row_count"] == 4


def test_tab_separated_values_are_read():
    # GIVEN a TSV file WHEN parsed THEN the tab is the delimiter
    data = b"id\tname\n1\tAda\n2\tGrace\n3\tLinus\n"
    document = parse_direct(data, "people.tsv")
    assert document.metadata["delimiter"] == "\t"
    assert "2 | Grace" in document.text


# --- text and Markdown -------------------------------------------------------------------


def test_real_license_text_is_read_as_plain_text():
    # GIVEN the GPL-3 text shipped by Debian's base-files
    data = real_file("txt_gpl")
    # WHEN parsed THEN the whole text is kept, without sections
    document = parse_direct(data, "GPL-3")
    assert_consistent(document)
    assert document.format == "txt"
    assert document.text.startswith("GNU GENERAL PUBLIC LICENSE")
    assert "END OF TERMS AND CONDITIONS" in document.text
    assert document.metadata["encoding"] == "utf-8"


@pytest.mark.parametrize(
    ("data", "encoding_family"),
    [
        ("Grüße aus Köln, schöne Tage.\r\nZweite Zeile über Straßen.\r\n".encode("cp1252"), "cp"),
        ("Grüße aus Köln\nZweite Zeile".encode("utf-16"), "utf_16"),
        ("\ufeffGrüße aus Köln\nZweite Zeile".encode(), "utf"),
    ],
)
def test_text_encodings_are_detected_and_newlines_normalised(data, encoding_family):
    # GIVEN German text in a legacy code page, UTF-16 with BOM or UTF-8 with BOM
    # WHEN parsed
    document = parse_direct(data, "note.txt")
    # THEN the umlauts survive and Windows newlines become \n
    assert document.text.startswith("Grüße aus Köln")
    assert "\r" not in document.text
    assert str(document.metadata["encoding"]).replace("-", "_").startswith(encoding_family)


def test_real_markdown_headings_become_sections():
    # GIVEN zstd's TESTING.md (setext headings) from the Debian package
    data = real_file("markdown_zstd")
    # WHEN parsed
    document = parse_direct(data, "TESTING.md")
    # THEN the headings are sections at the right offsets
    assert_consistent(document)
    titles = [(s.title, s.level) for s in document.sections]
    assert titles[0] == ("Testing", 1)
    assert ("Short Tests", 2) in titles
    for section in document.sections:
        assert document.text[section.offset :].startswith(section.title)


def test_markdown_hash_lines_inside_code_fences_are_not_headings():
    # GIVEN Markdown with a shell comment inside a fenced block
    data = b"# Install\n\n```sh\n# not a heading\nmake\n```\n\n## Use\n\nRun it.\n"
    # WHEN parsed THEN only the real headings are sections
    document = parse_direct(data, "README.md")
    assert [(s.title, s.level) for s in document.sections] == [("Install", 1), ("Use", 2)]
    assert document.metadata["title"] == "Install"


# --- HTML ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "title", "words"),
    [
        ("html_base_passwd", "Users and Groups in the Debian System", "Chapter 1. Introduction"),
        (
            "html_libffi",
            "Introduction (libffi: the portable foreign function interface library)",
            "foreign function interface",
        ),
    ],
)
def test_real_html_documentation_gives_visible_text_and_title(key, title, words):
    # GIVEN HTML documentation shipped by Debian packages
    data = real_file(key)
    # WHEN parsed
    document = parse_direct(data, None)
    # THEN the title is metadata, the visible text is kept and no markup leaks through
    assert_consistent(document)
    assert document.metadata["title"] == title
    assert words in document.text
    assert re.search(r"</?(p|a|div|span|h\d|meta|body)\b", document.text) is None
    assert "charset" not in document.text


def test_html_drops_scripts_styles_and_hidden_elements():
    # GIVEN a page with script, style, a hidden block and headings
    data = b"""<!DOCTYPE html><html><head><title>Shop</title>
    <style>body { color: red }</style><script>var secret = "TOKEN";</script></head>
    <body><h1>Welcome</h1><p>Visible &amp; useful text.</p>
    <div hidden>hidden offer</div><div style="display: none">also hidden</div>
    <noscript>enable js</noscript><h2>Prices</h2><table><tr><td>Tea</td><td>3</td></tr>
    </table></body></html>"""
    # WHEN parsed
    document = parse_direct(data, None)
    # THEN only what a browser shows is text; headings are sections
    assert document.metadata["title"] == "Shop"
    assert "Visible & useful text." in document.text
    assert "Tea | 3" in document.text
    for invisible in ("TOKEN", "color: red", "hidden offer", "also hidden", "enable js"):
        assert invisible not in document.text
    assert [(s.title, s.level) for s in document.sections] == [("Welcome", 1), ("Prices", 2)]


def test_html_declared_charset_is_honoured():
    # GIVEN a windows-1252 page that says so in a meta tag
    page = '<html><head><meta charset="windows-1252"></head><body><p>Café \u2013 crème</p>'
    data = page.encode("cp1252")
    # WHEN parsed THEN the text is decoded with the declared charset
    assert parse_direct(data, None).text == "Café \u2013 crème"


# --- e-mail -------------------------------------------------------------------------------


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


def test_real_json_schema_is_pretty_printed():
    # GIVEN the JSON Schema draft-07 metaschema shipped by jsonschema-specifications
    data = real_file("json_metaschema")
    # WHEN parsed
    document = parse_direct(data, None)
    # THEN keys and values are readable indented text and the title is metadata
    assert_consistent(document)
    assert '  "$schema": "http://json-schema.org/draft-07/schema#"' in document.text
    assert document.metadata["json_type"] == "object"
    assert document.metadata["title"] == "Core schema meta-schema"


def test_lone_surrogates_are_replaced_so_text_can_be_stored(sandbox):
    # GIVEN JSON with an unpaired UTF-16 surrogate escape (valid JSON, invalid Unicode)
    data = b'{"name": "broken \\ud800 text"}'
    # WHEN parsed in-process and in the sandbox
    direct = parse_direct(data, None)
    # THEN the surrogate became U+FFFD and the text encodes as UTF-8
    assert "broken \ufffd text" in direct.text
    direct.text.encode("utf-8")
    assert sandbox.parse(data, None) == direct


def test_json_lines_are_rendered_record_by_record():
    # GIVEN a JSON Lines export WHEN parsed THEN each record is rendered
    document = parse_direct(b'{"id": 1, "name": "Ada"}\n{"id": 2, "name": "Grace"}\n', None)
    assert document.metadata["json_lines"] == 2
    assert '"name": "Grace"' in document.text


def test_large_broken_json_fails_as_malformed_with_the_position():
    # GIVEN a large JSON export (beyond the detection window) with an error on line 3
    data = b'{\n  "a": "' + b"x" * 100_000 + b'",\n  "b": ,\n}'
    # WHEN parsed THEN it is malformed and the message says where
    with pytest.raises(IngestError) as caught:
        parse_direct(data, "data.json")
    assert caught.value.code == "malformed"
    assert "line 3" in str(caught.value)


def test_small_text_that_only_resembles_json_is_kept_as_text():
    # GIVEN a short note starting with a brace that is not JSON
    data = b'{\n  "a": 1,\n  "b": ,\n}'
    # WHEN parsed THEN it is stored as text rather than lost
    document = parse_direct(data, "data.json")
    assert (document.format, document.text) == ("txt", data.decode())


# --- unsupported and empty -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"   \n\n  ", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(32), "unsupported"),
        (b"PK\x05\x06" + bytes(18), "unsupported"),
        (b"{\\rtf1 Hello}", "unsupported"),
    ],
)
def test_empty_and_unsupported_inputs_fail_with_their_code(data, code):
    # GIVEN no content, an image, an empty zip or RTF WHEN parsed THEN the code says why
    assert error_code(data) == code
