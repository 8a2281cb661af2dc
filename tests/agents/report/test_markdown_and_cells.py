"""The Markdown subset of text sections and the typing of cell values."""

import datetime as dt

from agents.report import markdown
from agents.report.cells import display, number_format, typed


def test_markdown_subset_blocks_bold_and_links() -> None:
    # GIVEN a text with a heading, a paragraph with bold and links, and both list kinds
    text = (
        "# Title\nSome **bold** and [a link](https://example.test) and "
        "[a trap](javascript:alert(1)).\n\n- one\n- two\n\n1. first\n2. second"
    )
    # WHEN it is parsed
    blocks = markdown.parse(text)
    # THEN the blocks are as written, and only http(s)/mailto links keep their target
    assert [b.kind for b in blocks] == ["heading", "paragraph", "bullets", "numbered"]
    spans = blocks[1].lines[0]
    assert any(s.bold and s.text == "bold" for s in spans)
    assert [s.href for s in spans if s.text.startswith("a ")] == ["https://example.test", None]
    # AND ReportLab markup escapes the text itself
    markup = markdown.to_reportlab(markdown.spans("<b>not markup</b> & **yes**"))
    assert markup.startswith("&lt;b&gt;not markup&lt;/b&gt; &amp; <b>yes</b>")
    assert markdown.plain_lines(blocks)[-1] == "2. second"


def test_values_are_typed_and_formatted_by_column_type() -> None:
    assert typed("1,250.50", "currency") == 1250.5
    assert typed("2026-11-30", "date") == dt.date(2026, 11, 30)
    assert typed("12", "integer") == 12
    assert typed("n/a", "number") == "n/a"
    assert display(1250.5, "currency", currency="EUR") == "€1,250.50"
    assert display(-3, "currency", currency="USD") == "-$3.00"
    assert display(0.125, "percent") == "12.5%"
    assert display("2026-11-30T08:00:00Z", "date") == "2026-11-30 08:00"
    assert number_format("percent", 2) == "0.00%"
    assert number_format("text") is None
