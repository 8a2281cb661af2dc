"""Transient faults while a document is processed never make it permanently failed
(B3); a malformed file still fails. Nothing waits for a restart: the periodic fault
reconciler moves the document on once the fault has cleared."""

from tests.app.faults.conftest import Volume, drain

# long enough that storing its text or its chunks needs fresh space on the volume
LONG_TEXT = "".join(
    f"Paragraph {n}: the delivery of order {n * 7} arrived on time and complete.\n"
    for n in range(300)
).encode()


def _run_only(world, task_name: str, volume: Volume | None = None) -> int:
    """A worker takes the queued tasks; with `volume`, the disk fills while it holds
    them (taking a task is itself a write); it runs those named `task_name`. Any other
    is lost, as if the process had died: the reconciler must find its document."""
    huey = world.runtime.queue.huey
    taken = list(iter(huey.dequeue, None))
    if volume is not None:
        volume.fill()
    ran = 0
    for task in taken:
        if task.name == task_name:
            huey.execute(task)
            ran += 1
    return ran


def _recover(world, volume: Volume) -> None:
    """The fault clears; time passes; the periodic reconciler runs; workers run."""
    volume.free()
    world.clock.advance(3 * 3600)
    world.runtime.fault_reconciler.run_once()
    drain(world)


def test_a_document_whose_text_cannot_be_stored_is_retried_not_failed(
    volume: Volume, fault_world
) -> None:
    # GIVEN a received document, and a disk that fills once a worker took its parse
    world = fault_world()
    tenant_id = world.tenant("acme").id
    ingest = world.runtime.ingest
    document = ingest.receive(tenant_id, LONG_TEXT, filename="long.txt", source="upload").document
    # WHEN the parse runs on the full disk
    assert _run_only(world, "ingest.parse", volume) == 1
    # THEN the document is not failed (at most its fault is noted on it)
    ledger = ingest.ledger(tenant_id)
    assert ledger.get(document.id).state in ("received", "parsing")
    # WHEN space returns (no restart)
    _recover(world, volume)
    # THEN it is indexed, with its original byte-identical
    assert ledger.get(document.id).state == "indexed"
    assert ledger.original(document.id)[1] == LONG_TEXT


def test_a_document_whose_chunks_cannot_be_stored_is_indexed_once_space_returns(
    volume: Volume, fault_world
) -> None:
    # GIVEN a parsed document waiting for indexing, and then a full disk
    world = fault_world()
    tenant_id = world.tenant("acme").id
    ingest = world.runtime.ingest
    document = ingest.receive(tenant_id, LONG_TEXT, filename="long.txt", source="upload").document
    assert _run_only(world, "ingest.parse") == 1
    ledger = ingest.ledger(tenant_id)
    assert ledger.get(document.id).state == "parsed"
    # WHEN indexing runs on the full disk
    assert _run_only(world, "analyze.index", volume) == 1
    # THEN the document is not failed
    assert ledger.get(document.id).state in ("parsed", "indexing")
    # WHEN space returns THEN it is indexed without a restart
    _recover(world, volume)
    assert ledger.get(document.id).state == "indexed"


def test_a_malformed_file_still_fails_for_good(volume: Volume, fault_world) -> None:
    # GIVEN a file that claims to be a PDF and is not
    world = fault_world()
    tenant_id = world.tenant("acme").id
    ingest = world.runtime.ingest
    document = ingest.receive(
        tenant_id, b"%PDF-1.7\n this is no PDF at all", filename="bad.pdf", source="upload"
    ).document
    # WHEN it is parsed, and the reconciler passes later
    drain(world)
    _recover(world, volume)
    # THEN it failed with a reason, and stays failed
    record = ingest.ledger(tenant_id).get(document.id)
    assert record.state == "failed" and record.error_code == "malformed"
