"""Documents API: upload (multipart and JSON), list with paging, text, original, delete."""

import base64
import io
from collections.abc import Callable

import pytest
from reportlab.pdfgen import canvas

from tests.app.conftest import ApiWorld


def _pdf(text: str, pages: int = 2) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for number in range(1, pages + 1):
        pdf.drawString(72, 720, f"{text} page {number}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@pytest.fixture
def editor(world: ApiWorld) -> dict[str, str]:
    world.user("erin")
    world.tenant("acme", erin="editor")
    return world.bearer("erin")


def _parse_queued(world: ApiWorld, tenant: str = "acme") -> None:
    """Run the parse the queue would run, in this process."""
    ingest = world.runtime.ingest
    tenant_id = world.services.system.find_tenant(tenant).id
    for document in ingest.ledger(tenant_id).unfinished():
        if document.state == "received":
            ingest.parse(tenant_id, document.id)


def test_multipart_upload_is_accepted_then_parsed_with_pages(
    world: ApiWorld, editor: dict[str, str]
) -> None:
    # GIVEN two files in one multipart request
    files = [
        ("files", ("report.pdf", _pdf("Quarterly revenue"), "application/pdf")),
        ("files", ("notes.txt", b"plain notes about the harbour", "text/plain")),
    ]
    # WHEN uploaded
    response = world.client.post("/api/v1/tenants/acme/documents", files=files, headers=editor)
    # THEN both are accepted with ids and state received
    assert response.status_code == 202, response.text
    items = response.json()["items"]
    assert [i["state"] for i in items] == ["received", "received"]
    _parse_queued(world)
    pdf_id = items[0]["id"]
    shown = world.client.get(f"/api/v1/tenants/acme/documents/{pdf_id}", headers=editor).json()
    assert shown["state"] == "parsed" and shown["type"] == "pdf" and shown["pages"] == 2
    text = world.client.get(f"/api/v1/tenants/acme/documents/{pdf_id}/text", headers=editor).json()
    assert [p["page"] for p in text["pages"]] == [1, 2]
    assert "Quarterly revenue page 2" in text["pages"][1]["text"]
    original = world.client.get(f"/api/v1/tenants/acme/documents/{pdf_id}/original", headers=editor)
    assert original.content.startswith(b"%PDF")
    assert 'filename="report.pdf"' in original.headers["content-disposition"]


def test_json_upload_of_text_and_base64_and_duplicates(
    world: ApiWorld, editor: dict[str, str]
) -> None:
    url = "/api/v1/tenants/acme/documents"
    first = world.client.post(
        url, json={"filename": "a.txt", "text": "hello ledger"}, headers=editor
    )
    again = world.client.post(
        url,
        json={"filename": "b.txt", "content_base64": base64.b64encode(b"hello ledger").decode()},
        headers=editor,
    )
    assert first.status_code == again.status_code == 202
    assert again.json()["items"][0]["duplicate"] is True
    assert again.json()["items"][0]["id"] == first.json()["items"][0]["id"]
    listed = world.client.get(url, headers=editor).json()
    assert len(listed["items"]) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"filename": "x"}, "exactly one of"),
        ({"content_base64": "%%%not-base64"}, "not valid base64"),
        ({"text": "t", "surprise": 1}, "invalid document JSON"),
    ],
)
def test_bad_json_upload_gets_400_with_a_reason(
    world: ApiWorld, editor: dict[str, str], body: dict[str, object], reason: str
) -> None:
    response = world.client.post("/api/v1/tenants/acme/documents", json=body, headers=editor)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert response.json()["code"] == "invalid_upload"


def test_unsupported_and_corrupt_files_get_a_final_state_with_a_reason(
    world: ApiWorld, editor: dict[str, str]
) -> None:
    url = "/api/v1/tenants/acme/documents"
    files = [
        ("files", ("pic.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")),
        ("files", ("broken.pdf", _pdf("x")[:200], "application/pdf")),
    ]
    items = world.client.post(url, files=files, headers=editor).json()["items"]
    _parse_queued(world)
    states = {}
    for item in items:
        shown = world.client.get(f"{url}/{item['id']}", headers=editor).json()
        states[shown["filename"]] = (shown["state"], shown["error"]["code"])
    assert states["pic.png"] == ("unsupported", "unsupported")
    assert states["broken.pdf"][0] == "failed"
    failed = world.client.get(f"{url}?state=failed", headers=editor).json()["items"]
    assert [d["filename"] for d in failed] == ["broken.pdf"]


