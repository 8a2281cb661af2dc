"""Tags on documents and bulk deletion through the API: roles, validation, audit."""

import pytest

from tests.app.conftest import ApiWorld

URL = "/api/v1/tenants/acme/documents"


@pytest.fixture
def people(world: ApiWorld) -> dict[str, dict[str, str]]:
    world.user("erin")
    world.user("vic")
    world.tenant("acme", erin="editor", vic="viewer")
    return {"editor": world.bearer("erin"), "viewer": world.bearer("vic")}


def _add(world: ApiWorld, headers: dict[str, str], name: str, text: str) -> str:
    body = {"filename": name, "text": text}
    response = world.client.post(URL, json=body, headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["items"][0]["id"])


def test_editor_tags_documents_and_everyone_reads_the_tags(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    # GIVEN two documents
    first = _add(world, people["editor"], "a.txt", "harbour cranes")
    second = _add(world, people["editor"], "b.txt", "rope and pallets")
    # WHEN the editor tags both "Invoices " and the first one "urgent"
    both = {"document_ids": [first, second], "add": ["Invoices "]}
    response = world.client.post(f"{URL}/tags", json=both, headers=people["editor"])
    assert response.status_code == 200, response.text
    world.client.post(
        f"{URL}/tags", json={"document_ids": [first], "add": ["urgent"]}, headers=people["editor"]
    )
    # THEN tags are stored cleaned (lower case, trimmed) and a viewer sees them
    listed = world.client.get(f"{URL}/tags", headers=people["viewer"]).json()["items"]
    assert listed == [{"tag": "invoices", "count": 2}, {"tag": "urgent", "count": 1}]
    one = world.client.get(f"{URL}/{first}/tags", headers=people["viewer"]).json()
    assert one == {"document_id": first, "tags": ["invoices", "urgent"]}
    # WHEN a tag is removed THEN it is gone from that document only
    change = {"document_ids": [first], "remove": ["invoices"]}
    result = world.client.post(f"{URL}/tags", json=change, headers=people["editor"]).json()
    assert result["removed"] == 1 and result["tags"] == {first: ["urgent"]}


def test_the_document_list_filters_by_tag_across_pages(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    # GIVEN five documents, the first, third and fifth tagged "invoices"
    ids = [_add(world, people["editor"], f"{n}.txt", f"text number {n}") for n in range(5)]
    tagged = {ids[0], ids[2], ids[4]}
    body = {"document_ids": sorted(tagged), "add": ["Invoices"]}
    world.client.post(f"{URL}/tags", json=body, headers=people["editor"])
    # WHEN a viewer lists ?tag=invoices two at a time, following the cursor
    seen: list[str] = []
    params: dict[str, str | int] = {"tag": "invoices", "limit": 2}
    for _ in range(5):
        page = world.client.get(URL, params=params, headers=people["viewer"]).json()
        seen += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    # THEN exactly the tagged documents come back, newest first, each once
    assert seen == [ids[4], ids[2], ids[0]]
    # AND a tag nobody uses lists nothing
    none = world.client.get(URL, params={"tag": "nobody"}, headers=people["viewer"]).json()
    assert none["items"] == []


def test_viewers_cannot_tag_and_bad_tags_or_unknown_documents_are_refused(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    # GIVEN a document
    doc = _add(world, people["editor"], "a.txt", "harbour cranes")
    # WHEN a viewer tags it THEN 403
    body = {"document_ids": [doc], "add": ["mine"]}
    assert world.client.post(f"{URL}/tags", json=body, headers=people["viewer"]).status_code == 403
    # WHEN a tag holds a control character THEN 422 invalid_tag, nothing stored
    bad = {"document_ids": [doc], "add": ["ok", "bad\x1btag"]}
    response = world.client.post(f"{URL}/tags", json=bad, headers=people["editor"])
    assert response.status_code == 422 and response.json()["code"] == "invalid_tag"
    # WHEN one of the documents does not exist THEN 404 and the other is not tagged either
    unknown = {"document_ids": [doc, "nope"], "add": ["kept"]}
    assert (
        world.client.post(f"{URL}/tags", json=unknown, headers=people["editor"]).status_code == 404
    )
    assert world.client.get(f"{URL}/tags", headers=people["editor"]).json()["items"] == []


def test_bulk_delete_removes_each_document_with_its_tags_and_audits_each(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    # GIVEN three tagged documents
    ids = [_add(world, people["editor"], f"{n}.txt", f"text number {n}") for n in range(3)]
    world.client.post(
        f"{URL}/tags", json={"document_ids": ids, "add": ["old"]}, headers=people["editor"]
    )
    # WHEN a viewer tries a bulk delete THEN 403
    body = {"document_ids": [*ids[:2], "gone"]}
    assert (
        world.client.post(f"{URL}/bulk-delete", json=body, headers=people["viewer"]).status_code
        == 403
    )
    # WHEN the editor deletes two and an unknown id
    response = world.client.post(f"{URL}/bulk-delete", json=body, headers=people["editor"])
    # THEN the two are deleted, the unknown is reported missing, the third stays tagged
    assert response.status_code == 200, response.text
    assert sorted(response.json()["deleted"]) == sorted(ids[:2])
    assert response.json()["missing"] == ["gone"]
    left = world.client.get(URL, headers=people["editor"]).json()["items"]
    assert [d["id"] for d in left] == [ids[2]]
    assert world.client.get(f"{URL}/tags", headers=people["editor"]).json()["items"] == [
        {"tag": "old", "count": 1}
    ]
    # AND every deletion has its own audit entry
    tenant_id = world.services.system.find_tenant("acme").id
    entries = world.services.system.audit_entries(tenant_id=tenant_id)
    deleted = [e for e in entries if e.action == "document.delete"]
    assert sorted(str(e.target) for e in deleted) == sorted(ids[:2])


def test_a_cursor_the_appliance_did_not_hand_out_is_refused(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    # GIVEN three documents, listed two at a time
    for n in range(3):
        _add(world, people["editor"], f"{n}.txt", f"text number {n}")
    first = world.client.get(URL, params={"limit": 2}, headers=people["viewer"]).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    # WHEN a made-up or damaged cursor is sent
    for cursor in ("2024-01-01|abc", first["next_cursor"][:-3] + "!!!", "WyJ4Il0="):
        response = world.client.get(
            URL, params={"cursor": cursor, "limit": 2}, headers=people["viewer"]
        )
        # THEN 400 invalid_cursor, not an arbitrary page
        assert response.status_code == 400, (cursor, response.text)
        assert response.json()["code"] == "invalid_cursor"
    # AND the cursor handed out gives the rest
    rest = world.client.get(
        URL, params={"cursor": first["next_cursor"], "limit": 2}, headers=people["viewer"]
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
