"""Account, people, audit, settings, help and 404 pages with NiceGUI's simulated user."""

import asyncio
from pathlib import Path
from typing import cast

import pytest
from nicegui import ui

from tests.ui.conftest import (
    PASSWORD,
    UiWorld,
    by_testid,
    page_dump,
    simulated_user,
    world_settings,
)

pytestmark = pytest.mark.anyio


async def test_changing_ones_password_checks_the_current_one_and_signs_out(
    world: UiWorld,
) -> None:
    cookie = world.session("vera")
    async with simulated_user(world) as user:
        user.http_client.cookies.set(world.backend.cookie_name, cookie)
        await user.open("/account")
        # WHEN the repeated password differs THEN the page says so before asking the server
        by_testid(user, "password-current").type(PASSWORD)
        by_testid(user, "password-new").type("the new long password")
        by_testid(user, "password-repeat").type("the new long passwrd")
        by_testid(user, "password-submit").click()
        await user.should_see("The two new passwords are not the same.")
        # WHEN the current password is wrong THEN it is refused in plain words
        by_testid(user, "password-current").clear().type("not my password")
        by_testid(user, "password-new").clear().type("the new long password")
        by_testid(user, "password-repeat").clear().type("the new long password")
        by_testid(user, "password-submit").click()
        await user.should_see("your current password is not right", retries=30)
        # WHEN everything is right THEN sign-in is next, with a notice, and the session ended
        by_testid(user, "password-current").type(PASSWORD)
        by_testid(user, "password-new").type("the new long password")
        by_testid(user, "password-repeat").type("the new long password")
        by_testid(user, "password-submit").click()
        await user.should_see("Your password was changed", retries=30)
        assert not world.backend.session_alive(cookie)
        assert "the new long password" not in page_dump(user)


async def test_admin_resets_disables_and_deletes_other_accounts(world: UiWorld) -> None:
    vera_cookie = world.session("vera")
    async with simulated_user(world, session_of="admin") as user:
        await user.open("/admin?tab=users")
        # THEN the admin's own row offers no actions
        await user.should_see("you")
        assert user.client is not None
        testids = {e.props.get("data-testid") for e in user.client.elements.values()}
        assert "user-actions-admin" not in testids and "user-actions-vera" in testids
        # WHEN the admin resets vera's password
        by_testid(user, "user-actions-vera").click()
        by_testid(user, "reset-password-vera").click()
        by_testid(user, "reset-password-value").type("vera's new long password")
        by_testid(user, "reset-password-save").click()
        await user.should_see("Password of vera changed", retries=30)
        # THEN vera is signed out
        assert not world.backend.session_alive(vera_cookie)
        # WHEN eddie is disabled THEN his row says so
        by_testid(user, "user-actions-eddie").click()
        by_testid(user, "toggle-user-eddie").click()
        await user.should_see("eddie is disabled and signed out", retries=30)
        assert world.services.system.find_user("eddie").disabled
        # WHEN mallory, the only owner of "other", is to be deleted THEN it is refused plainly
        by_testid(user, "user-actions-mallory").click()
        by_testid(user, "delete-user-mallory").click()
        by_testid(user, "delete-user-confirm").click()
        await user.should_see("mallory is the only owner of other", retries=30)


async def test_adding_an_unknown_member_says_there_is_no_such_user(world: UiWorld) -> None:
    async with simulated_user(world, session_of="olga") as user:
        await user.open("/admin?tab=members")
        select = cast(ui.select, by_testid(user, "member-username").elements.pop())
        # THEN existing accounts are offered to pick from
        assert {"vera", "eddie", "mallory"} <= set(select.options)
        # WHEN a misspelt name is typed in anyway (Enter adds it as a new value)
        select.set_options([*select.options, "verra"], value="verra")
        by_testid(user, "add-member").click()
        await user.should_see("there is no user named verra", retries=30)
        assert "Changing the role failed" not in page_dump(user)


async def test_the_audit_log_shows_new_entries_by_itself_in_plain_words(world: UiWorld) -> None:
    async with simulated_user(world, session_of="admin") as user:
        await user.open("/admin?tab=audit")
        table = cast(ui.table, by_testid(user, "audit-table").elements.pop())
        # WHEN someone changes a role while the log is open
        world.backend.set_member(world.session("olga"), world.tenant_id("demo"), "vera", "editor")
        # THEN the entry appears without a reload, its detail as words, not JSON
        for _ in range(80):
            rows = [r for r in table.rows if r["action"] == "role set" and r["target"] == "vera"]
            if rows:
                break
            await asyncio.sleep(0.1)
        assert rows, "the audit table did not update by itself"
        assert rows[0]["detail"] == "previous: viewer · role: editor"


async def test_api_key_lifetime_in_words(world: UiWorld) -> None:
    async with simulated_user(world, session_of="vera") as user:
        await user.open("/admin?tab=keys")
        # THEN the page is about API keys, not "Admin", and the format is shown up front
        await user.should_see("API keys")
        assert cast(ui.label, by_testid(user, "admin-title").elements.pop()).text == "API keys"
        expires = by_testid(user, "key-expires").elements.pop()
        assert expires.props["hint"] == "e.g. 90 days, 3 months, 1 year; empty: never"
        by_testid(user, "key-name").type("export")
        by_testid(user, "key-expires").type("3 months")
        by_testid(user, "create-key").click()
        await user.should_see("created", retries=30)
    keys = world.backend.api_keys(world.session("vera"), world.tenant_id("demo"))
    assert keys[0]["expires_at"] is not None


async def test_settings_overview_and_backup_for_admins_only(world: UiWorld) -> None:
    async with simulated_user(world, session_of="admin") as user:
        await user.open("/settings")
        await user.should_see("Drop-box folders")
        await user.should_see(str(world.services.data.inbox_dir))
        await user.should_see("A backup is useless without the master key")
        by_testid(user, "backup-now").click()
        await user.should_see("Backup written", retries=100)
    backups = list((world.services.data.root / "backups").iterdir())
    assert len(backups) == 1 and (backups[0] / "manifest.json").is_file()
    assert not (backups[0] / "master.key").exists()
    async with simulated_user(world, session_of="olga") as user:
        await user.open("/settings")
        await user.should_see("Only appliance admins see this page.")


async def test_help_explains_the_drop_box_with_its_full_path(world: UiWorld) -> None:
    async with simulated_user(world, session_of="eddie") as user:
        await user.open("/help")
        await user.should_see("Read the full user guide")
        await user.should_see(str(world.services.data.inbox_dir / "demo"))


async def test_an_unknown_address_gets_the_friendly_404_page(world: UiWorld) -> None:
    async with simulated_user(world, session_of="vera") as user:
        answer = await user.http_client.get("/no/such/page")
        assert answer.status_code == 404
        assert "This page does not exist" in answer.text
        assert "HTTPException" not in answer.text


async def test_the_settings_overview_never_shows_a_secret(tmp_path: Path) -> None:
    # GIVEN an appliance configured with a remote model key and a metrics token
    services = world_settings(
        tmp_path,
        models={"remote_api_key": "sk-canary-remote-7781"},
        observability={"metrics_token": "metrics-canary-5512"},
    )
    world = UiWorld(services)
    try:
        async with simulated_user(world, session_of="admin") as user:
            # WHEN the admin opens Settings THEN only "set (hidden)" is shown for them
            await user.open("/settings")
            await user.should_see("set (hidden)")
            dump = page_dump(user)
            assert "sk-canary-remote-7781" not in dump and "metrics-canary-5512" not in dump
    finally:
        services.close()
