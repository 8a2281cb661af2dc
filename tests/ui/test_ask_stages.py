"""What the Ask page shows while an answer is on its way, and how it shows the answer."""

from ui.pages.ask import as_markdown, stage_text, unique_citations


def test_each_stage_has_its_own_words() -> None:
    assert stage_text({"type": "stage", "stage": "searching"}) == "Searching your documents…"
    assert stage_text({"type": "stage", "stage": "reading", "passages": 5}) == (
        "Reading 5 passages…"
    )
    assert stage_text({"type": "stage", "stage": "reading", "passages": 1}) == (
        "Reading 1 passage…"
    )
    assert stage_text({"type": "stage", "stage": "writing"}) == "Writing the answer…"


def test_markup_in_an_answer_shows_as_text() -> None:
    # GIVEN an answer quoting HTML from a document WHEN prepared for the markdown element
    # THEN the tags are escaped (shown, not rendered) and markdown still works
    assert as_markdown("**Use** <script>x()</script> [1]") == (
        "**Use** &lt;script&gt;x()&lt;/script&gt; [1]"
    )


def test_one_chip_per_document_page_in_answer_order() -> None:
    cited = [
        {"number": 1, "document_id": "b", "page": 2},
        {"number": 2, "document_id": "a", "page": 1},
        {"number": 3, "document_id": "b", "page": 2},
    ]
    assert [c["number"] for c in unique_citations(cited)] == [1, 2]
