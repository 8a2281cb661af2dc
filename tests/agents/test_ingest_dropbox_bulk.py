"""Drop-box acceptance: 200 mixed files all end in .done/ or .failed/, each taken once."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from pathlib import Path

from agents.ingest.sources.dropbox import DropBox
from tests.agents.test_ingest_dropbox_support import LedgerSink, fast_config, left_in_inbox


def _mixed_files() -> dict[str, bytes]:
    """199 files: valid, duplicate, corrupt, blank ("empty") and zero-byte."""
    files: dict[str, bytes] = {}
    for i in range(120):
        files[f"valid-{i:03}.txt"] = f"document {i}: quarterly figures {i * 7}".encode()
    for i in range(30):
        files[f"copy-{i:03}.txt"] = files[f"valid-{i % 40:03}.txt"]
    for i in range(25):
        files[f"corrupt-{i:03}.pdf"] = b"CORRUPT%PDF-1.7 truncated " + bytes([i])
    for i in range(12):
        files[f"blank-{i:03}.txt"] = b" \n\t " * (i + 1)
    for i in range(12):
        files[f"zero-{i:03}.docx"] = b""
    return files


def _write_slowly(path: Path, chunks: list[bytes]) -> None:
    with path.open("wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
            fh.flush()
            time.sleep(0.3)


def test_two_hundred_mixed_files_all_end_in_done_or_failed_once(tmp_path: Path) -> None:
    # GIVEN an inbox with half of 199 mixed files already present at start-up
    inbox = tmp_path / "inbox" / "acme"
    inbox.mkdir(parents=True)
    files = _mixed_files()
    names = sorted(files)
    for name in names[::2]:
        (inbox / name).write_bytes(files[name])
    slow = [b"%04d slow line\n" % i * 64 for i in range(10)]
    files["slow.txt"] = b"".join(slow)
    sink = LedgerSink()
    with DropBox(inbox, sink, fast_config(stable_for_s=1.0)) as box:
        # WHEN the other half arrives while it runs, and one file is written in chunks
        writer = threading.Thread(target=_write_slowly, args=(inbox / "slow.txt", slow))
        writer.start()
        for name in names[1::2]:
            (inbox / name).write_bytes(files[name])
        writer.join(timeout=10)
        assert box.drain(30)

    # THEN nothing is left behind and the sink was called exactly once per file
    assert left_in_inbox(inbox) == []
    assert Counter(sink.names()) == Counter({name: 1 for name in files})
    assert {c.relative_name: c.content for c in sink.calls} == files
    # AND every file is in .done/ or .failed/ (with a reason), none lost or doubled
    done = {p.name: p.read_bytes() for p in (inbox / ".done").iterdir()}
    failed_dir = inbox / ".failed"
    reasons = {
        p.name.removesuffix(".reason.json"): json.loads(p.read_text())
        for p in failed_dir.glob("*.reason.json")
    }
    failed = {
        p.name: p.read_bytes() for p in failed_dir.iterdir() if not p.name.endswith(".reason.json")
    }
    assert sorted([*done, *failed]) == sorted(files)
    assert set(reasons) == set(failed)
    assert all({"code", "message", "time"} <= set(r) for r in reasons.values())
    codes = Counter(str(r["code"]) for r in reasons.values())
    assert codes == {"malformed": 25, "empty": 24}
    assert {name: files[name] for name in done} == done
    # AND documents = distinct valid contents (valid ones plus the slow file)
    valid = {
        hashlib.sha256(data).hexdigest()
        for name, data in files.items()
        if name.startswith(("valid", "copy", "slow"))
    }
    assert set(sink.documents) == valid
    assert len(done) == 120 + 30 + 1
