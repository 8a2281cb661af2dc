"""The queue task drains: one task delivers the due messages of its tenant, each once;
the other tasks then find nothing to do. Start-up resume brings back interrupted ones."""

from collections.abc import Callable

from agents.act import outbox
from agents.act.dispatcher import DeliverTask
from tests.agents.act.conftest import Actions
from tests.agents.act.receivers import Receiver


def test_one_task_delivers_every_due_message_once(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN 40 completed webhook steps, each with its queued task
    receiver = receiver_factory()
    for n in range(40):
        actions.complete("webhook", {"url": receiver.url, "json": {"n": n}}, run_id=f"r{n}")
    tasks = [task for task, _ in actions.queued]

    # WHEN the first task runs as the queue runs it, then all the others
    first = actions.dispatcher.deliver_and_drain(tasks[0])
    rest = [actions.dispatcher.deliver_and_drain(task) for task in tasks[1:]]

    # THEN the first delivered all 40, the rest did nothing, the receiver got each once
    assert first == 40 and set(rest) == {0}
    assert sorted(b["n"] for b in receiver.json_bodies()) == list(range(40))
    assert outbox.counts(actions.db)["delivered"] == 40


def test_messages_left_delivering_by_a_killed_process_resume_at_start(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN a message claimed by a process that was then killed (state delivering)
    receiver = receiver_factory()
    result = actions.complete("webhook", {"url": receiver.url, "json": {}})
    message_id = result.output["message_id"]
    actions.queued.clear()  # the killed process lost its task
    assert outbox.claim(actions.db, message_id, actions.clock(), 300) is not None

    # WHEN the dispatcher resumes at start-up
    resumed = actions.dispatcher.resume(startup=True)

    # THEN the message is pending and queued again, and delivered
    assert resumed == 1 and actions.queued[0][0] == DeliverTask(actions.tenant_id, message_id)
    actions.deliver_queued()
    assert outbox.get_message(actions.db, message_id).state == "delivered"
