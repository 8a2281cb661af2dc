"""Reading a dropped file for a sink without following links or blocking on FIFOs."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from agents.ingest.sources.dropbox.outcome import DropRejected


def read_dropped_file(path: Path, max_bytes: int | None = None) -> bytes:
    """Return the bytes of `path`, refusing anything but a regular file.

    Raises DropRejected ("forbidden" for a symlink swapped in after the watcher looked,
    "unsupported" for FIFOs/devices, "too_large" above `max_bytes`). OSError such as
    PermissionError propagates, so that the drop box retries later.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DropRejected("forbidden", "symbolic links are not accepted") from exc
        raise
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DropRejected("unsupported", "not a regular file")
        too_large = DropRejected("too_large", f"the file is larger than {max_bytes} bytes")
        if max_bytes is not None and st.st_size > max_bytes:
            raise too_large
        # Read at most one byte over the limit: the file may still grow after fstat.
        data = fh.read(-1 if max_bytes is None else max_bytes + 1)
        if max_bytes is not None and len(data) > max_bytes:
            raise too_large
        return data
