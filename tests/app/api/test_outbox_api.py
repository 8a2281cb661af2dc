"""The outbox API: sending through it, listing with state and cursor, redelivery, roles;
and connectors of the outbound kinds with their test button."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from agents.act.dispatcher import DeliverTask, Dispatcher
from tests.agents.act.receivers import Receiver, Reply
from tests.app.conftest import ApiWorld

OUTBOX = "/api/v1/tenants/acme/outbox"
CONNECTORS = "/api/v1/tenants/acme/connectors"
CANARY_SECRET = "whsec_Q0FOQVJZLXdlYmhvb2stc2VjcmV0LTEyMzQ1Njc4"


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(*script: Reply) -> Receiver:
        receiver = Receiver(list(script) or None)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture
def scene(world_factory: Callable[..., ApiWorld]) -> tuple[ApiWorld, dict[str, dict[str, str]]]:
    world = world_factory(actions={"egress_allow": ["127.0.0.1/32"]})
    for name in ("olga", "ed", "vera"):
        world.user(name)
    world.tenant("acme", olga="owner", ed="editor", vera="viewer")
    return world, {name: world.bearer(name) for name in ("olga", "ed", "vera")}


def _deliver_all(world: ApiWorld, tenant_id: str, ids: list[str]) -> None:
    """What the queue's worker does for each message."""
    dispatcher: Dispatcher = world.runtime.dispatcher
    for message_id in ids:
        dispatcher.deliver(DeliverTask(tenant_id, message_id))


def _tenant_id(world: ApiWorld) -> str:
    return world.services.system.find_tenant("acme").id


def test_a_webhook_sent_through_the_outbox_is_listed_and_delivered(
    scene: tuple[ApiWorld, dict[str, dict[str, str]]], receivers: Callable[..., Receiver]
) -> None:
    world, people = scene
    receiver = receivers()
    # WHEN an editor sends five webhooks through the outbox
    ids = []
    for n in range(5):
        sent = world.client.post(
            OUTBOX,
            json={
                "kind": "webhook",
                "url": f"{receiver.url}/in?token=abc",
                "json": {"n": n},
                "key": f"k{n}",
            },
            headers=people["ed"],
        )
        assert sent.status_code == 202, sent.text
        ids.append(sent.json()["id"])
    # THEN they are pending; the summary leaves the query string out
    pending = world.client.get(OUTBOX, params={"state": "pending"}, headers=people["vera"]).json()
    assert len(pending["items"]) == 5 and pending["counts"]["pending"] == 5
    assert "token" not in pending["items"][0]["summary"]
    # WHEN the worker delivers them
    _deliver_all(world, _tenant_id(world), ids)
    # THEN pages of two walk all five, newest first, all delivered
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"state": "delivered", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = world.client.get(OUTBOX, params=params, headers=people["vera"]).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert sorted(b["n"] for b in receiver.json_bodies()) == [0, 1, 2, 3, 4]
    # AND the same key again makes no second message
    again = world.client.post(
        OUTBOX,
        json={"kind": "webhook", "url": receiver.url, "json": {}, "key": "k0"},
        headers=people["ed"],
    )
    assert again.json()["id"] == ids[0] and again.json()["state"] == "delivered"


def test_a_dead_message_is_redelivered_by_hand(
    scene: tuple[ApiWorld, dict[str, dict[str, str]]], receivers: Callable[..., Receiver]
) -> None:
    world, people = scene
    receiver = receivers(Reply(400, body=b"no"), Reply(200))
    sent = world.client.post(
        OUTBOX,
        json={"kind": "webhook", "url": receiver.url, "json": {"a": 1}},
        headers=people["ed"],
    ).json()
    _deliver_all(world, _tenant_id(world), [sent["id"]])
    dead = world.client.get(f"{OUTBOX}/{sent['id']}", headers=people["vera"]).json()
    assert (
        dead["state"] == "dead" and dead["last_error"] == "The receiver answered 400 Bad Request."
    )
    # WHEN a viewer tries to redeliver THEN refused; an editor may
    url = f"{OUTBOX}/{sent['id']}/redeliver"
    assert world.client.post(url, headers=people["vera"]).status_code == 403
    redelivered = world.client.post(url, headers=people["ed"])
    assert redelivered.status_code == 200 and redelivered.json()["state"] == "pending"
    # AND while pending, another redelivery is a conflict
    assert world.client.post(url, headers=people["ed"]).status_code == 409
    _deliver_all(world, _tenant_id(world), [sent["id"]])
    assert (
        world.client.get(f"{OUTBOX}/{sent['id']}", headers=people["vera"]).json()["state"]
        == "delivered"
    )


def test_a_blocked_destination_is_refused_in_plain_words(
    scene: tuple[ApiWorld, dict[str, dict[str, str]]],
) -> None:
    world, people = scene
    sent = world.client.post(
        OUTBOX,
        json={"kind": "webhook", "url": "http://169.254.169.254/latest", "json": {}},
        headers=people["ed"],
    ).json()
    _deliver_all(world, _tenant_id(world), [sent["id"]])
    shown = world.client.get(f"{OUTBOX}/{sent['id']}", headers=people["vera"]).json()
    assert (shown["state"], shown["last_code"]) == ("dead", "egress_blocked")
    assert "link-local" in shown["last_error"]


def test_outbound_connectors_keep_secrets_write_only_and_test_without_sending(
    scene: tuple[ApiWorld, dict[str, dict[str, str]]], receivers: Callable[..., Receiver]
) -> None:
    world, people = scene
    receiver = receivers()
    # WHEN the owner creates a webhook connector with a secret
    created = world.client.post(
        CONNECTORS,
        json={
            "kind": "webhook",
            "name": "erp",
            "config": {"url": f"{receiver.url}/erp"},
            "secrets": {"secret": CANARY_SECRET},
        },
        headers=people["olga"],
    )
    # THEN the secret is shown only as set
    assert created.status_code == 201, created.text
    assert created.json()["config"]["secret"] == {"set": True}
    listing = world.client.get(CONNECTORS, headers=people["olga"]).text
    assert CANARY_SECRET not in listing and CANARY_SECRET[6:] not in listing
    # WHEN its test button is pressed THEN ok, and the receiver got no request
    tested = world.client.post(f"{CONNECTORS}/{created.json()['id']}/test", headers=people["olga"])
    assert tested.json()["ok"] is True and receiver.seen == []
    # WHEN a webhook goes through the connector THEN it is signed, and no outbox view holds
    # the secret
    sent = world.client.post(
        OUTBOX,
        json={"kind": "webhook", "connector": "erp", "json": {"x": 1}},
        headers=people["ed"],
    ).json()
    _deliver_all(world, _tenant_id(world), [sent["id"]])
    assert receiver.seen[0].headers["webhook-signature"].startswith("v1,")
    assert CANARY_SECRET[6:] not in world.client.get(OUTBOX, headers=people["vera"]).text


def test_the_test_button_reports_a_blocked_destination(
    scene: tuple[ApiWorld, dict[str, dict[str, str]]],
) -> None:
    world, people = scene
    created = world.client.post(
        CONNECTORS,
        json={
            "kind": "http",
            "name": "internal",
            "config": {"base_url": "http://10.1.2.3/api", "auth": "bearer"},
            "secrets": {"token": "CANARY-token-1234567890"},
        },
        headers=people["olga"],
    ).json()
    tested = world.client.post(f"{CONNECTORS}/{created['id']}/test", headers=people["olga"]).json()
    assert tested["ok"] is False and tested["code"] == "egress_blocked"
    assert created["config"]["token"] == {"set": True}
