"""The drop-box set follows the tenant list: sync is idempotent and safe to run concurrently.

Start-up syncs the inboxes while the periodic `ingest.sync_dropboxes` task (a queue
thread) may sync too; before the fix the slower one failed with "tenant 'x' already has
a drop box" and the server did not start.
"""

import threading
from collections.abc import Iterator

import pytest

from agents.ingest.sources.inboxes import DropBoxes
from app.runtime import build_runtime, dropbox_config
from app.services import Services

TENANTS = 50


@pytest.fixture
def many_tenants(services: Services) -> Services:
    for number in range(TENANTS):
        services.tenants.create(f"t{number:02d}")
    return services


@pytest.fixture
def dropboxes(many_tenants: Services) -> Iterator[DropBoxes]:
    runtime = build_runtime(many_tenants)
    boxes = DropBoxes(
        many_tenants.system.list_tenants,
        many_tenants.data.inbox_dir,
        dropbox_config(many_tenants.settings),
        runtime.ingest,
        many_tenants.settings.ingest.max_file_mb * 2**20,
    )
    yield boxes
    boxes.stop()


def _slugs(services: Services) -> set[str]:
    return {t.slug for t in services.system.list_tenants()}


def test_concurrent_syncs_with_fifty_tenants_leave_exactly_one_box_each(
    many_tenants: Services, dropboxes: DropBoxes
) -> None:
    # GIVEN 51 tenants (demo + 50) and no inbox watched yet
    threads = 8
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def sync() -> None:
        barrier.wait()
        try:
            dropboxes.sync()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    # WHEN eight syncs run at the same moment (start-up and the periodic task)
    workers = [threading.Thread(target=sync) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    # THEN none fails and every tenant has its one inbox
    assert errors == []
    assert set(dropboxes._manager.slugs()) == _slugs(many_tenants)


def test_sync_again_is_a_no_op_and_follows_created_and_deleted_tenants(
    many_tenants: Services, dropboxes: DropBoxes
) -> None:
    # GIVEN a synced set
    dropboxes.sync()
    first = {slug: dropboxes._manager.get(slug) for slug in dropboxes._manager.slugs()}
    # WHEN a tenant is added, one deleted, and sync runs twice more
    many_tenants.tenants.create("late")
    gone = many_tenants.system.find_tenant("t07")
    many_tenants.tenants.delete(gone.id)
    dropboxes.sync()
    dropboxes.sync()
    # THEN existing boxes are the very same objects, the new tenant has one, the deleted none
    now = set(dropboxes._manager.slugs())
    assert now == _slugs(many_tenants)
    assert "late" in now and "t07" not in now
    assert all(dropboxes._manager.get(slug) is first[slug] for slug in now - {"late"})
