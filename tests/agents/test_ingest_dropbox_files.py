"""Drop-box file handling: free names, atomic reason files, safe reads for sinks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agents.ingest.sources.dropbox import DropOutcome, DropRejected, is_ignored, read_dropped_file
from agents.ingest.sources.dropbox.finalize import finalize
from agents.ingest.sources.dropbox.names import unique_name


def test_unique_name_numbers_collisions_before_the_extension(tmp_path: Path) -> None:
    # GIVEN a folder holding a.pdf and a (2).pdf
    (tmp_path / "a.pdf").write_bytes(b"1")
    (tmp_path / "a (2).pdf").write_bytes(b"2")
    # WHEN a free name for a.pdf is asked for THEN the next number is used
    assert unique_name(tmp_path, "a.pdf", with_reason=False) == "a (3).pdf"
    assert unique_name(tmp_path, "b.pdf", with_reason=False) == "b.pdf"


def test_unique_name_counts_a_stray_reason_file_as_taken(tmp_path: Path) -> None:
    # GIVEN only a reason file left by an interrupted move
    (tmp_path / "x.txt.reason.json").write_text("{}")
    # WHEN a failed file named x.txt is placed THEN it does not adopt that reason
    assert unique_name(tmp_path, "x.txt", with_reason=True) == "x (2).txt"


def test_unique_name_keeps_long_names_within_the_file_system_limit(tmp_path: Path) -> None:
    # GIVEN a 244-byte name, too long to take ".reason.json" beside it
    long_name = "é" * 120 + ".pdf"
    # WHEN free names for two such failed files are taken one after the other
    first = unique_name(tmp_path, long_name, with_reason=True)
    (tmp_path / first).write_bytes(b"")
    second = unique_name(tmp_path, long_name, with_reason=True)
    # THEN both are shortened to fit, keep the extension, and the second is numbered
    for name in (first, second):
        assert len((name + ".reason.json").encode()) <= 255
        (tmp_path / (name + ".reason.json")).write_text("{}")
    assert first.endswith("é.pdf")
    assert second.endswith("é (2).pdf")


def test_finalize_writes_reason_atomically_and_leaves_no_temp_files(tmp_path: Path) -> None:
    # GIVEN a file in the inbox
    (tmp_path / "bad.csv").write_bytes(b"broken")
    # WHEN it is finalized as failed
    target = finalize(
        tmp_path, tmp_path / "bad.csv", DropOutcome.failed("malformed", "bad row"), "bad.csv"
    )
    # THEN only the file and its complete reason are in .failed
    assert target == tmp_path / ".failed" / "bad.csv"
    assert sorted(os.listdir(tmp_path / ".failed")) == ["bad.csv", "bad.csv.reason.json"]
    payload = json.loads((tmp_path / ".failed" / "bad.csv.reason.json").read_text())
    assert payload["code"] == "malformed" and payload["message"] == "bad row"
    assert not (tmp_path / "bad.csv").exists()


def test_read_dropped_file_refuses_links_pipes_and_oversized_files(tmp_path: Path) -> None:
    # GIVEN a regular file, a link to it, a pipe and a limit
    (tmp_path / "real.txt").write_bytes(b"12345")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    os.mkfifo(tmp_path / "pipe")
    # WHEN read through read_dropped_file THEN only the regular file within limits is read
    assert read_dropped_file(tmp_path / "real.txt", max_bytes=5) == b"12345"
    cases = [
        ("link.txt", None, "forbidden"),
        ("pipe", None, "unsupported"),
        ("real.txt", 4, "too_large"),
    ]
    for name, limit, code in cases:
        with pytest.raises(DropRejected) as caught:
            read_dropped_file(tmp_path / name, max_bytes=limit)
        assert caught.value.code == code


@pytest.mark.parametrize(
    ("name", "ignored"),
    [
        ("a.pdf", False),
        ("sub/a.pdf", False),
        (".a.pdf", True),
        (".done/a.pdf", True),
        (".failed/a.pdf.reason.json", True),
        ("sub/.git/x", True),
        ("a.part", True),
        ("a.TMP", True),
        ("a.txt~", True),
        ("a.pdf.crdownload", True),
        ("a.partial", True),
    ],
)
def test_hidden_folders_and_temp_names_are_ignored(name: str, ignored: bool) -> None:
    # GIVEN a relative name WHEN classified THEN hidden paths and temp names are ignored
    assert is_ignored(name) is ignored
