"""Free, bounded-length names in .done/ and .failed/ (collisions get " (2)", " (3)", ...)."""

from __future__ import annotations

import os
from pathlib import Path

REASON_SUFFIX = ".reason.json"
_NAME_MAX = 255  # bytes per name on ext4, xfs, btrfs, NFS, SMB


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def unique_name(folder: Path, name: str, with_reason: bool) -> str:
    """The first free name among `name`, `stem (2).ext`, `stem (3).ext`, ... in `folder`.

    Names are shortened where needed so that the name plus `.reason.json` still fits.
    """
    room = _NAME_MAX - (len(REASON_SUFFIX) if with_reason else 0)
    stem, suffix = os.path.splitext(name)
    if _size(suffix) > 32:  # not a real extension; keep it out of the numbering
        stem, suffix = name, ""
    number = 1
    while True:
        end = ("" if number == 1 else f" ({number})") + suffix
        while stem and _size(stem + end) > room:
            stem = stem[:-1]
        candidate = (stem or "file") + end
        taken = os.path.lexists(folder / candidate)
        if with_reason:
            taken = taken or os.path.lexists(folder / (candidate + REASON_SUFFIX))
        if not taken:
            return candidate
        number += 1
