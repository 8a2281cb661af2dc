"""Chunking by the real all-MiniLM-L6-v2 tokenizer: budgets, boundaries, determinism.

The long real text is the GPL-3 from Debian's base-files (/usr/share/common-licenses),
which nobody here wrote and which has numbered headings and long paragraphs.
"""

import subprocess
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from agents.analyze import Chunk, Chunker, Page
from agents.models import locate_embedding_model
from agents.openmp_policy import apply_openmp_wait_policy

GPL = Path("/usr/share/common-licenses/GPL-3")


@pytest.fixture(scope="module")
def chunker() -> Iterator[Chunker]:
    yield Chunker(locate_embedding_model("").path)


@pytest.fixture(scope="module")
def tokenizer(chunker: Chunker) -> Iterator[object]:
    # transformers imports torch, which loads OpenMP: use the appliance's wait policy, as
    # Embedder does, or later llama.cpp tests in this process spin-wait under load
    apply_openmp_wait_policy()
    from transformers import AutoTokenizer

    yield AutoTokenizer.from_pretrained(str(chunker.model_path), local_files_only=True)


@pytest.fixture(scope="module")
def gpl_pages() -> list[Page]:
    text = GPL.read_text("utf-8")
    # three "pages" cut at arbitrary places, as a PDF would
    return [Page(1, text[:12000]), Page(2, text[12000:24000]), Page(3, text[24000:])]


def sentence(i: int) -> str:
    return f"Sentence number {i} explains one small fact about offline appliances."


def assert_slices(chunks: list[Chunk], pages: list[Page]) -> None:
    by_number = {page.number: page.text for page in pages}
    for chunk in chunks:
        assert chunk.text == by_number[chunk.page][chunk.char_start : chunk.char_end]


def test_the_same_pages_always_give_the_same_chunks(
    chunker: Chunker, gpl_pages: list[Page]
) -> None:
    # GIVEN a long real document WHEN chunked twice, and by a second chunker instance
    first = chunker.chunk(gpl_pages)
    again = chunker.chunk(gpl_pages)
    other = Chunker(chunker.model_path).chunk([(p.number, p.text) for p in gpl_pages])
    # THEN the chunks are identical, numbered 0..n-1 in reading order
    assert first == again == other
    assert [c.position for c in first] == list(range(len(first)))
    assert [(c.page, c.char_start) for c in first] == sorted((c.page, c.char_start) for c in first)


def test_every_chunk_fits_the_model_and_counts_its_tokens_exactly(
    chunker: Chunker, tokenizer: object, gpl_pages: list[Page]
) -> None:
    # GIVEN the default budget of 256 model positions WHEN a long document is chunked
    chunks = chunker.chunk(gpl_pages)
    # THEN no chunk needs more than 256 positions with [CLS] and [SEP] added
    assert chunker.budget == 254
    for chunk in chunks:
        ids = tokenizer(chunk.text, add_special_tokens=True)["input_ids"]  # type: ignore[operator]
        assert len(ids) <= 256
        assert chunk.token_count == len(ids) - 2
    # AND the chunks are well filled (on average over 60% of the budget)
    assert sum(c.token_count for c in chunks) / len(chunks) > 0.6 * chunker.budget
    assert_slices(chunks, gpl_pages)


def test_chunks_never_cross_a_page(chunker: Chunker, gpl_pages: list[Page]) -> None:
    # GIVEN pages cut mid-paragraph WHEN chunked
    chunks = chunker.chunk(gpl_pages)
    # THEN each chunk lies inside its own page, and every page has chunks
    for chunk in chunks:
        assert 0 <= chunk.char_start < chunk.char_end <= len(gpl_pages[chunk.page - 1].text)
    assert {c.page for c in chunks} == {1, 2, 3}


def test_empty_and_blank_pages_give_no_chunks(chunker: Chunker) -> None:
    # GIVEN pages with nothing to read WHEN chunked THEN no chunks; page numbers are kept
    pages = [Page(1, ""), Page(2, "  \n\n \t "), Page(7, "Only text.")]
    chunks = chunker.chunk(pages)
    assert [(c.page, c.text, c.position) for c in chunks] == [(7, "Only text.", 0)]


def test_small_paragraphs_are_packed_whole(chunker: Chunker) -> None:
    # GIVEN forty short paragraphs and no overlap
    paragraphs = [f"{sentence(i)} {sentence(i + 100)}" for i in range(40)]
    page = Page(1, "\n\n".join(paragraphs))
    chunks = Chunker(chunker.model_path, overlap_tokens=0).chunk([page])
    # THEN several chunks, each made of whole paragraphs only
    assert len(chunks) > 1
    for chunk in chunks:
        parts = chunk.text.split("\n\n")
        assert all(part in paragraphs for part in parts)
    assert sum(len(c.text.split("\n\n")) for c in chunks) == 40


def test_an_oversized_paragraph_is_split_at_sentence_ends(chunker: Chunker) -> None:
    # GIVEN one paragraph of about 900 tokens and no overlap
    page = Page(1, " ".join(sentence(i) for i in range(70)))
    chunks = Chunker(chunker.model_path, overlap_tokens=0).chunk([page])
    # THEN it is cut into several chunks that each end at a sentence end
    assert len(chunks) >= 4
    assert all(chunk.text.endswith("appliances.") for chunk in chunks)
    assert all(chunk.text.startswith("Sentence number") for chunk in chunks)


