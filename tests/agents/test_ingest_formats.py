"""Format detection judges bytes, and uses the file name only between text readings."""

from __future__ import annotations

import io
import zipfile

import pytest

from agents.ingest.sandbox.formats import HEAD_BYTES, detect_format
from tests.agents.hostile_files import make_docx, make_pdf, make_xlsx, real_file


def test_office_and_pdf_files_are_recognised_by_content_even_with_a_misleading_name():
    # GIVEN real DOCX, XLSX and PDF bytes, each uploaded under a wrong name
    docx_bytes, xlsx_bytes, pdf_bytes = make_docx(), make_xlsx(), make_pdf(["x"])
    # WHEN the format is detected
    # THEN the content decides, not the extension
    assert detect_format(docx_bytes, "budget.xlsx") == "docx"
    assert detect_format(xlsx_bytes, "letter.docx") == "xlsx"
    assert detect_format(pdf_bytes, "notes.txt") == "pdf"


def test_ooxml_is_told_apart_from_a_prefix_of_the_file():
    # GIVEN only the first 4 KiB of a DOCX and of an XLSX (no central directory)
    # WHEN the format is detected
    # THEN the member names in the local headers identify them
    assert detect_format(make_docx()[:4096], None) == "docx"
    assert detect_format(make_xlsx()[:4096], None) == "xlsx"


def test_a_zip_without_office_content_types_is_an_other_zip():
    # GIVEN a zip that contains a word/ folder but no [Content_Types].xml, and a plain zip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<x/>")
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8\xff")
    # WHEN detected
    # THEN both are "zip" (unsupported), not DOCX
    assert detect_format(buffer.getvalue(), "a.docx") == "zip"
    assert detect_format(plain.getvalue(), None) == "zip"


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (b"", None, "empty"),
        (b" \n\t \n", "notes.txt", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "scan.pdf", "unknown"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old.doc", "unknown"),
        (b"\x00\x01\x02\x03binary\x00", None, "unknown"),
        (b"{\\rtf1\\ansi hello}", "letter.txt", "unknown"),
        (b"Files start with %PDF-1.7 and end with %%EOF.\n", None, "txt"),
        (b"\x00\x05\x16\x07\x00\x02\x00\x00" + b"%PDF-1.4\n", None, "pdf"),
        (b'{"name": "Acme", "items": [1, 2]}', "data.txt", "json"),
        (b'{"a": 1}\n{"a": 2}\n', None, "json"),
        (b"<!DOCTYPE html><html><body><p>Hi</p></body></html>", "page.md", "html"),
        (b"<p>Hello <b>there</b></p>", None, "html"),
        (b"<p align=center>logo</p>\n\n# Project\n", "README.md", "markdown"),
        (b"From: a@example.com\nTo: b@example.com\nSubject: Hi\n\nBody", None, "eml"),
        (b"name,qty,price\napple,3,1.20\npear,5,0.80\nplum,1,2.00\n", None, "csv"),
        (b"name;qty\napple;3\npear;5\nplum;1\n", None, "csv"),
        (b"# Title\n\nSome *text*.\n\n## Part\n\n- a\n- b\n", None, "markdown"),
        (b"Just a few words, nothing else.\nAnother line.\n", None, "txt"),
        ("Grüße aus Köln\n".encode("latin-1"), None, "txt"),
        ("UTF-16 text with a BOM".encode("utf-16"), None, "txt"),
    ],
)
def test_text_and_binary_kinds_are_detected_from_content(content, filename, expected):
    # GIVEN bytes of a known kind WHEN detected THEN the expected format is named
    assert detect_format(content, filename) == expected


@pytest.mark.parametrize(
    ("filename", "expected"),
    [("table.csv", "csv"), ("README.md", "markdown"), ("notes.txt", "txt"), (None, "csv")],
)
def test_the_name_breaks_ties_between_text_readings(filename, expected):
    # GIVEN text that is valid CSV, Markdown-ish and plain text all at once
    content = b"a,b\n1,2\n3,4\n5,6\n"
    # WHEN detected with different names
    # THEN the name decides among csv, markdown and txt
    assert detect_format(content, filename) == expected


def test_the_name_cannot_turn_binary_into_text():
    # GIVEN a PNG named like a CSV WHEN detected THEN it stays unknown
    assert detect_format(b"\x89PNG\r\n\x1a\n" + bytes(64), "data.csv") == "unknown"


def test_a_real_text_file_with_markdown_headings_keeps_its_txt_name():
    # GIVEN dpkg's frontend-api.txt (setext headings) WHEN detected with its name
    # THEN the name breaks the tie in favour of plain text
    assert detect_format(real_file("txt_dpkg_spec"), "frontend-api.txt") == "txt"


def test_large_json_is_recognised_from_its_head():
    # GIVEN a JSON document larger than the detection window
    content = b'[{"id": 1, "text": "' + b"x" * (2 * HEAD_BYTES) + b'"}]'
    # WHEN detected THEN it is JSON
    assert detect_format(content, None) == "json"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("pdf_libtasn1", "pdf"),
        ("html_base_passwd", "html"),
        ("html_libffi", "html"),
        ("markdown_zstd", "markdown"),
        ("txt_gpl", "txt"),
        ("txt_dpkg_spec", "markdown"),  # a .txt written with setext headings
        ("csv_debian", "csv"),
        ("json_metaschema", "json"),
        ("docx_template", "docx"),
        ("eml_gif_attachment", "eml"),
        ("eml_mbox_bounce", "eml"),
    ],
)
def test_real_files_are_detected_without_their_names(key, expected):
    # GIVEN a real file shipped by a package, passed without its name
    # WHEN detected THEN its format is recognised from the bytes alone
    assert detect_format(real_file(key), None) == expected
