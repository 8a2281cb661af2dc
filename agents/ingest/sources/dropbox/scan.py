"""Which entries of an inbox are candidates, and a recursive listing that never follows links."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)

DONE_DIR = ".done"
FAILED_DIR = ".failed"
# Names that writers use while a file is incomplete (browsers, rsync, editors, uploaders).
TEMP_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", "~")


def is_ignored(relative_name: str) -> bool:
    """True for hidden entries, anything below a hidden folder (.done, .failed) and temp names."""
    parts = PurePosixPath(relative_name).parts
    if not parts or any(part.startswith(".") for part in parts):
        return True
    return parts[-1].lower().endswith(TEMP_SUFFIXES)


def iter_entries(root: Path) -> Iterator[Path]:
    """Yield every non-folder entry below `root` that is not ignored.

    Symlinks are yielded (never followed, not even to folders) so that the caller can
    refuse them; unreadable folders are logged and skipped until the next scan.
    """
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("drop box cannot list %s: %s", folder, exc)
            continue
        for entry in listed:
            path = Path(entry.path)
            if is_ignored(path.relative_to(root).as_posix()):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                stack.append(path)
            else:
                yield path
