"""Drop box: links, special files, temp names, subfolders, vanishing and unreadable files."""

from __future__ import annotations

import os
import time
from pathlib import Path

from agents.ingest.sources.dropbox import DropBox, DropOutcome
from tests.agents.test_ingest_dropbox_support import (
    LedgerSink,
    fast_config,
    left_in_inbox,
    reason,
    wait_until,
)


def test_symlinks_are_failed_as_forbidden_and_never_followed(tmp_path: Path) -> None:
    # GIVEN links inside the inbox to a file and to a folder outside it
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"do not read")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "secret.txt").symlink_to(outside / "secret.txt")
    (inbox / "folder").symlink_to(outside, target_is_directory=True)
    sink = LedgerSink()
    # WHEN the box processes the inbox
    with DropBox(inbox, sink, fast_config()) as box:
        assert box.drain(10)
    # THEN the links themselves moved to .failed as "forbidden", the targets are untouched
    assert sink.calls == []
    for name in ("secret.txt", "folder"):
        assert (inbox / ".failed" / name).is_symlink()
        assert reason(inbox, name)["code"] == "forbidden"
    assert (outside / "secret.txt").read_bytes() == b"do not read"
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert left_in_inbox(inbox) == []


def test_fifo_is_failed_as_unsupported_without_blocking(tmp_path: Path) -> None:
    # GIVEN a named pipe in the inbox (reading it would block forever)
    os.mkfifo(tmp_path / "pipe")
    sink = LedgerSink()
    # WHEN the box processes the inbox
    with DropBox(tmp_path, sink, fast_config()) as box:
        assert box.drain(10)
    # THEN it is moved aside with a reason and the sink never saw it
    assert sink.calls == []
    assert reason(tmp_path, "pipe")["code"] == "unsupported"


def test_hidden_and_temporary_files_wait_until_renamed(tmp_path: Path) -> None:
    # GIVEN hidden and temporary names in the inbox
    names = [".hidden", "upload.part", "x.tmp", "notes.txt~", "get.crdownload"]
    for name in names:
        (tmp_path / name).write_bytes(b"incomplete")
    sink = LedgerSink()
    with DropBox(tmp_path, sink, fast_config()) as box:
        assert box.drain(10)
        # THEN they are left alone
        assert sink.calls == []
        assert sorted(os.listdir(tmp_path)) == sorted([*names, ".done", ".failed"])
        # WHEN an upload finishes by renaming its temp file
        (tmp_path / "upload.part").rename(tmp_path / "upload.pdf")
        # THEN the final name is taken
        assert wait_until(lambda: (tmp_path / ".done" / "upload.pdf").exists())
    assert sink.names() == ["upload.pdf"]


def test_files_in_subfolders_keep_their_relative_path_as_metadata_only(
    tmp_path: Path,
) -> None:
    # GIVEN a file two folders deep and a hidden folder
    (tmp_path / "2024" / "march").mkdir(parents=True)
    (tmp_path / "2024" / "march" / "invoice.txt").write_bytes(b"invoice 1")
    (tmp_path / ".private").mkdir()
    (tmp_path / ".private" / "skip.txt").write_bytes(b"not for us")
    sink = LedgerSink()
    # WHEN processed
    with DropBox(tmp_path, sink, fast_config()) as box:
        assert box.drain(10)
    # THEN the sink got the relative path, and the file went to .done under its base name
    assert sink.names() == ["2024/march/invoice.txt"]
    assert (tmp_path / ".done" / "invoice.txt").read_bytes() == b"invoice 1"
    assert (tmp_path / ".private" / "skip.txt").exists()


def test_folder_moved_into_the_inbox_is_processed(tmp_path: Path) -> None:
    # GIVEN a running box with a long rescan interval
    staging = tmp_path / "staging"
    (staging / "batch").mkdir(parents=True)
    for i in range(3):
        (staging / "batch" / f"{i}.txt").write_bytes(b"batch %d" % i)
    inbox = tmp_path / "inbox"
    sink = LedgerSink()
    with DropBox(inbox, sink, fast_config(poll_interval_s=3600)):
        time.sleep(0.3)
        # WHEN a whole folder is moved in (one event for the folder, none for its files)
        (staging / "batch").rename(inbox / "batch")
        # THEN its files are found and taken
        assert wait_until(lambda: len(sink.calls) == 3)
    assert sorted(sink.names()) == ["batch/0.txt", "batch/1.txt", "batch/2.txt"]