def test_a_sentence_longer_than_the_budget_is_cut_at_word_starts(chunker: Chunker) -> None:
    # GIVEN one 600-word run-on sentence without punctuation
    words = [f"word{i % 50}" for i in range(600)]
    text = " ".join(words)
    chunks = chunker.chunk([Page(1, text)])
    # THEN it is cut into windows within budget, never inside a word
    assert len(chunks) > 2
    for chunk in chunks:
        assert chunk.token_count <= chunker.budget
        assert chunk.char_start == 0 or text[chunk.char_start - 1] == " "
        assert chunk.char_end == len(text) or text[chunk.char_end] == " "


def test_continuing_chunks_overlap_by_at_most_the_overlap(
    chunker: Chunker, tokenizer: object
) -> None:
    # GIVEN one long section WHEN chunked with the default 32-token overlap
    text = " ".join(sentence(i) for i in range(80))
    chunks = chunker.chunk([Page(1, text)])
    # THEN each chunk starts inside the one before, repeating at most 32 tokens
    # AND the repeated part starts at a sentence
    for before, after in pairwise(chunks):
        assert before.char_start < after.char_start < before.char_end
        shared = text[after.char_start : before.char_end]
        assert 0 < len(tokenizer(shared, add_special_tokens=False)["input_ids"]) <= 32  # type: ignore[operator]
        assert shared.startswith("Sentence number")


def test_markdown_headings_start_chunks_and_label_them(chunker: Chunker) -> None:
    # GIVEN a markdown document with two sections over two pages
    page1 = "# Installation\n\nRun the installer. It takes a minute.\n\n## Upgrading\n\nStop first."
    page2 = "Then start again.\n\n# Usage\nOpen the browser."
    chunks = chunker.chunk([Page(1, page1), Page(2, page2)])
    # THEN each heading opens a chunk, and a heading stays in force across the page break
    assert [(c.page, c.heading, c.text) for c in chunks] == [
        (1, "Installation", "# Installation\n\nRun the installer. It takes a minute."),
        (1, "Upgrading", "## Upgrading\n\nStop first."),
        (2, "Upgrading", "Then start again."),
        (2, "Usage", "# Usage\nOpen the browser."),
    ]


def test_title_like_lines_are_headings_but_wrapped_prose_is_not(chunker: Chunker) -> None:
    # GIVEN extracted text: a numbered title, a title on its own line, a capitalised
    # first line of wrapped prose, and an all-capitals paragraph
    text = (
        "2. Basic Permissions.\n\n"
        "All rights granted under this License are granted for the term of copyright.\n\n"
        "Conveying Verbatim Copies\n"
        "You may convey verbatim copies of the Program's source code as you receive it.\n\n"
        "The Quick Brown Fox Jumps Over The Lazy Dog Again And\n"
        "Again, said the typist who was testing the keyboard.\n\n"
        "THERE IS NO WARRANTY FOR THE PROGRAM, TO THE EXTENT\n"
        "PERMITTED BY APPLICABLE LAW."
    )
    chunks = chunker.chunk([Page(1, text)])
    # THEN only the two real titles open sections
    assert [c.heading for c in chunks] == ["2. Basic Permissions.", "Conveying Verbatim Copies"]
    # AND with heading detection off, nothing is a heading
    plain = Chunker(chunker.model_path, headings="none").chunk([Page(1, text)])
    assert [c.heading for c in plain] == [None]


def test_the_real_document_gets_its_section_headings(
    chunker: Chunker, gpl_pages: list[Page]
) -> None:
    # GIVEN the GPL-3 WHEN chunked THEN its numbered sections are recognised
    headings = {c.heading for c in chunker.chunk(gpl_pages)}
    for expected in ("Preamble", "0. Definitions.", "8. Termination.", "11. Patents."):
        assert expected in headings


def test_budget_follows_a_smaller_max_tokens(chunker: Chunker, gpl_pages: list[Page]) -> None:
    # GIVEN a 64-token limit WHEN chunking THEN every chunk fits 62 content tokens
    small = Chunker(chunker.model_path, max_tokens=64, overlap_tokens=8)
    chunks = small.chunk(gpl_pages)
    assert small.budget == 62
    assert max(c.token_count for c in chunks) <= 62
    assert_slices(chunks, gpl_pages)


def test_unusable_settings_are_refused(chunker: Chunker) -> None:
    # GIVEN an overlap larger than half the chunk, or a tiny chunk WHEN configured
    # THEN a ValueError names the problem
    with pytest.raises(ValueError, match="overlap"):
        Chunker(chunker.model_path, max_tokens=64, overlap_tokens=40)
    with pytest.raises(ValueError, match="max_tokens"):
        Chunker(chunker.model_path, max_tokens=8)


def test_chunking_does_not_import_torch() -> None:
    # GIVEN a fresh interpreter WHEN a page is chunked
    code = (
        "import sys\n"
        "from agents.analyze import Chunker, Page\n"
        "from agents.models import locate_embedding_model\n"
        "Chunker(locate_embedding_model('').path).chunk([Page(1, 'Some text. More text.')])\n"
        "print(sorted({'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    # THEN only the small tokenizers library was needed: no torch, no transformers
    assert result.stdout.strip() == "[]"
