"""The queue task drains: one task delivers the due messages of its tenant, each once;
the other tasks then find nothing to do. Start-up resume brings back interrupted ones."""

from collections.abc import Callable

from agents.act import outbox
from agents.act.dispatcher import DeliverTask
from agents.supervisor.step import StepContext
from tests.agents.act.conftest import Actions
from tests.agents.act.receivers import Receiver


def test_one_task_delivers_every_due_message_once(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN 40 webhook steps completed in a row
    receiver = receiver_factory()
    for n in range(40):
        actions.complete("webhook", {"url": receiver.url, "json": {"n": n}}, run_id=f"r{n}")

    # WHEN the queue runs what was queued
    tasks = [task for task, _ in actions.queued]
    attempts = actions.deliver_queued()

    # THEN one drain task was queued and delivered all 40, each once
    assert len(tasks) == 1 and attempts == [40]
    assert sorted(b["n"] for b in receiver.json_bodies()) == list(range(40))
    assert outbox.counts(actions.db)["delivered"] == 40
    # AND a message completed after the drain finished queues a new one
    actions.complete("webhook", {"url": receiver.url, "json": {"n": 40}}, run_id="r40")
    assert actions.deliver_queued() == [1]


def test_a_drain_stops_at_its_limit_and_queues_the_next(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    receiver = receiver_factory()
    for n in range(5):
        actions.complete("webhook", {"url": receiver.url, "json": {"n": n}}, run_id=f"l{n}")
    task = actions.queued.pop()[0]
    # WHEN a drain may make 3 attempts THEN the rest is queued again
    assert actions.dispatcher.deliver_and_drain(task, limit=2) == 3
    assert actions.queued and actions.deliver_queued()
    assert outbox.counts(actions.db)["delivered"] == 5


def test_messages_left_delivering_by_a_killed_process_resume_at_start(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN a message claimed by a process that was then killed (state delivering)
    receiver = receiver_factory()
    ctx = StepContext(actions.tenant_id, run_id="killed", step_id="webhook")
    result = actions.step("webhook").run(ctx, {"url": receiver.url, "json": {}})
    with actions.db.write() as conn:  # committed; the process died before queueing
        for write in result.on_commit:
            write(conn)
    message_id = result.output["message_id"]
    assert outbox.claim(actions.db, message_id, actions.clock(), 300) is not None

    # WHEN the dispatcher resumes at start-up
    resumed = actions.dispatcher.resume(startup=True)

    # THEN the message is pending and queued again, and delivered
    assert resumed == 1 and actions.queued[0][0] == DeliverTask(actions.tenant_id, message_id)
    actions.deliver_queued()
    assert outbox.get_message(actions.db, message_id).state == "delivered"
