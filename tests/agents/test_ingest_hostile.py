"""Hostile files fail with their code, within the limits, leaving the caller unharmed."""

from __future__ import annotations

import hashlib
import resource
import time
import urllib.request
from pathlib import Path

import pytest

from agents.ingest.errors import IngestError
from agents.ingest.sandbox.direct import parse_direct
from agents.ingest.sandbox.limits import ParseLimits
from agents.ingest.sandbox.pool import SandboxPool
from tests.agents.hostile_files import (
    billion_laughs_xlsx,
    circular_pdf,
    external_entity_docx,
    make_pdf,
    many_members_docx,
    parameter_entity_docx,
    real_file,
    slow_pdf,
    zip_bomb_docx,
)

# The caller's peak memory may not grow by more than this while a hostile file is parsed.
MAX_CALLER_GROWTH_KIB = 150 * 1024


def peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def sandboxed_failure(
    pool: SandboxPool, data: bytes, filename: str | None = None, limits: ParseLimits | None = None
) -> IngestError:
    """Parse in the sandbox expecting failure; checks the caller stayed small and the
    pool still parses the next document."""
    peak_before = peak_rss_kib()
    with pytest.raises(IngestError) as caught:
        pool.parse(data, filename, limits)
    assert peak_rss_kib() - peak_before < MAX_CALLER_GROWTH_KIB
    assert pool.parse(make_pdf(["next document"]), None, limits).text == "next document"
    return caught.value


def direct_failure(data: bytes, limits: ParseLimits | None = None) -> IngestError:
    with pytest.raises(IngestError) as caught:
        parse_direct(data, None, limits)
    return caught.value


def tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    # 520 MiB of zeros deflate to ~0.5 MB; built once, it takes ~2 s.
    return zip_bomb_docx(520)


@pytest.mark.slow
def test_zip_bomb_docx_is_refused_from_its_directory_before_unpacking(sandbox, zip_bomb):
    # GIVEN a real DOCX carrying a member that unpacks to 520 MiB (default limit 512 MiB)
    assert len(zip_bomb) < 2_000_000
    started = time.monotonic()
    # WHEN parsed in the sandbox with default limits
    error = sandboxed_failure(sandbox, zip_bomb, "report.docx")
    # THEN it is too_large within a fraction of a second: nothing was inflated
    assert error.code == "too_large"
    assert "512 MiB" in str(error)
    assert time.monotonic() - started < 5
    # AND the in-process pipeline refuses it the same way
    assert direct_failure(zip_bomb).code == "too_large"


def test_office_file_with_too_many_parts_is_refused(sandbox):
    # GIVEN a DOCX padded to 300 parts and a limit of 100 entries
    limits = ParseLimits(max_zip_entries=100)
    # WHEN parsed THEN it is too_large
    error = sandboxed_failure(sandbox, many_members_docx(300), None, limits)
    assert error.code == "too_large"
    assert "100 parts" in str(error)


def test_billion_laughs_entity_bomb_in_an_xlsx_sheet_is_refused(sandbox):
    # GIVEN an XLSX whose sheet XML declares nested entities expanding to 3 GB
    data = billion_laughs_xlsx()
    started = time.monotonic()
    # WHEN parsed
    error = sandboxed_failure(sandbox, data, "numbers.xlsx")
    # THEN it is refused as forbidden_xml at once, before any expansion
    assert (error.code, error.status_code) == ("forbidden_xml", 422)
    assert time.monotonic() - started < 5
    assert direct_failure(data).code == "forbidden_xml"


@pytest.mark.parametrize("build", [external_entity_docx, parameter_entity_docx])
def test_external_entities_in_a_docx_never_reach_the_network(sandbox, canary, build):
    # GIVEN a DOCX whose XML pulls an external entity from a live canary on 127.0.0.1
    data = build(canary.url)
    # WHEN parsed in the sandbox and in-process
    sandboxed = sandboxed_failure(sandbox, data, "letter.docx")
    direct = direct_failure(data)
    # THEN both refuse it as forbidden_xml and the canary saw no request
    assert sandboxed.code == direct.code == "forbidden_xml"
    assert canary.requests == []
    # AND the canary was listening all along (a request from the test itself arrives)
    with urllib.request.urlopen(canary.url, timeout=5) as response:
        assert response.read() == b"CANARY-CONTENT"
    assert canary.requests == ["/canary"]


def test_pdf_with_circular_page_tree_and_xref_chain_fails_as_malformed(sandbox):
    # GIVEN a PDF whose page tree contains itself and whose xref /Prev points at itself
    data = circular_pdf()
    # WHEN parsed THEN it fails as malformed rather than looping or recursing forever
    started = time.monotonic()
    assert sandboxed_failure(sandbox, data).code == "malformed"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("size", [0.25, 0.5, 0.9, 0.99])
def test_truncated_real_pdf_fails_as_malformed(sandbox, size):
    # GIVEN a real Debian PDF cut off part-way
    whole = real_file("pdf_libtasn1")
    data = whole[: int(len(whole) * size)]
    # WHEN parsed THEN it fails as malformed, in plain words
    error = sandboxed_failure(sandbox, data, "manual.pdf")
    assert error.code == "malformed"
    assert "damaged or incomplete" in str(error)


@pytest.mark.parametrize("data", [b"", b"\n \t\r\n"], ids=["zero-bytes", "whitespace"])
def test_empty_file_fails_as_empty(sandbox, data):
    # GIVEN a file with no content WHEN parsed THEN the code is empty
    assert sandboxed_failure(sandbox, data, "blank.txt").code == "empty"


def test_file_named_like_a_path_is_parsed_as_bytes_and_nothing_is_written(
    sandbox, tmp_path, monkeypatch
):
    # GIVEN a working directory two levels below tmp_path, a file named ../../etc/passwd
    # whose content looks like a passwd file, and fingerprints of the surroundings
    workdir = tmp_path / "a" / "b"
    workdir.mkdir(parents=True)
    monkeypatch.chdir(workdir)
    content = b"root:x:0:0:root:/root:/bin/bash\nevil:x:0:0::/:/bin/sh\n"
    before_tree = tree(tmp_path)
    passwd_before = hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()
    # WHEN parsed in the sandbox and in-process under that name
    sandboxed = sandbox.parse(content, "../../etc/passwd")
    direct = parse_direct(content, "../../etc/passwd")
    # THEN it is just text, and no file appeared or changed anywhere near
    assert sandboxed == direct
    assert sandboxed.format == "txt"
    assert sandboxed.text == content.decode().strip()
    assert tree(tmp_path) == before_tree
    assert not (tmp_path / "etc").exists()
    assert hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest() == passwd_before


def test_pathological_input_hits_the_wall_time_limit_and_the_next_document_parses(sandbox):
    # GIVEN a valid but pathological PDF (a 2.6 MB content stream; ~9 s to extract)
    # and a 0.5 s wall-time limit
    limits = ParseLimits(wall_seconds=0.5)
    sandbox.warm_up(limits, count=1)
    # WHEN parsed THEN the worker is killed, the code is timeout, the next one parses
    started = time.monotonic()
    error = sandboxed_failure(sandbox, slow_pdf(100_000), None, limits)
    assert error.code == "timeout"
    assert time.monotonic() - started < 3
