"""Delivery attempts follow the Svix schedule, honour Retry-After, stop on refusing 4xx,
disable an endpoint on 410, and reach a receiver that was down for a while."""

from collections.abc import Callable

import pytest

from agents.act import outbox
from agents.act.schedule import RETRY_SCHEDULE_S
from tests.agents.act.conftest import Actions
from tests.agents.act.receivers import Receiver, Reply
from tests.conftest import free_port


def _queue_webhook(actions: Actions, url: str, run_id: str = "run1") -> str:
    result = actions.complete("webhook", {"url": url, "json": {"run": run_id}}, run_id=run_id)
    return str(result.output["message_id"])


def _attempt(actions: Actions) -> float:
    """Run the queued attempt; returns the delay of the next one queued (or -1)."""
    actions.deliver_queued()
    if not actions.queued:
        return -1.0
    delay = actions.queued[-1][1]
    actions.clock.advance(delay)
    return delay


def test_a_failing_receiver_is_retried_on_the_schedule_until_dead(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN a receiver that always answers 503
    receiver = receiver_factory(Reply(503, body=b"down"))
    message_id = _queue_webhook(actions, f"{receiver.url}/hook")

    # WHEN every scheduled attempt runs
    delays = [_attempt(actions) for _ in range(len(RETRY_SCHEDULE_S))]

    # THEN the waits are 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then it is dead
    assert delays == [*RETRY_SCHEDULE_S[1:], -1.0]
    message = outbox.get_message(actions.db, message_id)
    assert (message.state, message.attempts, message.last_status) == ("dead", 8, 503)
    assert "503" in (message.last_error or "") and "8 attempts" in (message.last_error or "")
    assert len(receiver.seen) == 8


def test_retry_after_longer_than_the_schedule_is_honoured(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN a receiver answering 429 with Retry-After: 120, then 200
    receiver = receiver_factory(Reply(429, {"Retry-After": "120"}), Reply(200))
    message_id = _queue_webhook(actions, receiver.url)

    # WHEN the first attempt runs
    first = _attempt(actions)

    # THEN the next waits 120 s (not 5 s), and then it is delivered
    assert first == 120.0
    assert _attempt(actions) == -1.0
    assert outbox.get_message(actions.db, message_id).state == "delivered"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_refusing_4xx_stops_at_once(
    actions: Actions, receiver_factory: Callable[..., Receiver], status: int
) -> None:
    # GIVEN a receiver refusing the message
    receiver = receiver_factory(Reply(status))
    message_id = _queue_webhook(actions, receiver.url)

    # WHEN it is delivered THEN one attempt, dead, no retry queued
    assert _attempt(actions) == -1.0
    message = outbox.get_message(actions.db, message_id)
    assert (message.state, message.attempts, message.last_status) == ("dead", 1, status)


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 502])
def test_retryable_answers_are_retried(
    actions: Actions, receiver_factory: Callable[..., Receiver], status: int
) -> None:
    receiver = receiver_factory(Reply(status), Reply(200))
    message_id = _queue_webhook(actions, receiver.url)
    # WHEN two attempts run THEN the second delivers it
    assert _attempt(actions) == 5.0
    _attempt(actions)
    assert outbox.get_message(actions.db, message_id).state == "delivered"


def test_410_disables_the_endpoint_until_redelivered(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN an endpoint that answers 410 Gone once, then 200
    receiver = receiver_factory(Reply(410), Reply(200))
    first = _queue_webhook(actions, f"{receiver.url}/hook", "run1")
    _attempt(actions)

    # WHEN another message goes to the same endpoint
    second = _queue_webhook(actions, f"{receiver.url}/hook", "run2")
    _attempt(actions)

    # THEN both are disabled, the second was never sent, and the endpoint is marked
    assert outbox.get_message(actions.db, first).state == "disabled"
    assert outbox.get_message(actions.db, second).last_code == "endpoint_disabled"
    assert len(receiver.seen) == 1
    assert outbox.disabled_endpoints(actions.db)

    # AND a redelivery enables the endpoint again and the message arrives
    actions.dispatcher.redeliver(actions.tenant_id, first)
    _attempt(actions)
    assert outbox.get_message(actions.db, first).state == "delivered"
    assert outbox.disabled_endpoints(actions.db) == {}


def test_a_receiver_down_for_a_while_gets_the_message_once_back(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN a port nobody listens on yet
    port = free_port()
    message_id = _queue_webhook(actions, f"http://127.0.0.1:{port}/hook")

    # WHEN two attempts fail (connection refused), then the receiver starts
    _attempt(actions)
    _attempt(actions)
    down = outbox.get_message(actions.db, message_id)
    receiver = receiver_factory(port=port)
    _attempt(actions)

    # THEN the failures were recorded in plain words and the third attempt delivered it
    assert down.state == "pending" and "Could not connect" in (down.last_error or "")
    message = outbox.get_message(actions.db, message_id)
    assert (message.state, message.attempts) == ("delivered", 3)
    assert receiver.json_bodies() == [{"run": "run1"}]


def test_a_step_that_runs_twice_makes_one_message(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN a step completed twice for the same run (at-least-once engine)
    receiver = receiver_factory()
    first = _queue_webhook(actions, receiver.url, "same-run")
    second = _queue_webhook(actions, receiver.url, "same-run")

    # WHEN everything queued is delivered
    actions.deliver_queued()

    # THEN there is one message and the receiver got it once
    assert first == second
    assert outbox.counts(actions.db)["delivered"] == 1
    assert len(receiver.seen) == 1
