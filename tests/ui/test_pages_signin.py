"""Sign-in page logic with NiceGUI's simulated user: inline errors, throttling, redirects."""

import pytest
from nicegui import ui

from app.auth.throttle import LoginThrottled
from tests.conftest import ADMIN_PASSWORD
from tests.ui.conftest import UiWorld, by_testid, simulated_user
from ui.components import layout

pytestmark = pytest.mark.anyio


async def test_wrong_password_is_shown_inline(world: UiWorld) -> None:
    # GIVEN the sign-in page
    async with simulated_user(world) as user:
        await user.open("/login")
        # WHEN a wrong password is submitted with Enter
        user.find("Username").type("admin")
        user.find("Password").type("not the password at all").trigger("keydown.enter")
        # THEN the page says so inline and the password field is emptied
        await user.should_see("Wrong username or password.")
        assert user.find("Password").elements.pop().value == ""


async def test_throttled_sign_in_says_to_wait(world: UiWorld) -> None:
    # GIVEN an account with as many failed sign-ins as the throttle allows
    for _ in range(world.services.settings.security.login_max_failures):
        with pytest.raises(Exception, match="wrong username or password"):
            world.backend.sign_in("vera", "wrong wrong wrong", "192.0.2.50")
    with pytest.raises(LoginThrottled):
        world.backend.sign_in("vera", "wrong wrong wrong", "192.0.2.50")
    async with simulated_user(world) as user:
        await user.open("/login")
        # WHEN even the right password is tried from the page
        user.find("Username").type("vera")
        user.find("Password").type("a perfectly long password")
        user.find(kind=ui.button, content="Sign in").click()
        # THEN the page explains the lock instead of signing in
        await user.should_see("Too many failed sign-ins")


async def test_right_password_leads_to_the_dashboard(world: UiWorld) -> None:
    async with simulated_user(world) as user:
        # GIVEN the sign-in page; WHEN the admin signs in
        await user.open("/login")
        user.find("Username").type("admin")
        user.find("Password").type(ADMIN_PASSWORD)
        user.find(kind=ui.button, content="Sign in").click()
        # THEN the ticket is exchanged for a session cookie and the dashboard shows
        await user.should_see("Dashboard", retries=30)
        await user.should_see("Demo (owner)")
        assert user.http_client.cookies.get("appliance_session")


async def test_pages_without_a_session_lead_to_sign_in(world: UiWorld) -> None:
    async with simulated_user(world) as user:
        # WHEN a page is opened without a session THEN sign-in shows, without a notice
        for path in ("/", "/documents", "/ask", "/connectors", "/admin", "/documents/x"):
            await user.open(path)
            await user.should_see("Sign in to continue")
            await user.should_not_see("Your session ended")


async def test_an_ended_session_returns_to_sign_in_with_a_notice(world: UiWorld) -> None:
    async with simulated_user(world, session_of="vera") as user:
        # GIVEN a signed-in user whose session is then revoked (timeout, sign-out elsewhere)
        await user.open("/")
        await user.should_see("Dashboard")
        token = user.http_client.cookies.get("appliance_session")
        world.kit.sessions.revoke(token)
        # WHEN a page is opened THEN sign-in shows with a notice
        await user.open("/documents")
        await user.should_see("Your session ended. Please sign in again.")


async def test_sign_out_ends_the_session(world: UiWorld) -> None:
    async with simulated_user(world, session_of="vera") as user:
        await user.open("/")
        token = user.http_client.cookies.get("appliance_session")
        # WHEN the user signs out from the account menu
        by_testid(user, "sign-out").click()
        await user.should_see("You are signed out.", retries=30)
        # THEN the session no longer exists on the server
        assert world.kit.sessions.validate(token) is None


async def test_an_open_page_leaves_for_sign_in_when_the_session_ends(
    world: UiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an open page whose session check runs often (30 s in production)
    monkeypatch.setattr(layout, "SESSION_CHECK_S", 0.1)
    async with simulated_user(world, session_of="vera") as user:
        await user.open("/documents")
        # WHEN the session ends while the user just looks at the page
        world.kit.sessions.revoke(user.http_client.cookies.get("appliance_session"))
        # THEN the page goes to sign-in by itself, with a notice
        await user.should_see("Your session ended. Please sign in again.", retries=50)
