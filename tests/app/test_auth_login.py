"""Sign-in: argon2id parameters, hash upgrades, password policy, and login throttling."""

from collections.abc import Callable

import pytest
from argon2 import PasswordHasher

from app.auth.accounts import Accounts, InvalidCredentials
from app.auth.client_address import client_address
from app.auth.passwords import Passwords, WeakPasswordError
from app.auth.throttle import LoginThrottled
from app.settings import SecuritySettings
from app.ui_backend import ApplianceUiBackend
from tests.app.conftest import PASSWORD, ApiWorld

LOGIN = "/api/v1/auth/login"


def _attempt(
    world: ApiWorld, password: str, forwarded_for: str = "203.0.113.9", user: str = "alice"
) -> tuple[int, dict[str, str], dict[str, object]]:
    response = world.client.post(
        LOGIN,
        json={"username": user, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code, dict(response.headers), response.json()


def test_default_argon2_parameters_meet_the_floor() -> None:
    # GIVEN the shipped defaults (m=19 MiB, t=2, p=1) WHEN a password is hashed
    encoded = Passwords(SecuritySettings()).hash(PASSWORD)
    # THEN the hash is argon2id with at least those parameters
    params = dict(p.split("=") for p in encoded.split("$")[3].split(","))
    assert encoded.startswith("$argon2id$")
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2 and int(params["p"]) == 1


def test_short_password_is_refused_with_a_clear_message() -> None:
    # WHEN an 11-character password is checked; THEN the message says the minimum
    with pytest.raises(WeakPasswordError, match="at least 12 characters"):
        Passwords(SecuritySettings()).check_policy("eleven-char")


def test_hash_is_upgraded_at_next_login_when_parameters_change(world: ApiWorld) -> None:
    # GIVEN alice's hash made with weaker parameters than the current settings
    weak = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(PASSWORD)
    alice = world.services.system.insert_user("alice", weak, False)
    # WHEN she signs in
    world.login("alice")
    # THEN her stored hash now uses the configured parameters, and still verifies
    stored = world.services.system.find_user("alice").password_hash
    security = world.services.settings.security
    assert f"m={security.argon2_memory_kib},t={security.argon2_time_cost}" in stored
    assert (
        Accounts(world.services.system, world.kit.passwords).authenticate("alice", PASSWORD, "t").id
        == alice.id
    )


def test_upgrade_keeps_a_password_set_under_an_older_shorter_policy(world: ApiWorld) -> None:
    # GIVEN a 6-character password from before the policy, with old parameters; WHEN its owner signs
    # in twice; THEN the hash upgrade does not lock them out
    world.services.system.insert_user(
        "old", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("short1"), False
    )
    world.login("old", "short1")
    world.login("old", "short1")


def test_brute_force_from_rotating_forwarded_addresses_is_throttled(
    world_factory: Callable[..., ApiWorld],
) -> None:
    # GIVEN alice, and X-Forwarded-For not trusted (no proxy configured)
    world = world_factory()
    world.user("alice")
    verifications = world.kit.passwords.verifications
    # WHEN 50 wrong passwords arrive, each claiming a different forwarded address
    results = [_attempt(world, f"wrong password {i:03}", f"198.51.100.{i}") for i in range(50)]
    # THEN the first 10 (the configured count) are checked and refused, the rest throttled
    statuses = [status for status, _, _ in results]
    assert statuses == [401] * 10 + [429] * 40
    assert world.kit.passwords.verifications - verifications == 10  # argon2 ran 10 times only
    retry_after = int(results[-1][1]["retry-after"])
    assert 0 < retry_after <= 15 * 60
    assert results[-1][2]["code"] == "too_many_attempts"
    # AND the right password during the lockout is refused too, without argon2
    before = world.kit.passwords.verifications
    assert _attempt(world, PASSWORD)[0] == 429
    assert world.kit.passwords.verifications == before
    # AND after the window it works again
    world.clock.advance(15 * 60 + 1)
    assert _attempt(world, PASSWORD)[0] == 200


def test_lockout_is_per_account_other_users_still_sign_in(world: ApiWorld) -> None:
    # GIVEN alice locked out; THEN bob, from the same address, still signs in
    world.user("alice")
    world.user("bob")
    for i in range(10):
        _attempt(world, f"wrong {i:02} password", user="alice")
    assert _attempt(world, PASSWORD, user="alice")[0] == 429
    assert _attempt(world, PASSWORD, user="bob")[0] == 200


def test_success_resets_the_account_counter(world: ApiWorld) -> None:
    # GIVEN 9 failures then a success; THEN the next 9 failures are again plain 401s
    world.user("alice")
    for i in range(9):
        _attempt(world, f"wrong {i:02} password")
    assert _attempt(world, PASSWORD)[0] == 200
    for i in range(9):
        assert _attempt(world, f"again {i:02} password")[0] == 401


def test_one_address_spraying_many_accounts_is_throttled(
    world_factory: Callable[..., ApiWorld],
) -> None:
    # GIVEN a per-address limit of 5 failures
    world = world_factory(security={"login_max_failures_per_client": 5})
    world.user("carol")
    # WHEN one address tries five different (unknown) accounts
    for i in range(5):
        assert _attempt(world, "wrong password here", user=f"user{i}")[0] == 401
    # THEN its next attempt, even for a real account with the right password, is refused
    assert _attempt(world, PASSWORD, user="carol")[0] == 429


def test_ui_sign_in_shares_the_throttle(world: ApiWorld) -> None:
    # GIVEN 10 failed sign-ins in the web UI; THEN the UI and the API both refuse alice
    world.user("alice")
    backend = ApplianceUiBackend(world.runtime)
    for i in range(10):
        with pytest.raises(InvalidCredentials, match="wrong username or password"):
            backend.sign_in("alice", f"wrong {i:02} password", "192.0.2.1")
    with pytest.raises(LoginThrottled):
        backend.sign_in("alice", PASSWORD, "192.0.2.1")
    assert _attempt(world, PASSWORD)[0] == 429


def test_failed_and_successful_logins_are_audited_with_their_address(world: ApiWorld) -> None:
    # WHEN alice fails once, then signs in; THEN both are audited with her address
    world.user("alice")
    _attempt(world, "wrong password here")
    world.login("alice")
    entries = [(e["action"], e["actor"], e["outcome"], e["client"]) for e in world.audit()[:2]]
    assert entries == [
        ("login", "alice", "ok", "testclient"),
        ("login", "alice", "failure", "testclient"),
    ]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("10.0.0.5", "198.51.100.7", [], "10.0.0.5"),
        ("10.0.0.5", "198.51.100.7", ["10.0.0.5"], "198.51.100.7"),
        ("10.0.0.5", "198.51.100.7, 10.0.0.9", ["10.0.0.0/24"], "198.51.100.7"),
        ("10.0.0.5", "6.6.6.6, 198.51.100.7", ["10.0.0.5"], "198.51.100.7"),
        ("192.0.2.1", "198.51.100.7", ["10.0.0.5"], "192.0.2.1"),
        ("10.0.0.5", None, ["10.0.0.5"], "10.0.0.5"),
    ],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    peer: str, forwarded: str | None, trusted: list[str], expected: str
) -> None:
    # GIVEN a peer and an X-Forwarded-For chain; THEN the client is the nearest untrusted hop
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"client": (peer, 1234), "headers": headers}
    assert client_address(scope, trusted) == expected
