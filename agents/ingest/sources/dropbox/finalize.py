"""Moving a processed file to .done/ or .failed/ (with its reason file), never overwriting."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from agents.ingest.sources.dropbox.names import REASON_SUFFIX, unique_name
from agents.ingest.sources.dropbox.outcome import DropOutcome
from agents.ingest.sources.dropbox.scan import DONE_DIR, FAILED_DIR

# Errors from os.link on file systems or setups without hard links; rename is used then.
_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomically(target: Path, payload: dict[str, object]) -> None:
    """Write JSON so that readers see the whole file or none (temp + fsync + rename)."""
    temp = target.with_name(f".{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.rename(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(target.parent)


def move_no_replace(source: Path, target: Path) -> None:
    """Move `source` (a file or the link itself) to `target`; FileExistsError if taken."""
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        if os.path.lexists(target):  # no hard links here: check, then rename
            raise FileExistsError(errno.EEXIST, "target exists", str(target)) from exc
        os.rename(source, target)
        return
    try:
        os.unlink(source)
    except OSError:
        os.unlink(target)  # leave one copy, in the inbox, so a retry sees a clean state
        raise


def reason_payload(outcome: DropOutcome, relative_name: str) -> dict[str, object]:
    """The content of `<name>.reason.json`."""
    payload: dict[str, object] = {
        "code": outcome.code,
        "message": outcome.message,
        "time": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "relative_name": relative_name,
    }
    if outcome.document_id is not None:
        payload["document_id"] = outcome.document_id
    return payload


def finalize(root: Path, path: Path, outcome: DropOutcome, relative_name: str) -> Path:
    """Move `path` out of the inbox according to `outcome`; return where it went."""
    failed = outcome.status == "failed"
    folder = root / (FAILED_DIR if failed else DONE_DIR)
    folder.mkdir(mode=0o700, exist_ok=True)
    for _ in range(100):  # another process could create the same name between check and move
        target = folder / unique_name(folder, path.name, with_reason=failed)
        reason = target.with_name(target.name + REASON_SUFFIX)
        if failed:
            # The reason goes first: a crash in between leaves a stray reason, never a
            # failed file without one.
            write_json_atomically(reason, reason_payload(outcome, relative_name))
        try:
            move_no_replace(path, target)
            return target
        except BaseException as exc:
            if failed:
                with contextlib.suppress(OSError):
                    os.unlink(reason)
            if not isinstance(exc, FileExistsError):
                raise
    raise FileExistsError(errno.EEXIST, "no free name", str(folder))
