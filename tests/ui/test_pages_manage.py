"""Ask (without a model), Mailboxes and Admin page logic with NiceGUI's simulated user."""

import socket

import pytest

from tests.ui.conftest import UiWorld, by_testid, page_dump, simulated_user, wait_testid

pytestmark = pytest.mark.anyio

MAILBOX_PASSWORD = "mailbox-Secret-7731-canary"


async def test_ask_says_when_the_model_is_missing(world: UiWorld) -> None:
    # GIVEN an appliance without the question-answering service
    world.runtime.answerer = None
    async with simulated_user(world, session_of="vera") as user:
        # WHEN the Ask page opens THEN it says so and the question box is disabled
        await user.open("/ask")
        await user.should_see("The question-answering model is not available")
        assert not by_testid(user, "question").elements.pop().enabled


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_owner_adds_a_mailbox_whose_password_never_returns(world: UiWorld) -> None:
    async with simulated_user(world, session_of="olga") as user:
        # GIVEN an owner on the Mailboxes page
        await user.open("/connectors")
        await user.should_see("No mailboxes yet")
        # WHEN she adds an IMAP mailbox with a password
        by_testid(user, "add-mailbox").click()
        user.find("Name").type("Invoices")
        user.find("Server").type("127.0.0.1")
        by_testid(user, "mailbox-port").elements.pop().set_value(_closed_port())
        by_testid(user, "mailbox-security").elements.pop().set_value("plain")
        user.find("Account name").type("invoices@example.test")
        by_testid(user, "mailbox-password").type(MAILBOX_PASSWORD)
        by_testid(user, "save-mailbox").click()
        # THEN it is listed with the password masked
        await user.should_see("Invoices", retries=20)
        await user.should_see("••••••••")
        # AND the password is nowhere in what the page holds for the browser
        assert MAILBOX_PASSWORD not in page_dump(user)
        # WHEN the edit form opens THEN its password field is empty, with a hint
        by_testid(user, "edit-mailbox").click()
        field = by_testid(user, "mailbox-password").elements.pop()
        assert field.value == ""
        assert "Leave empty to keep" in str(field.props.get("hint"))
        assert MAILBOX_PASSWORD not in page_dump(user)
        # WHEN it is saved unchanged THEN the stored password is kept
        by_testid(user, "save-mailbox").click()
        await user.should_see("Mailbox “Invoices” saved", retries=20)
        view = world.backend.connectors(world.session("olga"), world.tenant_id("demo"))[0]
        assert view.has_password
        # WHEN Test is pressed against a port nobody listens on THEN the result is readable
        by_testid(user, "test-mailbox").click()
        await user.should_see("Connection failed", retries=50)
        await user.should_see("for support: mail_unreachable")
        assert "(code:" not in page_dump(user)
    # AND the audit log records the failed test as failed
    entries = world.backend.audit(world.session("olga"), world.tenant_id("demo"))
    test = next(e for e in entries if e["action"] == "connector.test")
    assert test["outcome"] == "failed" and test["detail"]["code"] == "mail_unreachable"


async def test_a_viewer_sees_mailboxes_but_cannot_change_them(world: UiWorld) -> None:
    world.backend.save_connector(
        world.session("olga"),
        world.tenant_id("demo"),
        None,
        {"protocol": "pop3", "name": "Scans", "host": "mail.example.test", "username": "scan"},
        MAILBOX_PASSWORD,
    )
    async with simulated_user(world, session_of="vera") as user:
        await user.open("/connectors")
        await user.should_see("Scans")
        await wait_testid(user, "add-mailbox", present=False)
        await wait_testid(user, "edit-mailbox", present=False)
        assert MAILBOX_PASSWORD not in page_dump(user)


async def test_an_api_key_is_shown_once(world: UiWorld) -> None:
    async with simulated_user(world, session_of="eddie") as user:
        # GIVEN an editor on the API keys section
        await user.open("/admin")
        await user.should_see("API keys for scripts in Demo")
        # WHEN a key is created
        by_testid(user, "key-name").type("nightly export")
        by_testid(user, "create-key").click()
        await wait_testid(user, "new-api-key")
        secret = by_testid(user, "new-api-key").elements.pop().value
        assert secret.startswith("aak_")
        # THEN after the dialog is closed the key is gone from the page for good
        by_testid(user, "close-key").click()
        await wait_testid(user, "new-api-key", present=False)
        assert secret not in page_dump(user)
        await user.should_see("nightly export")
        await user.open("/admin")
        assert secret not in page_dump(user)


async def test_owner_manages_members_and_reads_the_audit_log(world: UiWorld) -> None:
    async with simulated_user(world, session_of="olga") as user:
        await user.open("/admin?tab=members")
        # WHEN an owner makes vera an editor
        by_testid(user, "member-username").elements.pop().set_value("vera")
        by_testid(user, "member-role").elements.pop().set_value("editor")
        by_testid(user, "add-member").click()
        await user.should_see("vera is now editor", retries=20)
        # THEN the change is in the tenant's audit log, with who did it
        entries = world.backend.audit(world.session("olga"), world.tenant_id("demo"))
        change = next(e for e in entries if e["action"] == "member.set")
        assert change["actor"] == "olga" and change["target"] == "vera"
        assert change["detail"] == {"role": "editor", "previous": "viewer"}
        await user.open("/admin?tab=audit")
        table = by_testid(user, "audit-table").elements.pop()
        assert any(row["action"] == "role set" for row in table.rows)


async def test_non_admins_see_only_their_sections(world: UiWorld) -> None:
    async with simulated_user(world, session_of="vera") as user:
        await user.open("/admin?tab=tenants")
        await user.should_see("API keys for scripts in Demo")
        for tab in ("tab-tenants", "tab-users", "tab-members", "tab-audit"):
            await wait_testid(user, tab, present=False)


async def test_admin_creates_a_user_and_a_tenant(world: UiWorld) -> None:
    async with simulated_user(world, session_of="admin") as user:
        await user.open("/admin?tab=users")
        by_testid(user, "new-username").type("nina")
        by_testid(user, "new-password").type("short")
        by_testid(user, "create-user").click()
        await user.should_see("at least 12", retries=20)
        by_testid(user, "new-password").clear().type("a long enough password")
        by_testid(user, "create-user").click()
        await user.should_see("User nina created", retries=20)
        assert "a long enough password" not in page_dump(user)
        await user.open("/admin?tab=tenants")
        by_testid(user, "tenant-name").type("sales")
        by_testid(user, "create-tenant").click()
        await user.should_see("Workspace sales created", retries=20)
        assert world.services.system.find_tenant("sales").slug == "sales"
