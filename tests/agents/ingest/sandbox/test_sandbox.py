"""The sandbox parses in limited worker processes and always recovers for the next document."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import threading
import time
from email.message import EmailMessage

import pytest

from agents.ingest.errors import IngestError
from agents.ingest.sandbox.direct import parse_direct
from agents.ingest.sandbox.limits import MIB, ParseLimits
from agents.ingest.sandbox.pool import SandboxPool, default_pool, parse_in_sandbox
from agents.ingest.sandbox.worker_process import remove_stale_scratch
from tests.agents.hostile_files import make_docx, make_pdf, make_xlsx, real_file, slow_pdf


def failure(pool: SandboxPool, data: bytes, limits: ParseLimits | None = None) -> IngestError:
    with pytest.raises(IngestError) as caught:
        pool.parse(data, None, limits)
    return caught.value


def assert_healthy(pool: SandboxPool, limits: ParseLimits | None = None) -> None:
    """The next document after a failure parses normally."""
    document = pool.parse(make_pdf(["still working"]), "next.pdf", limits)
    assert document.pages[0].text == "still working"


def start_slow_parse(
    pool: SandboxPool, limits: ParseLimits
) -> tuple[threading.Thread, list[IngestError]]:
    """A thread parsing a slow PDF, half a second in; its IngestError lands in the list."""
    outcome: list[IngestError] = []

    def parse_slowly() -> None:
        try:
            pool.parse(slow_pdf(100_000), None, limits)
        except IngestError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=parse_slowly)
    thread.start()
    time.sleep(0.5)
    return thread, outcome


@pytest.mark.parametrize(
    "key", ["pdf_mime_spec", "eml_gif_attachment", "eml_digest", "html_base_passwd", "csv_debian"]
)
def test_sandbox_and_direct_parsing_give_identical_documents(sandbox, key):
    # GIVEN a real document
    data = real_file(key)
    # WHEN parsed in the sandbox and in-process
    # THEN the results are equal, down to attachment bytes, pages and sections
    assert sandbox.parse(data, None) == parse_direct(data, None)


def test_generated_office_documents_parse_in_the_sandbox(sandbox):
    # GIVEN DOCX and XLSX files WHEN parsed in the sandbox THEN their text comes back
    assert "North | 120" in sandbox.parse(make_docx(), "r.docx").text
    assert [s.title for s in sandbox.parse(make_xlsx(), "b.xlsx").sections] == [
        "Invoices",
        "Contacts",
    ]


def test_binary_attachments_cross_the_process_boundary_unchanged(sandbox):
    # GIVEN a mail with a binary attachment holding every byte value
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["Subject"] = "bytes"
    message.set_content("see attachment")
    payload = bytes(range(256)) * 1000
    message.add_attachment(payload, maintype="application", subtype="octet-stream", filename="b")
    # WHEN parsed in the sandbox THEN the child's bytes are identical
    (child,) = sandbox.parse(message.as_bytes(), None).children
    assert (child.filename, child.content) == ("b", payload)


def test_workers_work_in_the_scratch_folder_given_and_leave_nothing_behind(tmp_path):
    # GIVEN a pool told to keep its working directories in a folder of the data directory
    with SandboxPool(max_workers=1, scratch_dir=tmp_path) as pool:
        # WHEN it parses a document
        pool.parse(make_pdf(["in the scratch folder"]), "a.pdf")
        # THEN its worker's working directory is there, named after this process
        (workdir,) = list(tmp_path.iterdir())
        assert workdir.name.startswith(f"ingest-worker-{os.getpid()}-")
        (pid,) = pool.worker_pids()
        assert os.readlink(f"/proc/{pid}/cwd") == str(workdir)
    # AND closing the pool removes it
    assert list(tmp_path.iterdir()) == []


def test_stale_scratch_of_a_dead_process_is_removed_and_a_running_ones_is_kept(tmp_path):
    # GIVEN scratch left by a process that is gone, and that of one still running
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = tmp_path / f"ingest-worker-{gone.pid}-abc123"
    alive = tmp_path / f"ingest-worker-{os.getpid()}-def456"
    other = tmp_path / "unrelated"
    for folder in (stale, alive, other):
        folder.mkdir()
        (folder / "stderr.log").write_bytes(b"")
    # WHEN stale scratch is cleared at start-up
    removed = remove_stale_scratch(tmp_path)
    # THEN only the dead process's folder went
    assert removed == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name])


def test_input_over_the_size_limit_is_refused_before_any_worker_starts():
    # GIVEN a fresh pool and a limit of 1 KiB
    with SandboxPool(max_workers=1) as pool:
        limits = ParseLimits(max_input_bytes=1024)
        # WHEN a 2 KiB document is offered
        error = failure(pool, b"x" * 2048, limits)
        # THEN it is too_large and no process was started for it
        assert (error.code, error.status_code) == ("too_large", 413)
        assert pool.worker_pids() == []


@pytest.mark.slow
def test_cpu_time_limit_stops_a_runaway_parse_even_with_a_generous_wall_limit(sandbox):
    # GIVEN 1 s of CPU per document but 30 s of wall time
    limits = ParseLimits(cpu_seconds=1, wall_seconds=30)
    # WHEN the slow PDF is parsed
    started = time.monotonic()
    error = failure(sandbox, slow_pdf(100_000), limits)
    # THEN the kernel stops the worker (SIGXCPU), reported as a timeout
    assert error.code == "timeout"
    assert "processor time" in str(error)
    assert time.monotonic() - started < 10
    assert_healthy(sandbox, limits)


def test_memory_limit_is_reported_and_the_next_document_parses(sandbox):
    # GIVEN a 300 MiB address-space limit (the worker itself uses ~200 MiB) and a 20 MB
    # JSON array of 10 million numbers (over 100 MB once loaded and rendered)
    limits = ParseLimits(memory_bytes=300 * MIB)
    data = b"[" + b"1," * 10_000_000 + b"1]"
    # WHEN parsed
    error = failure(sandbox, data, limits)
    # THEN it fails with memory_limit and the pool is fine afterwards
    assert error.code == "memory_limit"
    assert_healthy(sandbox, limits)


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGSEGV, "crashed"), (signal.SIGKILL, "parser_killed")],
    ids=["segfault", "killed"],
)
def test_a_worker_that_dies_mid_parse_is_reported_and_replaced(signum, code):
    # GIVEN a pool with one warm worker busy on a slow document
    limits = ParseLimits(wall_seconds=30)
    with SandboxPool(max_workers=1) as pool:
        pool.warm_up(limits)
        (pid,) = pool.worker_pids()
        thread, outcome = start_slow_parse(pool, limits)
        # WHEN the worker dies from a segfault or the OOM killer's SIGKILL
        os.kill(pid, signum)
        thread.join(10)
        # THEN the caller gets "crashed" for a segfault (the file's fault) and
        # "parser_killed" for SIGKILL (the machine's: retried later, see
        # docs/reliability.md), and the next document gets a new, healthy worker
        assert [getattr(e, "code", None) for e in outcome] == [code]
        assert_healthy(pool, limits)
        assert pool.worker_pids() != [pid]


@pytest.mark.parametrize("failure_kind", ["timeout", "killed"])
def test_a_document_waiting_behind_a_failed_one_is_parsed_not_blamed(failure_kind):
    # GIVEN one worker busy on a slow document, and a second document sent to the same
    # worker behind it (two documents are in a worker at once)
    limits = ParseLimits(wall_seconds=2 if failure_kind == "timeout" else 30)
    with SandboxPool(max_workers=1) as pool:
        pool.warm_up(limits)
        (pid,) = pool.worker_pids()
        slow, outcome = start_slow_parse(pool, limits)
        waiting: dict[str, str] = {}
        second = threading.Thread(
            target=lambda: waiting.update(
                text=pool.parse(make_pdf(["queued behind"]), None, limits).pages[0].text
            )
        )
        second.start()
        time.sleep(0.5)
        # WHEN the worker fails on the first document (wall-time limit, or killed)
        if failure_kind == "killed":
            os.kill(pid, signal.SIGKILL)
        slow.join(15)
        second.join(15)
        # THEN the first one fails with its own code and the second one is parsed
        expected = "timeout" if failure_kind == "timeout" else "parser_killed"
        assert [getattr(e, "code", None) for e in outcome] == [expected]
        assert waiting == {"text": "queued behind"}
        assert pool.worker_pids() != [pid]


def test_parallel_callers_share_a_bounded_pool(sandbox):
    # GIVEN the session pool of two workers and eight threads parsing at once
    documents = [make_pdf([f"document {n}"]) for n in range(8)]
    results: dict[int, str] = {}

    def parse(index: int) -> None:
        results[index] = sandbox.parse(documents[index], None).pages[0].text

    threads = [threading.Thread(target=parse, args=(n,)) for n in range(8)]
    # WHEN they all run
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # THEN every document is parsed correctly, by at most two processes
    assert results == {n: f"document {n}" for n in range(8)}
    assert len(sandbox.worker_pids()) <= 2


def test_documents_arriving_together_at_a_cold_pool_start_only_max_workers_processes():
    # GIVEN a pool of one worker that has not started any, and four slow documents at once
    with SandboxPool(max_workers=1) as pool:
        seen: set[int] = set()
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                seen.update(pool.worker_pids())
                time.sleep(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        pages: dict[int, int] = {}

        def parse(n: int) -> None:
            pages[n] = len(pool.parse(slow_pdf(5_000), None).pages)

        threads = [threading.Thread(target=parse, args=(n,)) for n in range(4)]
        # WHEN they are parsed
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        done.set()
        watcher.join(5)
    # THEN all four are parsed, by one process
    assert pages == {n: 1 for n in range(4)}
    assert len(seen) == 1


def test_limits_apply_to_the_worker_only_never_to_the_calling_process(sandbox):
    # GIVEN the caller's own resource limits
    before = [resource.getrlimit(r) for r in (resource.RLIMIT_AS, resource.RLIMIT_FSIZE)]
    cwd = os.getcwd()
    # WHEN documents are parsed in the sandbox
    sandbox.parse(make_pdf(["x"]), None)
    # THEN the caller's limits and working directory are untouched
    after = [resource.getrlimit(r) for r in (resource.RLIMIT_AS, resource.RLIMIT_FSIZE)]
    assert after == before
    assert os.getcwd() == cwd


def test_module_level_parse_in_sandbox_uses_the_default_pool():
    # GIVEN nothing set up WHEN the contract function is called THEN it parses
    try:
        document = parse_in_sandbox(b"plain words\n", "note.txt", ParseLimits())
    finally:
        default_pool().close()
    assert (document.format, document.text) == ("txt", "plain words")


def test_a_retired_worker_is_replaced_in_the_background():
    # GIVEN a pool whose worker retires after 3 documents
    limits = ParseLimits()
    with SandboxPool(max_workers=1, max_documents_per_worker=3) as pool:
        pool.warm_up(limits)
        first = pool.worker_pids()
        # WHEN it has parsed its 3 documents
        for number in range(3):
            assert pool.parse(f"note {number}".encode(), "n.txt", limits).pages
        # THEN a fresh process takes its place without a document waiting for it
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and pool.worker_pids() in ([], first):
            time.sleep(0.05)
        successor = pool.worker_pids()
        assert len(successor) == 1 and successor != first
        assert pool.parse(b"after the change", "n.txt", limits).pages
        assert pool.worker_pids() == successor  # the waiting successor did it
        # AND the retired process is gone
        assert not os.path.exists(f"/proc/{first[0]}")
    # AND closing the pool leaves no worker behind
    assert not os.path.exists(f"/proc/{successor[0]}")
