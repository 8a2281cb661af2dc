"""The egress guard: hostile destinations are refused with egress_blocked and the local
canary server receives nothing; with an allow-list entry the same calls go through."""

from collections.abc import Callable

import pytest

from agents.act import outbox
from agents.act.egress import EgressPolicy
from agents.act.errors import EgressBlockedError
from tests.agents.act.conftest import Actions
from tests.agents.act.receivers import Receiver, Reply

# {port} is the canary's port: every loopback spelling aims at it
LOOPBACK_SPELLINGS = [
    "http://127.0.0.1:{port}/",
    "http://0x7f000001:{port}/",
    "http://2130706433:{port}/",
    "http://127.1:{port}/",
    "http://localhost:{port}/",  # a name resolving to loopback through /etc/hosts
    "http://vm:{port}/",  # another /etc/hosts name of 127.0.0.1 on this machine
]
OTHER_HOSTILE = [
    # octal: the resolver reads 127.0.0.1; httpx refuses to parse it, so it never passes
    "http://0177.0.0.1:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://127.0.0.2:{port}/",
    "http://0.0.0.0:{port}/",
    "http://[::]:{port}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://198.18.0.1/",
    "http://255.255.255.255/",
]


def _send(actions: Actions, url: str, run_id: str) -> outbox.OutboxMessage:
    result = actions.complete("webhook", {"url": url, "json": {"n": run_id}}, run_id=run_id)
    actions.deliver_queued()
    return outbox.get_message(actions.db, result.output["message_id"])


def test_hostile_destinations_are_refused_and_the_canary_hears_nothing(
    actions_factory: Callable[..., Actions], receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN a canary on 127.0.0.1 and a dispatcher with the guard on and no allow-list
    canary = receiver_factory()
    actions = actions_factory()
    urls = [u.format(port=canary.port) for u in LOOPBACK_SPELLINGS + OTHER_HOSTILE]
    assert len(urls) >= 20

    # WHEN each destination gets a webhook
    refused = {url: _send(actions, url, f"run{i}") for i, url in enumerate(urls)}

    # THEN every one is dead with code egress_blocked, after one attempt, and the canary
    # received no request at all
    wrong = {
        u: (m.state, m.last_code)
        for u, m in refused.items()
        if (m.state, m.last_code) != ("dead", "egress_blocked")
    }
    assert wrong == {}
    assert all(m.attempts == 1 for m in refused.values())
    assert canary.seen == []


def test_a_redirect_to_a_loopback_port_not_allowed_is_refused(
    actions_factory: Callable[..., Actions], receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN an allow-listed server that redirects to another loopback port (the canary)
    canary = receiver_factory()
    redirector = receiver_factory(Reply(302, {"Location": f"{canary.url}/internal"}, b""))
    actions = actions_factory(allow=(f"127.0.0.1:{redirector.port}",))

    # WHEN a webhook is sent to the redirector
    message = _send(actions, f"{redirector.url}/hook", "redirect")

    # THEN the redirect hop is refused, the canary received nothing
    assert (message.state, message.last_code) == ("dead", "egress_blocked")
    assert len(redirector.seen) == 1
    assert canary.seen == []


def test_with_the_allow_list_the_same_calls_go_through(
    actions_factory: Callable[..., Actions], receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN the canary and an allow-list entry for 127.0.0.1
    canary = receiver_factory()
    actions = actions_factory(allow=("127.0.0.1/32",))
    urls = [u.format(port=canary.port) for u in LOOPBACK_SPELLINGS]

    # WHEN each loopback spelling gets a webhook
    states = [_send(actions, url, f"ok{i}").state for i, url in enumerate(urls)]

    # THEN each is delivered, and the canary saw each one, Host header as written
    assert states == ["delivered"] * len(urls)
    assert len(canary.seen) == len(urls)
    assert canary.seen[-1].headers["host"] == f"vm:{canary.port}"


def test_a_redirect_between_allowed_ports_is_followed(
    actions_factory: Callable[..., Actions], receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN a redirector and its target, both allowed
    target = receiver_factory()
    redirector = receiver_factory(Reply(307, {"Location": f"{target.url}/moved"}, b""))
    actions = actions_factory(allow=("127.0.0.1/32",))

    # WHEN a webhook goes to the redirector
    message = _send(actions, f"{redirector.url}/hook", "follow")

    # THEN it arrives at the target with its body
    assert message.state == "delivered"
    assert target.json_bodies() == [{"n": "follow"}]


@pytest.mark.parametrize(
    ("entry", "host", "port", "allowed"),
    [
        ("127.0.0.1/32", "127.0.0.1", 80, True),
        ("127.0.0.1:8025", "127.0.0.1", 8025, True),
        ("127.0.0.1:8025", "127.0.0.1", 8026, False),
        ("[::1]:9000", "::1", 9000, True),
        ("localhost", "localhost", 1234, True),
        ("10.0.0.0/8", "127.0.0.1", 80, False),
    ],
)
def test_allow_list_entries_match_networks_hosts_and_ports(
    entry: str, host: str, port: int, allowed: bool
) -> None:
    # GIVEN a policy with one entry WHEN the destination is resolved
    policy = EgressPolicy([entry])
    # THEN it passes exactly when the entry covers host and port
    if allowed:
        assert policy.resolve(host, port)
    else:
        with pytest.raises(EgressBlockedError):
            policy.resolve(host, port)
