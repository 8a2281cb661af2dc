"""How the Ask page writes an answer: safe markdown, [n] markers tied to the chips."""

from ui.components.answer_markdown import as_markdown, cited_numbers, unique_citations


def test_html_in_an_answer_is_escaped_and_markers_of_citations_are_marked() -> None:
    # GIVEN an answer quoting HTML, citing [1] and naming a [7] no citation has
    answer = "Use <b onclick=x()>this</b> **now** [1]. Or that [7]."
    # WHEN prepared for the markdown element with citation 1
    source = as_markdown(answer, {1})
    # THEN the model's tags are text, [1] is our marker, [7] stays plain
    assert "<b onclick" not in source and "&lt;b onclick=x()&gt;" in source
    assert '<sup class="answer-cite text-primary font-medium" data-cite="1">[1]</sup>' in source
    assert "that [7]." in source and "**now**" in source


def test_a_streaming_draft_has_no_markers_yet() -> None:
    # GIVEN a draft before the citations are known THEN markers stay as written
    assert as_markdown("Yes [1]", ()) == "Yes [1]"


def test_chips_are_one_per_page_in_order_of_first_use() -> None:
    # GIVEN citations out of order, two of the same document page
    cited = [
        {"number": 2, "document_id": "a", "page": 1},
        {"number": 1, "document_id": "b", "page": 2},
        {"number": 3, "document_id": "b", "page": 2},
    ]
    # WHEN made into chips THEN the first used comes first and the repeat is merged
    assert [c["number"] for c in unique_citations(cited)] == [1, 2]
    assert cited_numbers(cited) == {1, 2, 3}
