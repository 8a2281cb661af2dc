"""A full disk during intake: a clear 507, nothing half-stored, nothing stuck afterwards.

B1 (a full disk is 507 with a plain reason) and B2 (an arrival is acknowledged only when
durable and its next step is queued or will be found by the reconciler; a retry does not
deduplicate onto a stuck row), on a real tmpfs filled by the test.
"""

from pathlib import Path

from agents.documents.tasks import ParseTask
from agents.ingest.service import IngestService
from app.runtime import parse_limits_of
from tests.app.faults.conftest import Volume, drain, states, upload
from tests.conftest import run_cli

TEXT = "Quarterly invoice from Example Ltd.\nTotal due: 1,234.56 EUR.\n" * 200


def test_an_upload_on_a_full_disk_is_507_and_its_retry_after_freeing_space_is_indexed(
    volume: Volume, fault_world
) -> None:
    # GIVEN an editor, a document already indexed, and then a full data volume
    world = fault_world()
    world.user("ann")
    world.tenant("acme", ann="editor")
    headers = world.bearer("ann")
    assert (
        upload(world, "acme", headers, "kept.txt", b"kept before the disk filled").status_code
        == 202
    )
    drain(world)
    volume.fill()
    # WHEN a document is uploaded
    refused = upload(world, "acme", headers, "late.txt", TEXT.encode())
    # THEN the answer is 507 insufficient_storage with a plain reason, not a 500
    assert refused.status_code == 507, refused.text
    assert refused.json()["code"] == "insufficient_storage"
    assert "disk is full" in refused.json()["detail"]
    # WHEN space is freed and the client sends the same upload again (no restart)
    volume.free()
    accepted = upload(world, "acme", headers, "late.txt", TEXT.encode())
    assert accepted.status_code == 202, accepted.text
    drain(world)
    # THEN both documents are indexed and the stored originals are byte-identical
    tenant_id = world.services.system.find_tenant("acme").id
    assert states(world, tenant_id) == {"kept.txt": "indexed", "late.txt": "indexed"}
    document_id = accepted.json()["items"][0]["id"]
    original = world.client.get(
        f"/api/v1/tenants/acme/documents/{document_id}/original", headers=headers
    )
    assert original.content == TEXT.encode()


def _ingest_that_fills_the_disk_before_queueing(world, volume: Volume) -> IngestService:
    """The real ingest service and queue, with the disk filling up exactly between the
    ledger row's commit and the queueing of its parse (the B2 window)."""
    runtime = world.runtime
    refused: list[Exception] = []
    world.queue_refusals = refused

    def enqueue_parse_on_a_full_disk(task: ParseTask) -> object:
        volume.fill()
        try:
            return runtime.enqueue.parse(task)
        except Exception as exc:
            refused.append(exc)
            raise

    return IngestService(
        world.services.tenants,
        runtime.sandbox.parse,
        parse_limits_of(world.services.settings),
        enqueue_parse_on_a_full_disk,
        runtime.enqueue.index,
        clock=world.clock,
    )


def test_an_arrival_whose_parse_cannot_be_queued_is_picked_up_without_a_restart(
    volume: Volume, fault_world
) -> None:
    # GIVEN a disk that fills up after an arrival's row is committed, before its parse is queued
    world = fault_world()
    tenant_id = world.tenant("acme").id
    ingest = _ingest_that_fills_the_disk_before_queueing(world, volume)
    # WHEN the document arrives
    result = ingest.receive(tenant_id, TEXT.encode(), filename="a.txt", source="upload")
    # THEN the queue refused the task (the disk was full) and yet the arrival is accepted:
    # its row and original are durable
    assert world.queue_refusals, "the queue took the task: the fault did not happen"
    ledger = world.runtime.ingest.ledger(tenant_id)
    assert ledger.original(result.document.id)[1] == TEXT.encode()
    assert ledger.get(result.document.id).state == "received"
    # WHEN space returns and the fault reconciler makes its periodic pass (no restart)
    volume.free()
    world.clock.advance(3600)
    assert world.runtime.fault_reconciler.run_once().documents == 1
    drain(world)
    # THEN the document is indexed
    assert ledger.get(result.document.id).state == "indexed"


def test_a_retry_of_an_arrival_held_up_by_a_full_disk_does_not_dedupe_onto_a_stuck_row(
    volume: Volume, fault_world
) -> None:
    # GIVEN an arrival committed while its parse could not be queued (the disk filled)
    world = fault_world()
    tenant_id = world.tenant("acme").id
    stuck = _ingest_that_fills_the_disk_before_queueing(world, volume).receive(
        tenant_id, TEXT.encode(), filename="a.txt", source="upload"
    )
    # WHEN space returns and the client sends the same content again
    volume.free()
    world.clock.advance(60)
    again = world.runtime.ingest.receive(
        tenant_id, TEXT.encode(), filename="a.txt", source="upload"
    )
    drain(world)
    # THEN the retry is the same document, and it moves on to indexed
    assert again.duplicate and again.document.id == stuck.document.id
    assert world.runtime.ingest.ledger(tenant_id).get(stuck.document.id).state == "indexed"


def test_the_cli_says_in_one_line_that_the_disk_is_full(
    volume: Volume, appliance_on_volume: tuple[Path, Path], tmp_path: Path
) -> None:
    # GIVEN a data volume below the intake threshold, and a file to ingest
    data, config = appliance_on_volume
    document = tmp_path / "note.txt"
    document.write_text(TEXT)
    volume.fill(leave=2 * 2**20)
    # WHEN `appliance ingest` runs
    done = run_cli(
        "ingest",
        str(document),
        "--tenant",
        "demo",
        "--data-dir",
        str(data),
        "--config",
        str(config),
    )
    # THEN it exits non-zero with one plain line, no traceback
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert any("disk is (almost) full" in line for line in lines), done.stderr
    assert "Traceback" not in done.stderr
