"""Fixtures for the API tests: a real data directory, real auth services, Litestar's client.

`ApiWorld` is a small scene builder: users, tenants and memberships are created through
the same SystemStore and Passwords the appliance uses, and requests go through the real
Litestar app built by `build_api`. Only the clock of the login throttle, refresh tokens
and API keys is a test clock, so a 15-minute window can pass instantly.
"""

import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from app.api.application import build_api
from app.api.route_audit import tenant_routes
from app.auth.kit import AuthKit
from app.initialise import initialise
from app.runtime import Runtime, build_runtime
from app.services import Services, open_services
from storage.records import TenantRecord, UserRecord
from tests.conftest import ADMIN_PASSWORD, FAST_SECURITY, make_settings, run_cli

PASSWORD = "a perfectly long password"
BASE_URL = "http://127.0.0.1:8080"
TENANT_404 = {"status_code": 404, "detail": "no such tenant", "code": "not_found"}
_BODY_METHODS = {"POST", "PUT", "PATCH"}


class WallClock:
    """Real time plus an offset the test can advance."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class ApiWorld:
    """One appliance data directory with its API, and helpers to populate it."""

    def __init__(self, services: Services, extra_tenant_handlers: Sequence[Any] = ()) -> None:
        self.services = services
        self.clock = WallClock()
        self.runtime: Runtime = build_runtime(services, clock=self.clock)
        self.kit: AuthKit = self.runtime.auth
        self.app: Litestar = build_api(self.runtime, extra_tenant_handlers)
        self.client = TestClient(self.app, base_url=BASE_URL)

    def user(self, name: str, *, admin: bool = False, password: str = PASSWORD) -> UserRecord:
        return self.services.system.insert_user(name, self.kit.passwords.hash(password), admin)

    def tenant(self, slug: str, **members: str) -> TenantRecord:
        """A tenant with members given as username=role."""
        record = self.services.tenants.create(slug)
        for username, role in members.items():
            user = self.services.system.find_user(username)
            self.services.system.set_membership(record.id, user.id, role)
        return record

    def login(self, name: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/auth/login", json={"username": name, "password": password}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def bearer(self, name: str, password: str = PASSWORD) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login(name, password)['access_token']}"}

    def api_key(
        self, headers: dict[str, str], tenant: str, role: str = "viewer", **extra: Any
    ) -> dict[str, Any]:
        response = self.client.post(
            f"/api/v1/tenants/{tenant}/api-keys",
            headers=headers,
            json={"name": "k", "role": role, **extra},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def audit(self) -> list[dict[str, Any]]:
        """Every audit row as stored (newest first)."""
        with self.services.system_db.read() as conn:
            cols = [
                "id",
                "at",
                "actor",
                "action",
                "tenant_id",
                "target",
                "client",
                "outcome",
                "detail",
            ]
            rows = conn.execute(
                f"SELECT {', '.join(cols)} FROM audit_log ORDER BY id DESC"
            ).fetchall()
        return [dict(zip(cols, row, strict=True)) for row in rows]


@pytest.fixture
def world_factory(tmp_path: Path) -> Iterator[Callable[..., ApiWorld]]:
    """Build an ApiWorld with settings overrides, e.g. factory(security={...})."""
    opened: list[tuple[ApiWorld, Services]] = []

    def build(extra_tenant_handlers: Sequence[Any] = (), **sections: dict[str, Any]) -> ApiWorld:
        settings = make_settings(tmp_path / f"data{len(opened)}", **sections)
        initialise(settings, "admin", ADMIN_PASSWORD, demo=False, passphrase=None)
        services = open_services(settings, None)
        world = ApiWorld(services, extra_tenant_handlers)
        world.client.__enter__()
        opened.append((world, services))
        return world

    yield build
    for world, services in opened:
        world.client.__exit__(None, None, None)
        services.close()


@pytest.fixture
def world(world_factory: Callable[..., ApiWorld]) -> ApiWorld:
    return world_factory()


# --- the tenant-isolation probe, shared by the acceptance test and its self-test -------

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
_SAMPLES = {"int": "1", "uuid": "00000000-0000-0000-0000-000000000000", "path": "probe"}


def fill_path(template: str, tenant: str) -> str:
    """A concrete URL for a route template: the tenant slot gets `tenant`, others samples."""

    def value(match: re.Match[str]) -> str:
        if match.group(1) == "tenant":
            return tenant
        return _SAMPLES.get(match.group(2) or "str", "probe")

    return _PARAM.sub(value, template)


def probe(client: TestClient, method: str, url: str, headers: dict[str, str]) -> Any:
    body = {} if method in _BODY_METHODS else None
    return client.request(method, url, headers=headers, json=body)


# An inbound hook route (opt "hook") takes no user login: without hook credentials it
# answers 401 whatever the tenant, so the probe also presents a (wrong) hook token. The
# tenant and the hook "probe" are then looked up, and must be the unknown-tenant 404.
HOOK_PROBE_HEADERS = {"X-Appliance-Hook-Token": "probe-token-that-matches-nothing"}


def probe_headers(handler: Any, headers: dict[str, str]) -> dict[str, str]:
    """The credentials to probe `handler` with: a hook route gets a hook token added."""
    return {**headers, **HOOK_PROBE_HEADERS} if handler.opt.get("hook") else headers


def json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def isolation_violations(
    client: TestClient, app: Litestar, headers: dict[str, str], foreign: str
) -> list[str]:
    """Every tenant route and method where `headers` reach tenant `foreign` in any way other
    than the exact 404 an unknown tenant gets. Empty means isolated."""
    violations = []
    for path, method, handler in tenant_routes(app):
        if method in ("WEBSOCKET", "ASGI"):
            continue  # not reachable over plain HTTP; covered by unguarded_tenant_routes
        sent = probe_headers(handler, headers)
        foreign_response = probe(client, method, fill_path(path, foreign), sent)
        unknown_response = probe(client, method, fill_path(path, "no-such-tenant"), sent)
        same_body = method == "HEAD" or (
            json_or_none(foreign_response) == json_or_none(unknown_response) == TENANT_404
        )
        if foreign_response.status_code != 404 or not same_body:
            violations.append(
                f"{method} {path}: {foreign_response.status_code} {foreign_response.text[:120]}"
            )
    return violations


# --- the CLI as a user runs it: a config file, a password file, `appliance init --demo`


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """An appliance.toml with the fast argon2 settings of the tests."""
    path = tmp_path / "appliance.toml"
    path.write_text("[security]\n" + "".join(f"{k} = {v}\n" for k, v in FAST_SECURITY.items()))
    return path


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "pw"
    path.write_text(ADMIN_PASSWORD + "\n")
    return path


@pytest.fixture
def data_dir(tmp_path: Path, config: Path, password_file: Path) -> Path:
    """A data directory made by the real `appliance init --demo`."""
    data = tmp_path / "data"
    result = run_cli(
        "init",
        "--data-dir",
        str(data),
        "--config",
        str(config),
        "--admin-password-file",
        str(password_file),
        "--demo",
    )
    assert result.returncode == 0, result.stderr
    return data