def test_file_deleted_before_it_is_stable_is_forgotten(tmp_path: Path) -> None:
    # GIVEN a box that waits 1 s for stability
    sink = LedgerSink()
    with DropBox(tmp_path, sink, fast_config(stable_for_s=1.0)) as box:
        # WHEN a file appears and is deleted again before it is taken
        (tmp_path / "gone.txt").write_bytes(b"brief")
        assert wait_until(lambda: box.pending_count() == 1, timeout=5)
        (tmp_path / "gone.txt").unlink()
        # THEN nothing stays pending and the sink never saw it
        assert box.drain(10)
    assert sink.calls == []
    assert list((tmp_path / ".failed").iterdir()) == []


def test_permission_error_in_the_sink_is_retried_not_failed(tmp_path: Path) -> None:
    # GIVEN a sink that cannot read the file the first time (e.g. wrong owner, fixed later)
    inner = LedgerSink()
    attempts: list[str] = []

    def sink(path: Path, relative_name: str) -> DropOutcome:
        attempts.append(relative_name)
        if len(attempts) == 1:
            raise PermissionError(13, "Permission denied", str(path))
        return inner(path, relative_name)

    (tmp_path / "locked.txt").write_bytes(b"readable later")
    # WHEN the box runs
    with DropBox(tmp_path, sink, fast_config()) as box:
        assert box.drain(10)
    # THEN it tried again later and the file ended in .done, not .failed
    assert attempts == ["locked.txt", "locked.txt"]
    assert (tmp_path / ".done" / "locked.txt").exists()
    assert list((tmp_path / ".failed").iterdir()) == []


def test_file_over_the_size_limit_fails_without_reaching_the_sink(tmp_path: Path) -> None:
    # GIVEN a size limit of 1 KiB and a 2 KiB file
    (tmp_path / "big.bin").write_bytes(b"x" * 2048)
    (tmp_path / "small.txt").write_bytes(b"ok")
    sink = LedgerSink()
    # WHEN processed
    with DropBox(tmp_path, sink, fast_config(max_file_bytes=1024)) as box:
        assert box.drain(10)
    # THEN the big one failed as too_large and only the small one reached the sink
    assert sink.names() == ["small.txt"]
    assert reason(tmp_path, "big.bin")["code"] == "too_large"


def test_sink_returning_something_else_fails_the_file_as_internal(tmp_path: Path) -> None:
    # GIVEN a faulty sink that returns None
    def sink(path: Path, relative_name: str) -> DropOutcome:
        return None  # type: ignore[return-value]

    (tmp_path / "a.txt").write_bytes(b"a")
    # WHEN processed
    with DropBox(tmp_path, sink, fast_config()) as box:
        assert box.drain(10)
    # THEN the file is failed with a reason rather than left or lost
    assert reason(tmp_path, "a.txt")["code"] == "internal"


def test_failed_move_is_retried_without_calling_the_sink_again(tmp_path: Path) -> None:
    # GIVEN a .done that cannot be used (a file stands where the folder should be)
    (tmp_path / ".done").write_bytes(b"in the way")
    (tmp_path / "a.txt").write_bytes(b"content")
    sink = LedgerSink()
    with DropBox(tmp_path, sink, fast_config()) as box:
        # WHEN the file is taken and its move fails
        assert wait_until(lambda: len(sink.calls) == 1)
        assert not box.drain(0.5)
        assert (tmp_path / "a.txt").exists()
        # AND the obstacle is cleared
        (tmp_path / ".done").unlink()
        # THEN the move is retried and the ledger is not asked twice
        assert box.drain(10)
    assert (tmp_path / ".done" / "a.txt").read_bytes() == b"content"
    assert sink.names() == ["a.txt"]
