"""Real documents found on this machine, and builders for generated and hostile ones."""

from __future__ import annotations

import io
import sysconfig
import zipfile
from datetime import datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

MIB = 1024 * 1024

# --- real documents ----------------------------------------------------------------------

STDLIB = Path(sysconfig.get_paths()["stdlib"])
PURELIB = Path(sysconfig.get_paths()["purelib"])

# Real documents that ship with Debian packages, the Python standard library's test
# suite and installed Python packages; none of them were written for these tests.
REAL_FILES = {
    "pdf_libtasn1": Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf"),
    "pdf_mime_spec": Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"),
    "html_base_passwd": Path("/usr/share/doc/base-passwd/users-and-groups.html"),
    "html_libffi": Path("/usr/share/doc/libffi8/html/Introduction.html"),
    "markdown_zstd": Path("/usr/share/doc/zstd/TESTING.md"),
    "txt_dpkg_spec": Path("/usr/share/doc/dpkg/spec/frontend-api.txt"),
    "txt_gpl": Path("/usr/share/common-licenses/GPL-3"),
    "csv_debian": Path("/usr/share/distro-info/debian.csv"),
    "json_metaschema": PURELIB / "jsonschema_specifications/schemas/draft7/metaschema.json",
    "docx_template": PURELIB / "docx/templates/default.docx",
    "eml_gif_attachment": STDLIB / "test/test_email/data/msg_07.txt",
    "eml_digest": STDLIB / "test/test_email/data/msg_02.txt",
    "eml_mbox_bounce": STDLIB / "test/test_email/data/msg_25.txt",
}


def real_file(key: str) -> bytes:
    """The bytes of a known real document; fails (never skips) when it is missing."""
    path = REAL_FILES[key]
    if not path.is_file():
        pytest.fail(f"real test document {path} is missing; install the package that ships it")
    return path.read_bytes()


# --- well-formed documents ---------------------------------------------------------------


def make_docx() -> bytes:
    """A DOCX with a title, two heading levels, body text and a table."""
    document = docx.Document()
    document.core_properties.title = "Quarterly report"
    document.core_properties.author = "Ada Lovelace"
    document.add_heading("Quarterly report", level=0)
    document.add_heading("Revenue", level=1)
    document.add_paragraph("Revenue grew by twelve percent in the third quarter.")
    table = document.add_table(rows=3, cols=2)
    rows = [("Region", "Amount"), ("North", "120"), ("South", "80")]
    for row, (region, amount) in enumerate(rows):
        table.cell(row, 0).text = region
        table.cell(row, 1).text = amount
    document.add_heading("Outlook", level=2)
    document.add_paragraph("We expect steady demand.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_xlsx() -> bytes:
    """An XLSX with two sheets, numbers, a date and a formula."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Invoices"
    sheet.append(["Customer", "Amount", "Due"])
    sheet.append(["Acme Ltd", 1250.5, datetime(2024, 3, 31)])
    sheet.append(["Globex", 300, datetime(2024, 4, 30)])
    sheet["B4"] = "=SUM(B2:B3)"
    other = workbook.create_sheet("Contacts")
    other.append(["Name", "Email"])
    other.append(["Grace Hopper", "grace@example.com"])
    workbook.properties.creator = "Finance team"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_pdf(pages: list[str], password: str | StandardEncryption | None = None) -> bytes:
    """A PDF drawn by ReportLab with one line of text and one bookmark per page.

    `password` encrypts it: a user password string, or ReportLab's StandardEncryption.
    """
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, encrypt=password)
    pdf.setTitle("Generated test PDF")
    pdf.setAuthor("Test Suite")
    for number, text in enumerate(pages, start=1):
        pdf.drawString(72, 760, text)
        pdf.bookmarkPage(f"p{number}")
        pdf.addOutlineEntry(f"Chapter {number}", f"p{number}", level=0)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- hand-built PDFs ---------------------------------------------------------------------

_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def raw_pdf(objects: dict[int, bytes], root: int = 1, prev_self: bool = False) -> bytes:
    """Serialise numbered PDF objects with a correct xref table.

    `prev_self` makes the trailer's /Prev point at its own xref section: a circular
    xref chain.
    """
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_at = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        if number in offsets:
            out += b"%010d 00000 n \n" % offsets[number]
        else:
            out += b"0000000000 65535 f \n"
    prev = b" /Prev %d" % xref_at if prev_self else b""
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\n" % (size, root, prev)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def _page(contents: int) -> bytes:
    return (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>" % contents
    )


def _stream(body: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream"


def circular_pdf() -> bytes:
    """A PDF whose page tree contains itself and whose xref chain points back at itself."""
    return raw_pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
            3: _page(4),
            4: _stream(b"BT /F1 12 Tf 72 700 Td (loop) Tj ET"),
            5: _FONT,
        },
        prev_self=True,
    )


def slow_pdf(lines: int) -> bytes:
    """A valid one-page PDF with a huge content stream: slow for any text extractor."""
    body = b"BT /F1 12 Tf 72 700 Td " + b"(Hello world) Tj 0 -14 Td " * lines + b"ET"
    return raw_pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: _page(4),
            4: _stream(body),
            5: _FONT,
        }
    )


# --- hostile containers ------------------------------------------------------------------


def replace_member(archive: bytes, name: str, content: bytes) -> bytes:
    """A copy of a zip archive with one member's content replaced."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = content if info.filename == name else source.read(info)
            target.writestr(info.filename, data)
    return buffer.getvalue()


def zip_bomb_docx(unpacked_mib: int) -> bytes:
    """A real DOCX plus a media member of `unpacked_mib` MiB of zeros (~1000:1 deflate).

    The member is honest: its declared size is its real size, so a reader without a
    size check would really inflate it.
    """
    buffer = io.BytesIO(make_docx())
    chunk = bytes(MIB)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/media/image1.png", "w", force_zip64=True) as member:
            for _ in range(unpacked_mib):
                member.write(chunk)
    return buffer.getvalue()


def many_members_docx(count: int) -> bytes:
    """A real DOCX padded with `count` tiny extra members."""
    buffer = io.BytesIO(make_docx())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_STORED) as archive:
        for index in range(count):
            archive.writestr(f"customXml/item{index}.bin", b"x")
    return buffer.getvalue()


def billion_laughs_xlsx() -> bytes:
    """An XLSX whose first sheet expands one entity to 10^9 'lol's (3 GB)."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<!DOCTYPE worksheet [{entities}]>"
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    return replace_member(make_xlsx(), "xl/worksheets/sheet1.xml", sheet)


def external_entity_docx(url: str) -> bytes:
    """A DOCX whose document.xml pulls an external entity from `url` into the text."""
    body = (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
        f'<!DOCTYPE w:document [<!ENTITY canary SYSTEM "{url}">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&canary;</w:t></w:r></w:p></w:body></w:document>"
    ).encode()
    return replace_member(make_docx(), "word/document.xml", body)


def parameter_entity_docx(url: str) -> bytes:
    """A DOCX with an external DTD (parameter entity) in a relationships part."""
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<!DOCTYPE r [<!ENTITY % remote SYSTEM "{url}"> %remote;]>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'
    ).encode()
    return replace_member(make_docx(), "word/_rels/document.xml.rels", rels)