def test_cursor_paging_walks_every_document_once(world: ApiWorld, editor: dict[str, str]) -> None:
    url = "/api/v1/tenants/acme/documents"
    for i in range(7):
        world.client.post(
            url, json={"filename": f"{i}.txt", "text": f"document number {i}"}, headers=editor
        )
    seen, cursor = [], None
    while True:
        page = world.client.get(
            url, params={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=editor
        ).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7


def test_delete_removes_document_text_and_original(world: ApiWorld, editor: dict[str, str]) -> None:
    url = "/api/v1/tenants/acme/documents"
    doc_id = world.client.post(
        url, json={"filename": "gone.txt", "text": "to be removed"}, headers=editor
    ).json()["items"][0]["id"]
    _parse_queued(world)
    assert world.client.delete(f"{url}/{doc_id}", headers=editor).status_code == 204
    for suffix in ("", "/text", "/original"):
        assert world.client.get(f"{url}/{doc_id}{suffix}", headers=editor).status_code == 404
    blobs = world.services.tenants.blobs(world.services.system.find_tenant("acme").id)
    assert list(blobs.ids()) == []


def test_viewer_cannot_upload_or_delete(world: ApiWorld, editor: dict[str, str]) -> None:
    url = "/api/v1/tenants/acme/documents"
    doc_id = world.client.post(
        url, json={"filename": "k.txt", "text": "keep me"}, headers=editor
    ).json()["items"][0]["id"]
    world.user("vic")
    acme = world.services.system.find_tenant("acme")
    world.services.system.set_membership(
        acme.id, world.services.system.find_user("vic").id, "viewer"
    )
    viewer = world.bearer("vic")
    assert world.client.post(url, json={"text": "nope"}, headers=viewer).status_code == 403
    assert world.client.delete(f"{url}/{doc_id}", headers=viewer).status_code == 403
    assert world.client.get(f"{url}/{doc_id}", headers=viewer).status_code == 200


def test_deleting_a_document_is_audited(world: ApiWorld, editor: dict[str, str]) -> None:
    url = "/api/v1/tenants/acme/documents"
    doc_id = world.client.post(
        url, json={"filename": "a.txt", "text": "audit me"}, headers=editor
    ).json()["items"][0]["id"]
    world.client.delete(f"{url}/{doc_id}", headers=editor)
    entries = [e for e in world.audit() if e["action"] == "document.delete"]
    assert [(e["actor"], e["target"]) for e in entries] == [("erin", doc_id)]


def test_the_listing_filters_by_source_type_and_text(
    world: ApiWorld, editor: dict[str, str]
) -> None:
    # GIVEN an uploaded PDF, an uploaded note and a note from the drop box, all indexed
    url = "/api/v1/tenants/acme/documents"
    files = [("files", ("annual report.pdf", _pdf("Revenue grew in Rotterdam"), "application/pdf"))]
    pdf_id = world.client.post(url, files=files, headers=editor).json()["items"][0]["id"]
    note_id = world.client.post(
        url,
        json={"filename": "minutes.txt", "text": "The board approved the harbour budget."},
        headers=editor,
    ).json()["items"][0]["id"]
    tenant_id = world.services.system.find_tenant("acme").id
    dropped = world.runtime.ingest.receive(
        tenant_id,
        b"Invoice 7 for harbour cranes",
        filename="inv7.txt",
        source="dropbox",
        parse_now=True,
    )
    _parse_queued(world)
    for document_id in (pdf_id, note_id, dropped.document.id):
        world.runtime.analysis.index_document(tenant_id, document_id)

    def listed(**params: str) -> list[str]:
        response = world.client.get(url, params=params, headers=editor)
        assert response.status_code == 200, response.text
        return sorted(d["id"] for d in response.json()["items"])

    # WHEN the listing is filtered; THEN only the matching documents come back
    assert listed(source="dropbox") == [dropped.document.id]
    assert listed(source="upload") == sorted([pdf_id, note_id])
    assert listed(type="pdf") == [pdf_id]
    assert listed(type="txt", source="upload") == [note_id]
    # AND q matches part of a title or file name, but not the text
    assert listed(q="annual rep") == [pdf_id]
    assert listed(q="harbour") == []
    # AND text matches words of the documents' text (stemmed)
    assert listed(text="harbour") == sorted([note_id, dropped.document.id])
    assert listed(text="approved budgets") == [note_id]
    assert listed(text="Rotterdam") == [pdf_id]
    assert listed(text='" OR * NEAR(') == []  # FTS syntax is taken as words, never as a query
    assert listed(text="harbour", state="indexed", source="dropbox") == [dropped.document.id]


def test_a_file_over_the_size_limit_is_refused_with_a_reason_and_nothing_is_stored(
    world_factory: Callable[..., ApiWorld],
) -> None:
    # GIVEN files may be at most 1 MiB (requests may be larger)
    world = world_factory(ingest={"max_file_mb": 1})
    world.user("erin")
    world.tenant("acme", erin="editor")
    editor = world.bearer("erin")
    url = "/api/v1/tenants/acme/documents"
    files = [
        ("files", ("big.txt", b"x" * (1024 * 1024 + 1), "text/plain")),
        ("files", ("small.txt", b"a small note", "text/plain")),
    ]
    # WHEN a 1 MiB + 1 byte file is uploaded beside a small one
    response = world.client.post(url, files=files, headers=editor)
    # THEN the big one is refused with its code and the limit named; the small one is taken
    assert response.status_code == 202, response.text
    big, small = response.json()["items"]
    assert big["state"] == "failed" and big["error"]["code"] == "too_large"
    assert "1 MiB" in big["error"]["message"]
    assert small["state"] == "received"
    # AND only the small one was stored
    listed = world.client.get(url, headers=editor).json()["items"]
    assert [d["filename"] for d in listed] == ["small.txt"]
    blobs = world.services.tenants.blobs(world.services.system.find_tenant("acme").id)
    assert len(list(blobs.ids())) == 1
