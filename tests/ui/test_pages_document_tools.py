"""Tags, bulk deletion, the ask scope and the Ask history with NiceGUI's simulated user
over the real UI backend."""

from pathlib import Path

import pytest
from nicegui import ui

from app.ui_backend.errors import InvalidInput
from tests.ui.conftest import UiWorld, by_testid, simulated_user
from tests.ui.pdfs import make_pdf

pytestmark = pytest.mark.anyio


def _docs(world: UiWorld, tmp_path: Path, *names: str) -> list[str]:
    demo, editor = world.tenant_id("demo"), world.session("eddie")
    return [
        world.backend.upload(editor, demo, n, make_pdf(tmp_path / n, 1, n).read_bytes())["id"]
        for n in names
    ]


async def test_tagged_documents_are_listed_by_tag_and_tags_show_on_their_page(
    world: UiWorld, tmp_path: Path
) -> None:
    # GIVEN three documents, two tagged "invoices" by an editor
    a, b, c = _docs(world, tmp_path, "a.pdf", "b.pdf", "c.pdf")
    demo = world.tenant_id("demo")
    world.backend.change_tags(world.session("eddie"), demo, [a, b], ["invoices"], [])
    # WHEN a viewer tries to tag THEN the backend refuses
    with pytest.raises(Exception) as refused:
        world.backend.change_tags(world.session("vera"), demo, [c], ["mine"], [])
    assert getattr(refused.value, "status_code", None) == 403
    async with simulated_user(world, session_of="vera") as user:
        # WHEN the list is filtered by the tag
        await user.open("/documents?tag=invoices")
        table = user.find(kind=ui.table).elements.pop()
        # THEN only the tagged documents are listed, each with its tag
        assert sorted(row["title"] for row in table.rows) == ["a.pdf", "b.pdf"]
        assert all(row["tags"] == ["invoices"] for row in table.rows)


async def test_an_editor_deletes_several_documents_at_once(world: UiWorld, tmp_path: Path) -> None:
    # GIVEN three documents
    a, b, c = _docs(world, tmp_path, "a.pdf", "b.pdf", "c.pdf")
    demo = world.tenant_id("demo")
    # WHEN a viewer tries THEN nothing is deleted
    with pytest.raises(Exception):  # noqa: B017 - the role error, whatever its class
        world.backend.delete_documents(world.session("vera"), demo, [a])
    # WHEN the editor deletes two (and one twice) THEN exactly those are gone
    assert world.backend.delete_documents(world.session("eddie"), demo, [a, b, a]) == 2
    left = world.backend.documents(world.session("eddie"), demo)
    assert [d["id"] for d in left] == [c]


async def test_the_ask_page_names_the_documents_a_question_is_about(
    world: UiWorld, tmp_path: Path
) -> None:
    a, _bakery = _docs(world, tmp_path, "harbour.pdf", "bakery.pdf")
    async with simulated_user(world, session_of="vera") as user:
        # WHEN the Ask page is opened for one document (as its page's button does)
        await user.open(f"/ask?docs={a},unknown-id")
        # THEN that document is named, unknown ids are left out, and all can be asked again
        await user.should_see("Asking about:")
        await user.should_see("harbour.pdf")
        await user.should_not_see("bakery.pdf")
        await user.should_see("ask about all documents instead")


async def test_the_history_keeps_each_users_questions_and_deletes_them(world: UiWorld) -> None:
    demo = world.tenant_id("demo")
    world.backend.save_turn(
        world.session("vera"), demo, "Where is cabinet 12?", "East hall [1].", [], [], False
    )
    world.backend.save_turn(
        world.session("eddie"), demo, "Eddie's own question", "x", [], [], False
    )
    async with simulated_user(world, session_of="vera") as user:
        # WHEN vera opens Ask THEN her question is in her history, eddie's is not
        await user.open("/ask")
        await user.should_see("Your recent questions (1)")
        await user.should_see("Where is cabinet 12?")
        await user.should_not_see("Eddie's own question")
        # WHEN she deletes it THEN it is gone from the page and the store
        by_testid(user, "history-delete").click()
        await user.should_see("Your recent questions (0)", retries=30)
    assert world.backend.history(world.session("vera"), demo) == []
    assert len(world.backend.history(world.session("eddie"), demo)) == 1


def test_classify_needs_two_labels_and_extract_some_fields(world: UiWorld) -> None:
    demo, token = world.tenant_id("demo"), world.session("vera")
    with pytest.raises(InvalidInput):
        world.backend.classify_document(token, demo, "any", ["only one"])
    with pytest.raises(InvalidInput):
        world.backend.extract_fields(token, demo, "any", [" ", ""])
