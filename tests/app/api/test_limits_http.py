"""API limits and headers: rate limit per principal, allowed hosts, body size, security headers."""

from collections.abc import Callable

import pytest

from tests.app.conftest import ApiWorld

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def test_rate_limit_counts_per_user_and_per_key(world_factory: Callable[..., ApiWorld]) -> None:
    # GIVEN a limit of 5 requests a minute, alice and bob, and a key of alice's
    world = world_factory(security={"api_rate_limit_per_minute": 5})
    world.user("alice")
    world.user("bob")
    world.tenant("alpha", alice="owner")
    alice, bob = world.bearer("alice"), world.bearer("bob")
    key = {"Authorization": f"Bearer {world.api_key(alice, 'alpha')['key']}"}  # alice's 1st request
    # WHEN alice makes four more requests, then a sixth
    statuses = [world.client.get("/api/v1/tenants", headers=alice).status_code for _ in range(5)]
    # THEN the sixth is refused with 429 and Retry-After, in the usual error format
    assert statuses == [200, 200, 200, 200, 429]
    refused = world.client.get("/api/v1/tenants", headers=alice)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert refused.json()["code"] == "too_many_requests"
    # AND bob and alice's API key have their own allowance
    assert world.client.get("/api/v1/tenants", headers=bob).status_code == 200
    assert world.client.get("/api/v1/tenants", headers=key).status_code == 200


def test_allowed_requests_carry_the_rate_limit_headers(
    world_factory: Callable[..., ApiWorld],
) -> None:
    # GIVEN a limit of 5 requests a minute and alice, signed in (her first request)
    world = world_factory(security={"api_rate_limit_per_minute": 5})
    world.user("alice")
    world.tenant("alpha", alice="owner")
    alice = world.bearer("alice")
    # WHEN she lists her tenant's documents twice
    first = world.client.get("/api/v1/tenants/alpha/documents", headers=alice)
    second = world.client.get("/api/v1/tenants/alpha/documents", headers=alice)
    # THEN each answer tells her the policy and what is left of it, once per name
    assert first.status_code == second.status_code == 200
    assert first.headers["ratelimit-policy"] == "5; w=60"
    assert first.headers["ratelimit-limit"] == "5"
    assert (
        int(first.headers["ratelimit-remaining"]) == int(second.headers["ratelimit-remaining"]) + 1
    )
    assert int(second.headers["ratelimit-reset"]) > 0
    assert second.headers.get_list("ratelimit-remaining") == [second.headers["ratelimit-remaining"]]
    # AND the security headers are there beside them
    for name, value in SECURITY_HEADERS.items():
        assert second.headers[name] == value


def test_health_is_not_rate_limited(world_factory: Callable[..., ApiWorld]) -> None:
    # GIVEN a limit of 2 a minute; WHEN health is probed 5 times; THEN every probe answers
    world = world_factory(security={"api_rate_limit_per_minute": 2})
    assert {world.client.get("/api/v1/health/live").status_code for _ in range(5)} == {200}


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8080", "localhost", "localhost:1234", "[::1]:8080", "[::1]"]
)
def test_allowed_hosts_pass_with_or_without_a_port(world: ApiWorld, host: str) -> None:
    # WHEN a default allowed host is used, with or without a port; THEN it passes
    assert world.client.get("/api/v1/health/live", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "[::1]evil", "localhost:80x"],
)
def test_other_hosts_are_refused(world: ApiWorld, host: str) -> None:
    # a DNS-rebinding page reaches the appliance with its own name in Host
    # WHEN Host is a foreign or malformed name (as after DNS rebinding); THEN 400 in our format
    response = world.client.get("/api/v1/health/live", headers={"Host": host})
    assert response.status_code == 400
    assert response.json() == {
        "status_code": 400,
        "detail": "this host name is not in server.allowed_hosts",
        "code": "invalid_host",
    }


def test_configured_host_names_are_accepted(world_factory: Callable[..., ApiWorld]) -> None:
    # GIVEN allowed_hosts with a name and a wildcard; THEN those pass and the defaults no longer do
    world = world_factory(server={"allowed_hosts": ["appliance.lan", "*.corp.example"]})
    for host in ("appliance.lan:8443", "box.corp.example"):
        assert world.client.get("/api/v1/health/live", headers={"Host": host}).status_code == 200
    assert world.client.get("/api/v1/health/live", headers={"Host": "127.0.0.1"}).status_code == 400


def test_security_headers_on_success_errors_and_unknown_routes(world: ApiWorld) -> None:
    # WHEN a success, a 401, a 404 and a 400 are returned; THEN each has the security headers
    for response in (
        world.client.get("/api/v1/health/live"),
        world.client.get("/api/v1/tenants"),  # 401
        world.client.get("/api/v1/no-such-route"),  # 404
        world.client.get("/api/v1/health/live", headers={"Host": "evil.example"}),  # 400
    ):
        assert {k: response.headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS
        assert response.headers["cache-control"] == "no-store"


def test_oversized_body_gets_413_with_a_clear_message(
    world_factory: Callable[..., ApiWorld],
) -> None:
    # GIVEN a 1 MiB body limit
    world = world_factory(server={"max_body_mb": 1})
    body = b'{"username": "x", "password": "' + b"y" * (2 * 1024 * 1024) + b'"}'
    # WHEN a larger request arrives
    response = world.client.post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    # THEN 413 in the usual format, naming the limit
    assert response.status_code == 413
    assert response.json() == {
        "status_code": 413,
        "detail": "request body too large: the limit is 1 MiB",
        "code": "request_too_large",
    }


def test_routes_are_private_unless_marked_public(world: ApiWorld) -> None:
    # the only routes open without credentials: health, schema, login, refresh
    # GIVEN the route table; THEN only health, schema, login and refresh are open without
    # credentials
    open_routes = set()
    for route in world.app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get("public"):
                open_routes.add(
                    route.path.split("/")[3] if route.path.count("/") >= 3 else route.path
                )
    # /metrics takes no user login: a scraper sends the metrics token or calls from
    # loopback (checked by the route itself, tests/app/observability)
    assert open_routes == {"health", "schema", "auth", "/metrics"}
    public_auth = {
        route.path
        for route in world.app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.opt.get("public") and route.path.startswith("/api/v1/auth")
    }
    assert public_auth == {"/api/v1/auth/login", "/api/v1/auth/refresh"}
