"""`appliance ingest PATH... --tenant T`: add files and folders (recursively) to a tenant.

Files are recorded and parsed here, in this process, several at a time (the parse of one
overlaps the durable writes of the next), so the summary can say what failed;
indexing is queued in queue.db for the server's workers (a stopped server catches up at
its next start).
"""

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from agents.ingest.errors import IngestError
from agents.ingest.service import Arrival
from agents.ingest.sources.dropbox import is_ignored
from app.cli.context import CliError, open_from
from app.runtime import build_runtime


def _files(paths: list[str]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_symlink():
            continue
        if path.is_file():
            yield path
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).as_posix()
                if child.is_file() and not child.is_symlink() and not is_ignored(relative):
                    yield child
        else:
            raise CliError(f"{raw} is neither a file nor a folder")


def _progress(done: int, total: int, name: str) -> None:
    if not sys.stderr.isatty():
        return
    width = 30
    filled = int(width * done / max(total, 1))
    label = name if len(name) <= 40 else "…" + name[-39:]
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<40}")
    sys.stderr.flush()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it fails too, and is reported then


def ingest(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        tenant = services.system.find_tenant(args.tenant)
        files = list(_files(args.paths))
        runtime = build_runtime(services)
        service = runtime.ingest
        added = duplicates = failed = 0
        failures: list[str] = []
        arrivals = [
            Arrival(
                filename=path.name,
                source="cli",
                read=path.read_bytes,
                source_ref=str(path.resolve()),
                size=_size(path),
            )
            for path in files
        ]
        # several files in flight: one is parsed while the next is hashed and committed
        outcomes = service.receive_many(tenant.id, arrivals)
        for number, (arrival, outcome) in enumerate(outcomes, start=1):
            _progress(number, len(files), arrival.filename or "")
            if isinstance(outcome, IngestError | OSError):
                failed += 1
                failures.append(f"{arrival.source_ref}: {outcome}")
            elif outcome.duplicate:
                duplicates += 1
            elif outcome.document.state in ("failed", "unsupported"):
                failed += 1
                failures.append(f"{arrival.source_ref}: {outcome.document.error_message}")
            else:
                added += 1
        _progress(len(files), len(files), "")
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        runtime.queue.huey.storage.close()
    finally:
        services.close()
    for line in failures:
        print(f"failed: {line}", file=sys.stderr)
    print(f"{added} added, {duplicates} duplicates, {failed} failed")
    return 1 if failed and not added and not duplicates else 0
