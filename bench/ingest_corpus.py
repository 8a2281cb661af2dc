"""The corpus of `appliance bench ingest`: real files of mixed kinds found on the machine."""

from __future__ import annotations

import hashlib
import sysconfig
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from agents.ingest.sandbox.formats import HEAD_BYTES, SUPPORTED_FORMATS, detect_format

# Extensions of the document kinds the parsers support, for finding sample files; the
# kind a file counts as is then detected from its content (a mail saved as .txt is mail).
SAMPLE_EXTENSIONS = (
    ".pdf",
    ".html",
    ".htm",
    ".md",
    ".txt",
    ".json",
    ".csv",
    ".eml",
    ".docx",
    ".xlsx",
)
SAMPLE_ROOTS = (
    Path("/usr/share/doc"),
    Path(sysconfig.get_paths()["purelib"]),
    # real messages (multipart, attachments, digests) that ship with Python's test suite
    Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data",
)


def find_sample_documents(
    limit: int, roots: Iterable[Path] = SAMPLE_ROOTS, max_bytes: int = 5 * 1024 * 1024
) -> list[tuple[str, bytes]]:
    """Up to `limit` distinct real files, round-robin over their detected formats so no
    kind dominates; returns (name, content) pairs. Identical contents are taken once
    (the appliance would not parse a duplicate, the direct parsers would)."""
    candidates: list[Path] = []
    for root in roots:
        by_extension: dict[str, list[Path]] = {ext: [] for ext in SAMPLE_EXTENSIONS}
        for path in _walk(root):
            kind = path.suffix.lower()
            if kind in by_extension and len(by_extension[kind]) < limit:
                by_extension[kind].append(path)
        candidates += [path for paths in by_extension.values() for path in paths]
    by_format: dict[str, list[tuple[str, bytes]]] = {}
    seen: set[str] = set()
    for path in sorted(candidates):
        try:
            if not 0 < path.stat().st_size <= max_bytes:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        digest = hashlib.sha256(data).hexdigest()
        kind = detect_format(data[:HEAD_BYTES], path.name)
        if digest in seen or kind not in SUPPORTED_FORMATS:
            continue
        seen.add(digest)
        by_format.setdefault(kind, []).append((path.name, data))
    picked: list[tuple[str, bytes]] = []
    queues = [by_format[kind] for kind in sorted(by_format)]
    while queues and len(picked) < limit:
        for queue in list(queues):
            if not queue:
                queues.remove(queue)
                continue
            picked.append(queue.pop(0))
            if len(picked) >= limit:
                break
    return picked


def sample_kinds(documents: Iterable[tuple[str, bytes]]) -> dict[str, int]:
    """How many of the documents are of each detected format."""
    kinds = Counter(detect_format(data[:HEAD_BYTES], name) for name, data in documents)
    return dict(sorted(kinds.items()))


def _walk(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path
