"""The start-up and periodic document reconcilers: the ledger and its claims, not the
queue, decide what is still to do."""

import subprocess
from collections import Counter

from agents.documents.ledger import DocumentLedger
from agents.documents.tasks import IndexTask, ParseTask
from agents.ingest.pipeline import IngestContext, LoadOriginal
from agents.ingest.service import IngestService
from app.tasks import queued_document_tasks
from tests.app.conftest import ApiWorld


def _setup(world: ApiWorld) -> tuple[IngestService, str]:
    world.tenant("acme")
    return world.runtime.ingest, world.services.system.find_tenant("acme").id


def _take_queued(world: ApiWorld) -> list[object]:
    """Everything queued, removed from the queue (what a killed process loses)."""
    huey = world.runtime.queue.huey
    return [task.args[0] for task in iter(huey.dequeue, None)]


def test_a_parse_interrupted_three_times_is_failed_as_crashed_not_retried_for_ever(
    world: ApiWorld,
) -> None:
    # GIVEN a document whose queued parse was taken by a worker
    ingest, tenant_id = _setup(world)
    received = ingest.receive(
        tenant_id, b"a note that kills the process", filename="n.txt", source="api"
    )
    ledger = ingest.ledger(tenant_id)
    _take_queued(world)
    for attempt in (1, 2, 3):
        # WHEN the parse starts (its first step) and the process dies right after it
        LoadOriginal().run(IngestContext(ledger, ledger.get(received.document.id)))
        assert ledger.get(received.document.id).attempts == attempt
        # AND the server starts again
        queued = ingest.reconcile(queued_document_tasks(world.runtime.queue))
        tasks = _take_queued(world)
        if attempt < 3:
            # THEN the parse is queued again, once
            assert queued == 1 and tasks == [ParseTask(tenant_id, received.document.id)]
    # THEN after the third interrupted attempt the document fails with a reason
    document = ledger.get(received.document.id)
    assert queued == 0 and tasks == []
    assert document.state == "failed" and document.error_code == "crashed"
    assert "interrupted 3 times" in (document.error_message or "")


def test_documents_still_in_the_queue_are_not_queued_twice(world: ApiWorld) -> None:
    # GIVEN two received documents and one parsed at once, each with its task queued
    ingest, tenant_id = _setup(world)
    kept = ingest.receive(tenant_id, b"kept in the queue", filename="a.txt", source="api")
    lost = ingest.receive(tenant_id, b"lost with the process", filename="b.txt", source="api")
    parsed = ingest.receive(
        tenant_id, b"parsed, not yet indexed", filename="c.txt", source="api", parse_now=True
    )
    assert parsed.document.state == "parsed"
    queue = world.runtime.queue
    keep = ParseTask(tenant_id, kept.document.id)
    # AND a killed process lost the second parse and the index task; the first stays queued
    taken = list(iter(queue.huey.dequeue, None))
    queue.huey.enqueue(next(task for task in taken if task.args[0] == keep))
    # WHEN the server starts again
    queued = ingest.reconcile(queued_document_tasks(queue))
    # THEN exactly the lost work is queued, and every document has exactly one task
    assert queued == 2
    waiting = Counter(_take_queued(world))
    assert waiting == Counter(
        {
            keep: 1,
            ParseTask(tenant_id, lost.document.id): 1,
            IndexTask(tenant_id, parsed.document.id): 1,
        }
    )


def _claim(ledger: DocumentLedger, document_id: str, holder: str) -> None:
    """The document as a process `holder` left it: parsing, claimed, just touched."""
    with ledger.db.write() as conn:
        conn.execute(
            "UPDATE documents SET state = 'parsing', claimed_by = ? WHERE id = ?",
            (holder, document_id),
        )


def test_the_periodic_pass_takes_over_dead_claims_at_once_and_leaves_live_ones(
    world: ApiWorld,
) -> None:
    # GIVEN three documents whose queued parses workers took: one was being parsed by a
    # process that has died, one by a process still alive, one's task was simply lost
    ingest, tenant_id = _setup(world)
    ids = [
        ingest.receive(
            tenant_id, f"note {n}".encode(), filename=f"{n}.txt", source="api"
        ).document.id
        for n in range(3)
    ]
    _take_queued(world)
    ledger = ingest.ledger(tenant_id)
    dead = subprocess.Popen(["true"])  # its pid names no process once reaped
    dead.wait()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        _claim(ledger, ids[0], f"{dead.pid}:1")
        _claim(ledger, ids[1], f"{alive.pid}:0")
        reconciler = world.runtime.fault_reconciler.documents
        # WHEN the reconciler passes at once
        queued = reconciler.run_once()
        # THEN only the dead process's document is queued again, without waiting
        assert queued == 1 and _take_queued(world) == [ParseTask(tenant_id, ids[0])]
        # WHEN the orphan grace has passed
        world.clock.advance(world.services.settings.queue.orphan_after_s + 1)
        queued = reconciler.run_once()
        # THEN the lost task is queued too; the live process keeps its document
        assert queued == 2
        assert Counter(_take_queued(world)) == Counter(
            {ParseTask(tenant_id, ids[0]): 1, ParseTask(tenant_id, ids[2]): 1}
        )
    finally:
        alive.kill()
        alive.wait()
