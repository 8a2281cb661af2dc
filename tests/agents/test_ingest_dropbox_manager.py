"""DropBoxManager: one inbox per tenant, tenants added and removed while running."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from agents.ingest.sources.dropbox import DropBoxManager
from tests.agents.test_ingest_dropbox_support import LedgerSink, fast_config, wait_until


def test_each_tenant_inbox_goes_to_its_own_sink(tmp_path: Path) -> None:
    # GIVEN two tenants with a file each, present at start-up
    sinks = {"acme": LedgerSink(), "globex": LedgerSink()}
    for slug in sinks:
        (tmp_path / slug).mkdir()
        (tmp_path / slug / "memo.txt").write_bytes(f"memo of {slug}".encode())
    manager = DropBoxManager(fast_config())
    for slug, sink in sinks.items():
        manager.add(slug, tmp_path / slug, sink)
    # WHEN the manager runs
    with manager:
        assert manager.drain(10)
        (tmp_path / "globex" / "late.txt").write_bytes(b"late globex")
        assert manager.drain(10)
    # THEN every file reached its own tenant's sink only
    assert [c.content for c in sinks["acme"].calls] == [b"memo of acme"]
    assert sorted(c.content for c in sinks["globex"].calls) == [b"late globex", b"memo of globex"]
    assert manager.slugs() == ["acme", "globex"]


def test_tenant_added_while_running_is_watched_and_removed_one_is_not(tmp_path: Path) -> None:
    # GIVEN a running manager with no tenants
    before = set(threading.enumerate())
    sink = LedgerSink()
    with DropBoxManager(fast_config()) as manager:
        # WHEN a tenant is added at runtime, its inbox created on the way
        box = manager.add("initech", tmp_path / "initech", sink)
        assert box.running
        (tmp_path / "initech" / "a.txt").write_bytes(b"a")
        assert wait_until(lambda: (tmp_path / "initech" / ".done" / "a.txt").exists())
        # AND then removed
        manager.remove("initech")
        (tmp_path / "initech" / "b.txt").write_bytes(b"b")
        time.sleep(0.6)
        # THEN files dropped after removal stay where they are
        assert (tmp_path / "initech" / "b.txt").exists()
        assert manager.slugs() == []
    assert sink.names() == ["a.txt"]
    assert wait_until(lambda: set(threading.enumerate()) <= before, timeout=5)


def test_same_tenant_or_overlapping_inbox_is_refused(tmp_path: Path) -> None:
    # GIVEN a manager with one tenant
    manager = DropBoxManager(fast_config())
    manager.add("acme", tmp_path / "acme", LedgerSink())
    # WHEN the same slug, the same inbox or a folder inside it is added THEN it is refused
    with pytest.raises(ValueError, match="already"):
        manager.add("acme", tmp_path / "other", LedgerSink())
    for inbox in (tmp_path / "acme", tmp_path / "acme" / "sub", tmp_path):
        with pytest.raises(ValueError, match="overlaps"):
            manager.add("globex", inbox, LedgerSink())
    assert manager.slugs() == ["acme"]
