"""Drop box behaviour on a real file system with real watchdog observers."""

from __future__ import annotations

import os
import threading
import time
import warnings
from datetime import datetime
from pathlib import Path

from agents.ingest.sources.dropbox import DropBox, DropOutcome
from tests.agents.test_ingest_dropbox_support import (
    LedgerSink,
    fast_config,
    left_in_inbox,
    reason,
    wait_until,
)


def test_files_present_at_start_up_are_processed(tmp_path: Path) -> None:
    # GIVEN an inbox that already holds a valid and a corrupt file
    inbox = tmp_path / "inbox" / "acme"
    inbox.mkdir(parents=True)
    (inbox / "a.txt").write_bytes(b"hello")
    (inbox / "b.txt").write_bytes(b"CORRUPT bytes")
    sink = LedgerSink()
    # WHEN the drop box starts and drains
    with DropBox(inbox, sink, fast_config()) as box:
        assert box.drain(10)
    # THEN both were taken once and moved according to the outcome
    assert sorted(sink.names()) == ["a.txt", "b.txt"]
    assert (inbox / ".done" / "a.txt").read_bytes() == b"hello"
    assert (inbox / ".failed" / "b.txt").read_bytes() == b"CORRUPT bytes"
    assert reason(inbox, "b.txt")["code"] == "malformed"
    assert left_in_inbox(inbox) == []


def test_starting_with_files_that_fail_at_once_leaves_watchdog_quiet(
    tmp_path: Path,
) -> None:
    # GIVEN inboxes holding links, which are failed at once (no wait for stability)
    outside = tmp_path / "outside"
    outside.mkdir()
    sink = LedgerSink()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(400):
            inbox = tmp_path / f"inbox{i}"
            inbox.mkdir()
            (inbox / "link.txt").symlink_to(outside / "file.txt")
            (inbox / "link").symlink_to(outside, target_is_directory=True)
            # WHEN a box starts, fails the links and stops, many times over
            with DropBox(inbox, sink, fast_config()) as box:
                assert box.drain(10)
            assert reason(inbox, "link.txt")["code"] == "forbidden"
    # THEN watchdog never saw .failed appear while it was still walking the inbox
    # (it warned "Callback with id ... already exists" in a few starts in a hundred)
    assert [str(w.message) for w in caught] == []


def test_new_file_is_picked_up_by_file_events_without_a_rescan(tmp_path: Path) -> None:
    # GIVEN a running box whose periodic rescan is far away (only events can find files)
    sink = LedgerSink()
    with DropBox(tmp_path, sink, fast_config(poll_interval_s=3600)) as box:
        assert box.drain(5)  # the start-up scan is done; the next one is an hour away
        # WHEN a file is dropped
        (tmp_path / "new.txt").write_bytes(b"fresh")
        # THEN it is taken and moved without drain() forcing a scan
        assert wait_until(lambda: (tmp_path / ".done" / "new.txt").exists())
    assert sink.names() == ["new.txt"]


def test_periodic_scans_alone_pick_up_new_files(tmp_path: Path) -> None:
    # GIVEN a box with file events disabled (as if events were lost on a network mount)
    sink = LedgerSink()
    with DropBox(tmp_path, sink, fast_config(use_events=False)):
        time.sleep(0.3)
        # WHEN a file is dropped after start-up
        (tmp_path / "polled.txt").write_bytes(b"found by polling")
        # THEN a rescan finds it
        assert wait_until(lambda: (tmp_path / ".done" / "polled.txt").exists())
    assert sink.names() == ["polled.txt"]


def test_polling_observer_picks_up_new_files(tmp_path: Path) -> None:
    # GIVEN a box that uses watchdog's PollingObserver (for network mounts)
    sink = LedgerSink()
    with DropBox(tmp_path, sink, fast_config(use_polling_observer=True)):
        time.sleep(0.3)
        # WHEN a file is dropped
        (tmp_path / "nfs.txt").write_bytes(b"on a mount")
        # THEN it is taken once
        assert wait_until(lambda: (tmp_path / ".done" / "nfs.txt").exists())
    assert sink.names() == ["nfs.txt"]


