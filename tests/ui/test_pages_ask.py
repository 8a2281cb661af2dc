"""Ask page with the real answerer (real embedding model and SmolLM2): streaming, citation
chips that open the cited page, the no-answer state, and the conversation per session."""

import asyncio
from pathlib import Path

import pytest
from nicegui.testing.user_interaction import UserInteraction

from tests.ui.conftest import UiWorld, by_testid, has_testid, simulated_user, wait_testid
from tests.ui.pdfs import make_pdf

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def _indexed_pdf(world: UiWorld, tmp_path: Path) -> str:
    """A 5-page PDF uploaded, parsed and indexed through the real services."""
    demo = world.tenant_id("demo")
    pdf = make_pdf(tmp_path / "harbour.pdf", 5, "Harbour notes")
    doc = world.backend.upload(world.session("eddie"), demo, pdf.name, pdf.read_bytes())
    world.ingest.parse(demo, doc["id"])
    world.runtime.analysis.index_document(demo, doc["id"])
    assert world.backend.document(world.session("eddie"), demo, doc["id"])["state"] == "indexed"
    return str(doc["id"])


async def test_an_answer_streams_with_chips_that_open_the_cited_page(
    world: UiWorld, tmp_path: Path
) -> None:
    doc_id = _indexed_pdf(world, tmp_path)
    async with simulated_user(world, session_of="vera") as user:
        # GIVEN a viewer on the Ask page
        await user.open("/ask")
        # WHEN she asks about page 4
        by_testid(user, "question").type(
            "Where are the replacement filters for the Tamsin-9 pump stored?"
        ).trigger("keydown.enter")
        # THEN an answer appears with a citation chip for page 4 of the document
        await wait_testid(user, "citation", tries=600)
        assert by_testid(user, "answer").elements.pop().content.strip()  # markdown now
        chips = by_testid(user, "citation").elements
        labels = [chip.props.get("text") or chip.text for chip in chips]
        assert any("p. 4" in str(label) for label in labels), labels
        # WHEN the page is opened again THEN the conversation is still there
        await user.open("/ask")
        await wait_testid(user, "citation")
        # WHEN the chip is clicked THEN the document opens at the cited page
        chip = next(c for c in by_testid(user, "citation").elements if "p. 4" in str(c.text))
        UserInteraction(user, {chip}, "citation").click()
        await user.should_see("Page 4 of 5", retries=50)
        await user.should_see("Harbour notes")
        assert any(f"/documents/{doc_id}?page=4" in path for path in user.back_history)


async def test_no_answer_in_your_documents_is_a_visible_state(world: UiWorld) -> None:
    async with simulated_user(world, session_of="vera") as user:
        await user.open("/ask")
        # WHEN a question is asked of a tenant without documents
        by_testid(user, "question").type("What is the capital of Atlantis?")
        by_testid(user, "ask").click()
        # THEN the page says there is no answer in the documents, with no citation
        await wait_testid(user, "no-answer", tries=300)
        await user.should_see("No answer in your documents")
        assert not has_testid(user, "citation")


async def test_search_by_meaning_finds_a_document_by_its_content(
    world: UiWorld, tmp_path: Path
) -> None:
    doc_id = _indexed_pdf(world, tmp_path)
    token, demo = world.session("vera"), world.tenant_id("demo")
    # GIVEN words that are not in the title; WHEN searched by title THEN nothing is found
    assert world.backend.documents(token, demo, q="pump filters cabinet") == []
    # WHEN searched by meaning THEN the document is found through its indexed text
    assert world.backend.semantic_search_available()
    found = world.backend.documents(token, demo, q="pump filters cabinet", semantic=True)
    assert [d["id"] for d in found] == [doc_id]
    async with simulated_user(world, session_of="vera") as user:
        await user.open("/documents")
        by_testid(user, "semantic-switch").elements.pop().set_value(True)
        by_testid(user, "search").type("pump filters cabinet")
        table = by_testid(user, "documents-table").elements.pop()
        for _ in range(50):
            if [row["id"] for row in table.rows] == [doc_id]:
                break
            await asyncio.sleep(0.1)
        assert [row["id"] for row in table.rows] == [doc_id]
