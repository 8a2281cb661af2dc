"""Fixtures for the UI tests: a real data directory and services, the real UI backend,
and NiceGUI's simulated `User` driving our pages in-process.

`UiWorld` builds people and tenants through the same SystemStore and Passwords the
appliance uses. `simulated_user` runs NiceGUI's user simulation (nicegui.testing) with
our own pages and session routes registered on NiceGUI's app, so a page test exercises
the same code `appliance serve` runs, without a browser.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from nicegui import core, ui
from nicegui.testing.user import User
from nicegui.testing.user_interaction import UserInteraction
from nicegui.testing.user_simulation import user_simulation

from app.auth.kit import AuthKit
from app.auth.sessions import COOKIE_NAME
from app.initialise import initialise
from app.runtime import Runtime, build_runtime
from app.server import _add_session_routes
from app.services import Services, open_services
from app.ui_backend import ApplianceUiBackend
from storage.records import TenantRecord, UserRecord
from tests.conftest import ADMIN_PASSWORD, make_settings
from ui import register_pages

PASSWORD = "a perfectly long password"


class UiWorld:
    """One appliance data directory with the UI backend over its services."""

    def __init__(self, services: Services) -> None:
        self.services = services
        # the queue is not consumed here: uploaded documents stay `received`
        self.runtime: Runtime = build_runtime(services)
        self.kit: AuthKit = self.runtime.auth
        self.ingest = self.runtime.ingest
        self.backend = ApplianceUiBackend(self.runtime)

    def user(self, name: str, *, admin: bool = False) -> UserRecord:
        return self.services.system.insert_user(name, self.kit.passwords.hash(PASSWORD), admin)

    def tenant(self, slug: str, **members: str) -> TenantRecord:
        """A tenant with members given as username=role."""
        record = self.services.tenants.create(slug)
        for username, role in members.items():
            user = self.services.system.find_user(username)
            self.services.system.set_membership(record.id, user.id, role)
        return record

    def session(self, name: str) -> str:
        """A browser session cookie value for `name`, as /ui-session/start would set."""
        user = self.services.system.find_user(name)
        token, _ = self.kit.sessions.create(user.id, "192.0.2.10")
        return token

    def tenant_id(self, slug: str) -> str:
        return self.services.system.find_tenant(slug).id


def world_settings(tmp_path: Path, **sections: dict[str, object]) -> Services:
    settings = make_settings(tmp_path / "data", **sections)
    initialise(settings, "admin", ADMIN_PASSWORD, demo=True, passphrase=None)
    return open_services(settings, None)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[UiWorld]:
    """admin (owner of demo), olga (owner), eddie (editor), vera (viewer) in demo;
    mallory is only in tenant 'other'."""
    services = world_settings(tmp_path)
    built = UiWorld(services)
    for name in ("olga", "eddie", "vera", "mallory"):
        built.user(name)
    demo = services.system.find_tenant("demo")
    for name, role in (("olga", "owner"), ("eddie", "editor"), ("vera", "viewer")):
        services.system.set_membership(demo.id, services.system.find_user(name).id, role)
    built.tenant("other", mallory="owner")
    yield built
    services.close()


@asynccontextmanager
async def simulated_user(world: UiWorld, session_of: str | None = None) -> AsyncIterator[User]:
    """NiceGUI's simulated user on our pages; signed in as `session_of` when given."""
    async with user_simulation() as user:
        _add_session_routes(core.app, world.kit, world.services, world.backend)
        register_pages(world.backend)
        if session_of is not None:
            user.http_client.cookies.set(COOKIE_NAME, world.session(session_of))
        yield user


def page_dump(user: User) -> str:
    """Everything the server holds for the open page's browser tab (element tree as sent)."""
    assert user.client is not None
    return json.dumps(
        [element._to_dict() for element in user.client.elements.values()], default=str
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def by_testid(user: User, name: str) -> UserInteraction[ui.element]:
    """The elements with data-testid=`name` (the same ids the browser tests use)."""
    assert user.client is not None
    found = {
        element
        for element in user.client.elements.values()
        if element.props.get("data-testid") == name and element.visible
    }
    assert found, f"no visible element with data-testid={name}"
    return UserInteraction(user, found, name)


def has_testid(user: User, name: str) -> bool:
    assert user.client is not None
    return any(
        e.props.get("data-testid") == name and e.visible for e in user.client.elements.values()
    )


async def wait_testid(user: User, name: str, present: bool = True, tries: int = 50) -> None:
    """Wait until an element with data-testid=`name` is (or is no longer) on the page."""
    for _ in range(tries):
        if has_testid(user, name) == present:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"data-testid={name} {'never appeared' if present else 'stayed'}")