def test_slowly_written_file_is_taken_once_after_it_stopped_changing(tmp_path: Path) -> None:
    # GIVEN a box that needs a file to be unchanged for 1 s
    sink = LedgerSink()
    chunks = [bytes([65 + i]) * 1024 for i in range(10)]
    last_write = 0.0
    with DropBox(tmp_path, sink, fast_config(stable_for_s=1.0)) as box:
        # WHEN a file is written in 10 chunks of 1 KiB, 0.3 s apart
        with (tmp_path / "slow.bin").open("wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                fh.flush()
                last_write = time.monotonic()
                time.sleep(0.3)
        assert wait_until(lambda: (tmp_path / ".done" / "slow.bin").exists())
        assert box.drain(10)
    # THEN the sink saw it exactly once, complete, and not before it had been quiet 1 s
    assert len(sink.calls) == 1
    assert sink.calls[0].content == b"".join(chunks)
    assert sink.calls[0].at >= last_write + 1.0


def test_name_collisions_get_a_numbered_name_and_overwrite_nothing(tmp_path: Path) -> None:
    # GIVEN earlier results with the same names, and two subfolders with equal file names
    (tmp_path / ".done").mkdir()
    (tmp_path / ".done" / "report.pdf").write_bytes(b"earlier report")
    (tmp_path / ".failed").mkdir()
    (tmp_path / ".failed" / "bad.txt").write_bytes(b"earlier failure")
    (tmp_path / "report.pdf").write_bytes(b"new report")
    (tmp_path / "bad.txt").write_bytes(b"CORRUPT again")
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_bytes(f"from {folder}".encode())
    sink = LedgerSink()
    # WHEN the box processes them
    with DropBox(tmp_path, sink, fast_config()) as box:
        assert box.drain(10)
    # THEN the new files get " (2)" names and the earlier ones are untouched
    assert (tmp_path / ".done" / "report.pdf").read_bytes() == b"earlier report"
    assert (tmp_path / ".done" / "report (2).pdf").read_bytes() == b"new report"
    assert (tmp_path / ".failed" / "bad.txt").read_bytes() == b"earlier failure"
    assert (tmp_path / ".failed" / "bad (2).txt").read_bytes() == b"CORRUPT again"
    assert reason(tmp_path, "bad (2).txt")["code"] == "malformed"
    same = {(tmp_path / ".done" / n).read_bytes() for n in ("same.txt", "same (2).txt")}
    assert same == {b"from x", b"from y"}
    assert left_in_inbox(tmp_path) == []


def test_sink_exception_fails_the_file_as_internal_and_watching_goes_on(
    tmp_path: Path,
) -> None:
    # GIVEN a file on which the sink raises
    (tmp_path / "boom.txt").write_bytes(b"BOOM")
    sink = LedgerSink()
    with DropBox(tmp_path, sink, fast_config()) as box:
        assert box.drain(10)
        # WHEN another file arrives afterwards
        (tmp_path / "later.txt").write_bytes(b"still working")
        assert box.drain(10)
    # THEN the first failed with code "internal" and the message only, the second is done
    why = reason(tmp_path, "boom.txt")
    assert why["code"] == "internal"
    assert why["message"] == "ledger unavailable: database is locked"
    assert "Traceback" not in (tmp_path / ".failed" / "boom.txt.reason.json").read_text()
    assert (tmp_path / ".done" / "later.txt").exists()


def test_reason_file_carries_code_message_utc_time_and_document_id(tmp_path: Path) -> None:
    # GIVEN a sink that fails a file but names the document it recorded
    def sink(path: Path, relative_name: str) -> DropOutcome:
        return DropOutcome.failed("unsupported", "not a document", document_id="doc-9")

    (tmp_path / "data.bin").write_bytes(b"\x00\x01")
    # WHEN it is processed
    with DropBox(tmp_path, sink, fast_config()) as box:
        assert box.drain(10)
    # THEN the reason file is complete JSON with an ISO 8601 UTC time
    why = reason(tmp_path, "data.bin")
    assert why["code"] == "unsupported"
    assert why["message"] == "not a document"
    assert why["document_id"] == "doc-9"
    assert why["relative_name"] == "data.bin"
    stamp = datetime.fromisoformat(str(why["time"]))
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0
    assert sorted(p.name for p in (tmp_path / ".failed").iterdir()) == [
        "data.bin",
        "data.bin.reason.json",
    ]


def test_stop_is_prompt_and_leaves_no_threads(tmp_path: Path) -> None:
    # GIVEN a running box with a long poll interval
    before = set(threading.enumerate())
    box = DropBox(tmp_path, LedgerSink(), fast_config(poll_interval_s=3600))
    box.start()
    assert box.running
    # WHEN it is stopped
    started = time.monotonic()
    box.stop()
    # THEN stop returns well inside its bound and its threads are gone
    assert time.monotonic() - started < 3.0
    assert not box.running
    assert wait_until(lambda: set(threading.enumerate()) <= before, timeout=5)


def test_stop_between_files_does_not_wait_for_the_whole_inbox(tmp_path: Path) -> None:
    # GIVEN 50 files and a sink that takes 0.1 s per file
    for i in range(50):
        (tmp_path / f"f{i}.txt").write_bytes(b"x%d" % i)
    inner = LedgerSink()

    def slow_sink(path: Path, relative_name: str) -> DropOutcome:
        time.sleep(0.1)
        return inner(path, relative_name)

    box = DropBox(tmp_path, slow_sink, fast_config(stable_for_s=0.0))
    box.start()
    assert wait_until(lambda: len(inner.calls) >= 1)
    # WHEN it is stopped while working through them
    started = time.monotonic()
    box.stop()
    # THEN it stops after the current file, leaving the rest for the next start
    assert time.monotonic() - started < 3.0
    assert len(inner.calls) < 50
    assert len(os.listdir(tmp_path / ".done")) == len(inner.calls)
