"""The UI backend enforces the API's rules itself: a crafted call gets no further than a
hidden button. Real services, real sessions; no page involved."""

from pathlib import Path

import pytest

from app.auth.tenant_access import TenantNotFound
from app.errors import Forbidden
from app.ui_backend.gate import SessionGate
from tests.ui.conftest import UiWorld
from tests.ui.pdfs import make_pdf
from ui.backend import SessionExpired


def test_a_viewer_cannot_upload_or_delete(world: UiWorld, tmp_path: Path) -> None:
    # GIVEN a document uploaded by an editor, and a viewer's session
    demo = world.tenant_id("demo")
    pdf = make_pdf(tmp_path / "a.pdf", 2).read_bytes()
    doc = world.backend.upload(world.session("eddie"), demo, "a.pdf", pdf)
    viewer = world.session("vera")
    # WHEN the viewer calls upload and delete directly, THEN both are refused
    with pytest.raises(Forbidden, match="editor role"):
        world.backend.upload(viewer, demo, "b.pdf", b"%PDF-1.4 other content")
    with pytest.raises(Forbidden, match="editor role"):
        world.backend.delete_document(viewer, demo, doc["id"])
    # AND nothing changed; reading is allowed
    assert [d["id"] for d in world.backend.documents(viewer, demo)] == [doc["id"]]
    assert world.backend.original(viewer, demo, doc["id"]) == ("a.pdf", pdf)


def test_another_tenant_looks_like_no_tenant(world: UiWorld) -> None:
    # GIVEN mallory, owner of 'other' only
    mallory = world.session("mallory")
    demo = world.tenant_id("demo")
    # WHEN she asks for demo's documents, dashboard, members or keys THEN it does not exist
    for call in (
        lambda: world.backend.documents(mallory, demo),
        lambda: world.backend.dashboard(mallory, demo),
        lambda: world.backend.members(mallory, demo),
        lambda: world.backend.api_keys(mallory, demo),
        lambda: world.backend.connectors(mallory, demo),
        lambda: world.backend.ask_stream(mallory, demo, "anything?"),
    ):
        with pytest.raises(TenantNotFound):
            call()


def test_owner_only_actions_are_refused_to_editors(world: UiWorld) -> None:
    editor, demo = world.session("eddie"), world.tenant_id("demo")
    with pytest.raises(Forbidden):
        world.backend.set_member(editor, demo, "vera", "owner")
    with pytest.raises(Forbidden):
        world.backend.audit(editor, demo)
    with pytest.raises(Forbidden):
        world.backend.save_connector(
            editor,
            demo,
            None,
            {"protocol": "imap", "name": "x", "host": "h", "username": "u"},
            "a mailbox password",
        )
    with pytest.raises(Forbidden, match="appliance admin"):
        world.backend.create_user(editor, "newbie", "a long enough password", False)
    with pytest.raises(Forbidden, match="appliance admin"):
        world.backend.audit(editor, None)


def test_no_session_and_a_revoked_session_are_expired(world: UiWorld) -> None:
    demo = world.tenant_id("demo")
    with pytest.raises(SessionExpired):
        world.backend.documents(None, demo)
    token = world.session("vera")
    world.kit.sessions.revoke(token)
    with pytest.raises(SessionExpired):
        world.backend.documents(token, demo)
    assert world.backend.user_for_session(token) is None


def test_refreshing_pages_do_not_keep_an_idle_session_alive(world: UiWorld) -> None:
    # GIVEN a gate whose idle limit is zero minutes and a session the user just used
    gate = SessionGate(world.kit.sessions, world.services.system, idle_minutes=0)
    token = world.session("vera")
    assert gate.user(token).username == "vera"
    # WHEN only a timer checks it afterwards (passive)
    with pytest.raises(SessionExpired):
        gate.user(token, active=False)
    # THEN the session is ended for good, also for the API
    assert world.kit.sessions.validate(token) is None


def test_last_owner_cannot_be_demoted_from_the_ui(world: UiWorld) -> None:
    other, mallory = world.tenant_id("other"), world.session("mallory")
    with pytest.raises(Exception, match="at least one owner"):
        world.backend.set_member(mallory, other, "mallory", "viewer")


def test_client_address_trusts_forwarding_only_from_configured_proxies(
    world: UiWorld, tmp_path: Path
) -> None:
    from app.runtime import build_runtime
    from app.ui_backend import ApplianceUiBackend
    from tests.ui.conftest import world_settings

    scope = {"client": ("10.0.0.5", 1234), "headers": [(b"x-forwarded-for", b"198.51.100.7")]}
    # GIVEN no trusted proxies THEN the header is ignored
    assert world.backend.client_address(scope) == "10.0.0.5"
    # GIVEN 10.0.0.0/8 as trusted proxies THEN the forwarded client is used
    services = world_settings(tmp_path / "p", server={"trusted_proxies": ["10.0.0.0/8"]})
    try:
        backend = ApplianceUiBackend(build_runtime(services))
        assert backend.client_address(scope) == "198.51.100.7"
    finally:
        services.close()


def test_api_key_secret_is_returned_once_and_listed_without_it(world: UiWorld) -> None:
    token, demo = world.session("eddie"), world.tenant_id("demo")
    secret, record = world.backend.create_api_key(token, demo, "export", "viewer", "30d")
    assert secret.startswith("aak_") and "key" not in record
    listed = world.backend.api_keys(token, demo)
    assert [k["id"] for k in listed] == [record["id"]]
    assert secret not in repr(listed)
    # AND a key above the creator's role is refused as by the API
    with pytest.raises(Forbidden, match="higher role"):
        world.backend.create_api_key(token, demo, "too strong", "owner", None)
