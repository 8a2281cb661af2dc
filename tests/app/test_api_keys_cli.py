"""`appliance token create|revoke`: the real console script against a real data directory."""

from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.api.application import build_api
from app.runtime import build_runtime
from app.services import open_services
from app.settings import Settings
from tests.app.conftest import BASE_URL
from tests.conftest import run_cli, write_config

pytestmark = pytest.mark.slow


@pytest.fixture
def cli(initialised: Settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run `appliance` on the initialised data dir (demo tenant, admin owner of it)."""
    config = write_config(tmp_path / "c.toml", initialised)
    common = ["--data-dir", str(initialised.data_dir), "--config", str(config)]

    def run(*args: str):  # type: ignore[no-untyped-def]
        return run_cli(*args, *common)

    password = tmp_path / "pw"
    password.write_text("a perfectly long password\n")
    assert run("user", "create", "vic", "--password-file", str(password)).returncode == 0
    assert (
        run("member", "add", "--tenant", "demo", "--user", "vic", "--role", "viewer").returncode
        == 0
    )
    return run


def _status_with(settings: Settings, key: str) -> int:
    services = open_services(settings, None)
    try:
        app = build_api(build_runtime(services))
        with TestClient(app, base_url=BASE_URL) as client:
            return client.get(
                "/api/v1/tenants/demo", headers={"Authorization": f"Bearer {key}"}
            ).status_code
    finally:
        services.close()


def test_token_create_prints_the_key_once_and_revoke_kills_it(cli, initialised: Settings) -> None:  # type: ignore[no-untyped-def]
    # WHEN an operator creates a key for vic
    created = cli(
        "token",
        "create",
        "--tenant",
        "demo",
        "--user",
        "vic",
        "--expires",
        "90d",
        "--name",
        "nightly",
    )
    # THEN stdout is exactly the key, stderr describes it
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("aak_") and "\n" not in key
    assert "role viewer" in created.stderr and "shown only once" in created.stderr
    key_id = created.stderr.split()[2]
    # AND the key works on the API
    assert _status_with(initialised, key) == 200
    # WHEN it is revoked THEN the API refuses it
    revoked = cli("token", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert _status_with(initialised, key) == 401


def test_token_role_above_the_users_fails_in_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    # GIVEN vic, a viewer; WHEN an owner key is asked for him; THEN one clear line, exit 1, no key
    result = cli("token", "create", "--tenant", "demo", "--user", "vic", "--role", "owner")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "appliance: error: a key cannot have a higher role (owner) than its user (viewer)"
    ]


def test_token_for_a_non_member_or_bad_expiry_fails_clearly(cli) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a tenant vic does not belong to
    assert cli("tenant", "create", "other").returncode == 0
    # THEN each mistake is one clear line and exit code 1
    outsider = cli("token", "create", "--tenant", "other", "--user", "vic")
    assert outsider.returncode == 1 and "vic is not a member of other" in outsider.stderr
    bad = cli("token", "create", "--tenant", "demo", "--user", "vic", "--expires", "tomorrow")
    assert bad.returncode == 1 and "e.g. 90d" in bad.stderr
    unknown = cli("token", "revoke", "key_doesnotexist")
    assert unknown.returncode == 1 and "no API key" in unknown.stderr
