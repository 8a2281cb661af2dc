"""A parser child killed for memory (the kernel's OOM killer in a memory cgroup, as on a
starved machine) makes the document wait and retry, never `failed` (B3)."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.runtime import parse_limits_of
from tests.app.faults.conftest import Volume, drain

pytestmark = pytest.mark.slow

MEMORY_CGROUPS = Path("/sys/fs/cgroup/memory")
TEXT = "".join(f"Line {n} of a report that a starved machine could not read.\n" for n in range(800))


def _sandbox_workers() -> list[int]:
    """Pids of this process's parser workers."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"agents.ingest.sandbox.worker" in cmdline:
            found.append(int(entry.name))
    return found


def _oom_kills(group: Path) -> int:
    """How many processes the kernel's OOM killer killed in `group` (v1 or v2)."""
    counters = group / "memory.oom_control"
    if not counters.exists():
        counters = group / "memory.events"
    for line in counters.read_text().splitlines():
        name, _, value = line.partition(" ")
        if name == "oom_kill":
            return int(value)
    return 0


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (needed in CI)")
    pytest.skip(reason)


def _memory_root() -> tuple[Path, str]:
    """The memory cgroup hierarchy and the file that caps a group: v1, else v2."""
    if MEMORY_CGROUPS.is_dir():
        return MEMORY_CGROUPS, "memory.limit_in_bytes"
    unified = Path("/sys/fs/cgroup")
    controllers = unified / "cgroup.controllers"
    if controllers.exists() and "memory" in controllers.read_text().split():
        try:
            (unified / "cgroup.subtree_control").write_text("+memory")
        except OSError:
            pass  # already enabled, or the group below tells
        return unified, "memory.max"
    _unavailable("no memory cgroup controller")
    raise AssertionError("unreachable")


@pytest.fixture
def starved_cgroup() -> Iterator[Path]:
    """A memory cgroup with a 128 KiB limit on new allocations (charges made before a
    process moves in stay where they were)."""
    root, cap = _memory_root()
    group = root / f"appliance-faults-{uuid.uuid4().hex[:8]}"
    try:
        group.mkdir()
        (group / cap).write_text(str(128 << 10))
    except OSError as exc:
        _unavailable(f"cannot create a memory cgroup: {exc}")
    try:
        yield group
    finally:
        for pid in (group / "cgroup.procs").read_text().split():
            try:
                (root / "cgroup.procs").write_text(pid)
            except OSError:
                pass  # gone already
        group.rmdir()


def test_a_parser_killed_for_memory_is_retried_and_the_document_indexed(
    volume: Volume, fault_world, starved_cgroup: Path
) -> None:
    # GIVEN warm parser workers moved into a memory cgroup with almost no room left
    world = fault_world(ingest={"parse_workers": 1})
    tenant_id = world.tenant("acme").id
    world.runtime.sandbox.warm_up(parse_limits_of(world.services.settings))
    workers = _sandbox_workers()
    assert workers, "no parser worker was started"
    for pid in workers:
        (starved_cgroup / "cgroup.procs").write_text(str(pid))
    # WHEN a document is parsed
    ingest = world.runtime.ingest
    document = ingest.receive(tenant_id, TEXT.encode(), filename="r.txt", source="upload").document
    drain(world)
    # THEN the kernel killed the parser, and the document waits for another try
    record = ingest.ledger(tenant_id).get(document.id)
    # (the kernel may kill more than once: a worker respawned into the group dies too)
    assert _oom_kills(starved_cgroup) >= 1
    assert record.state == "received" and record.error_code == "parser_killed"
    # WHEN memory is available again (a fresh worker) and the fault reconciler passes
    world.clock.advance(3 * 3600)
    assert world.runtime.fault_reconciler.run_once().documents == 1
    drain(world)
    # THEN the document is indexed and its original intact
    assert ingest.ledger(tenant_id).get(document.id).state == "indexed"
    assert ingest.ledger(tenant_id).original(document.id)[1] == TEXT.encode()
