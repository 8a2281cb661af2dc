"""Dashboard and Documents page logic with NiceGUI's simulated user."""

from pathlib import Path

import pytest
from nicegui import ui

from tests.ui.conftest import UiWorld, by_testid, page_dump, simulated_user
from tests.ui.pdfs import make_pdf

pytestmark = pytest.mark.anyio


async def test_editor_uploads_several_files_and_sees_them_listed(
    world: UiWorld, tmp_path: Path
) -> None:
    pdfs = [make_pdf(tmp_path / f"n{i}.pdf", 2, f"Notes {i}") for i in (1, 2)]
    async with simulated_user(world, session_of="eddie") as user:
        # GIVEN an editor on the Documents page
        await user.open("/documents")
        await user.should_see("No documents yet")
        upload = user.find(kind=ui.upload).elements.pop()
        # WHEN two files arrive through the upload element
        await upload.handle_uploads(
            [ui.upload.SmallFileUpload(p.name, "application/pdf", p.read_bytes()) for p in pdfs]
        )
        # THEN each file gets a result line and a table row
        await user.should_see("n1.pdf: added; it is being read")
        await user.should_see("n2.pdf: added; it is being read")
        table = user.find(kind=ui.table).elements.pop()
        assert sorted(row["title"] for row in table.rows) == ["n1.pdf", "n2.pdf"]
        # AND the same content again is reported as a duplicate, not added
        await upload.handle_uploads(
            [ui.upload.SmallFileUpload("copy.pdf", "application/pdf", pdfs[0].read_bytes())]
        )
        await user.should_see("copy.pdf: already here (same content), so it was not added again")
        assert len(table.rows) == 2


async def test_a_viewer_sees_no_upload_or_delete_controls(world: UiWorld, tmp_path: Path) -> None:
    demo = world.tenant_id("demo")
    doc = world.backend.upload(
        world.session("eddie"), demo, "a.pdf", make_pdf(tmp_path / "a.pdf").read_bytes()
    )
    async with simulated_user(world, session_of="vera") as user:
        # WHEN a viewer opens the list and the document
        await user.open("/documents")
        assert [r["title"] for r in user.find(kind=ui.table).elements.pop().rows] == ["a.pdf"]
        # THEN there is no upload element and no delete button
        await user.should_not_see(kind=ui.upload)
        await user.open(f"/documents/{doc['id']}")
        await user.should_see("Download original")
        await user.should_not_see("Delete")


async def test_filter_by_state_and_title(world: UiWorld, tmp_path: Path) -> None:
    demo, editor = world.tenant_id("demo"), world.session("eddie")
    for name in ("budget 2025.pdf", "harbour notes.pdf"):
        world.backend.upload(editor, demo, name, make_pdf(tmp_path / name, 1, name).read_bytes())
    async with simulated_user(world, session_of="eddie") as user:
        await user.open("/documents?q=harbour")
        table = user.find(kind=ui.table).elements.pop()
        assert [row["title"] for row in table.rows] == ["harbour notes.pdf"]
        await user.open("/documents?state=indexed")
        await user.should_see("Nothing matches")


async def test_a_failed_document_explains_why_in_plain_words(world: UiWorld) -> None:
    # GIVEN a truncated PDF that the real parser refuses
    demo = world.tenant_id("demo")
    doc = world.backend.upload(
        world.session("eddie"), demo, "broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog"
    )
    world.ingest.parse(demo, doc["id"])
    async with simulated_user(world, session_of="vera") as user:
        # WHEN its page is opened
        await user.open(f"/documents/{doc['id']}")
        # THEN the reason, its code and what to do are shown
        await user.should_see("This document could not be processed")
        await user.should_see("for support: malformed")
        await user.should_see("What you can do")
        assert "(code:" not in page_dump(user)
        # AND the dashboard lists it under failures
        await user.open("/")
        await user.should_see("broken.pdf")
        assert "(code:" not in page_dump(user)


async def test_dashboard_counts_documents_per_state(world: UiWorld, tmp_path: Path) -> None:
    demo, editor = world.tenant_id("demo"), world.session("eddie")
    world.backend.upload(editor, demo, "one.pdf", make_pdf(tmp_path / "1.pdf", 1).read_bytes())
    async with simulated_user(world, session_of="vera") as user:
        await user.open("/")
        await user.should_see("Recent arrivals")
        await user.should_see("one.pdf")
        await user.should_see("0 of 2 workers busy")
        await user.should_see("language model: ready; loads on the first question")


async def test_a_user_without_tenant_gets_a_hint(world: UiWorld) -> None:
    world.user("nomad")
    async with simulated_user(world, session_of="nomad") as user:
        await user.open("/")
        await user.should_see("You are not a member of any workspace yet")
        await user.should_see("Ask an administrator to add you to a workspace.")


async def test_tenant_switcher_changes_the_current_tenant(world: UiWorld) -> None:
    # GIVEN mallory, a member of 'other' and (now) of demo
    world.services.system.set_membership(
        world.tenant_id("demo"), world.services.system.find_user("mallory").id, "viewer"
    )
    async with simulated_user(world, session_of="mallory") as user:
        await user.open("/documents")
        switcher = by_testid(user, "tenant-switcher").elements.pop()
        assert switcher.value == world.tenant_id("demo")
        # WHEN she picks the other tenant THEN the page shows it as current
        switcher.set_value(world.tenant_id("other"))
        await user.should_see("other (owner)", retries=20)
