"""The drop box while the server runs: every file ends in .done/ or .failed/, exactly once."""

import io
import json
import os
import threading
import time
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from app.services import open_services
from app.settings import Settings
from tests.conftest import write_config

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, settings: Settings) -> Path:
    config = write_config(tmp_path / "c.toml", settings)
    config.write_text(
        config.read_text()
        + "\n[ingest]\ndropbox_poll_interval_s = 0.5\ndropbox_stable_for_s = 0.5\n"
    )
    return config


def _pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _pending(inbox: Path) -> list[Path]:
    return [
        p
        for p in inbox.rglob("*")
        if p.is_file() and not p.relative_to(inbox).parts[0].startswith(".")
    ]


def _wait_until_empty(inbox: Path, server, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pending(inbox):
            return
        assert server.process.poll() is None, server.log.read_text()[-3000:]
        time.sleep(0.25)
    raise AssertionError(f"{len(_pending(inbox))} file(s) still waiting in {inbox}")


def _documents(settings: Settings) -> list[tuple[str, str, str | None]]:
    services = open_services(settings, None)
    try:
        tenant = services.system.find_tenant("demo")
        with services.tenants.database(tenant.id).read() as conn:
            return [
                tuple(r) for r in conn.execute("SELECT sha256, state, error_code FROM documents")
            ]
    finally:
        services.close()


def _index_counts(settings: Settings) -> dict[str, int]:
    """Rows of the chunk index of the demo tenant: chunks, documents with chunks, vectors,
    keyword-index entries."""
    services = open_services(settings, None)
    try:
        tenant = services.system.find_tenant("demo")
        queries = {
            "chunks": "SELECT count(*) FROM chunks",
            "documents": "SELECT count(DISTINCT document_id) FROM chunks",
            "vectors": "SELECT count(*) FROM chunk_vectors",
            "keyword_entries": "SELECT count(*) FROM chunks_fts_docsize",
        }
        with services.tenants.database(tenant.id).read() as conn:
            return {name: int(conn.execute(sql).fetchone()[0]) for name, sql in queries.items()}
    finally:
        services.close()


def test_two_hundred_mixed_files_all_end_done_or_failed_with_reasons(
    initialised: Settings, server_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a running server and its demo inbox
    server = server_factory(initialised.data_dir, _config(tmp_path, initialised))
    server.wait_ready()
    inbox = initialised.data_dir / "inbox" / "demo"
    # WHEN 200 files arrive: valid, duplicates, corrupt, blank, zero-byte, one written slowly
    valid = {
        f"valid-{i}.txt": f"Invoice {i} for harbour services, amount {i * 7} EUR.".encode()
        for i in range(120)
    }
    files: dict[str, bytes] = dict(valid)
    files.update({f"dup-{i}.txt": valid[f"valid-{i}.txt"] for i in range(30)})
    files.update({f"corrupt-{i}.pdf": _pdf(f"broken {i}")[:150] for i in range(25)})
    files.update({f"blank-{i}.txt": b"   \n\n  " + b" " * i for i in range(12)})
    files.update({f"zero-{i}.txt": b"" for i in range(12)})
    for name, content in files.items():
        (inbox / name).write_bytes(content)
    slow = inbox / "slow.txt"

    def write_slowly() -> None:
        with slow.open("wb") as handle:
            for part in range(6):
                handle.write(f"slowly written part {part}\n".encode())
                handle.flush()
                time.sleep(0.3)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    writer.join()
    _wait_until_empty(inbox, server, timeout=240)
    assert server.stop() == 0
    # THEN every file is in .done/ or .failed/, failures with a reason file
    done = {p.name for p in (inbox / ".done").iterdir()}
    failed = {p.name for p in (inbox / ".failed").iterdir() if not p.name.endswith(".reason.json")}
    assert done | failed == set(files) | {"slow.txt"}
    assert not done & failed
    for name in failed:
        reason = json.loads((inbox / ".failed" / f"{name}.reason.json").read_text())
        assert reason["code"] and reason["message"] and reason["time"]
    assert {n for n in failed if n.startswith("corrupt-")} == {
        n for n in files if n.startswith("corrupt-")
    }
    assert all(n.startswith(("valid-", "dup-", "slow")) for n in done)
    # AND documents = distinct valid contents (the slow file arrived whole, once)
    documents = _documents(initialised)
    good = [d for d in documents if d[1] not in ("failed", "unsupported")]
    assert len(good) == len(set(valid.values())) + 1
    assert (inbox / ".done" / "slow.txt").read_bytes().count(b"slowly written part") == 6


def test_kill_nine_mid_ingest_then_restart_processes_every_file_once(
    initialised: Settings, server_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN 100 files waiting in the inbox
    inbox = initialised.data_dir / "inbox" / "demo"
    contents = {
        f"note-{i:03}.txt": (
            f"Note {i}: " + os.urandom(8).hex() + " harbour logistics. " * 20
        ).encode()
        for i in range(100)
    }
    for name, content in contents.items():
        (inbox / name).write_bytes(content)
    config = _config(tmp_path, initialised)
    # WHEN the server is killed with SIGKILL part-way through
    first = server_factory(initialised.data_dir, config)
    first.wait_ready()
    deadline = time.monotonic() + 120
    done_dir = inbox / ".done"
    while time.monotonic() < deadline:
        if done_dir.exists() and len(list(done_dir.iterdir())) >= 10:
            break
        time.sleep(0.05)
    first.kill()
    assert _pending(inbox), "the server finished before it could be killed; the test proves nothing"
    # AND started again
    second = server_factory(initialised.data_dir, config)
    second.wait_ready()
    _wait_until_empty(inbox, second, timeout=240)
    # THEN every file was taken, and each content is exactly one document
    deadline = time.monotonic() + 240
    while True:
        documents = _documents(initialised)
        finished = [d for d in documents if d[1] in ("indexed", "failed", "unsupported")]
        if len(finished) == len(documents) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert second.stop() == 0
    assert len(documents) == len({d[0] for d in documents}) == len(contents)
    assert all(state == "indexed" for _, state, _ in documents), documents
    done = {p.name for p in (inbox / ".done").iterdir()}
    assert done == set(contents)
    # AND each document was indexed once: one set of chunks each, every chunk with exactly
    # one vector and one keyword entry (an interrupted indexing left nothing behind)
    counts = _index_counts(initialised)
    assert counts["documents"] == len(contents)
    assert counts["vectors"] == counts["keyword_entries"] == counts["chunks"] >= len(contents)
