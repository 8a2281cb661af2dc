"""Free space on the data volume, and the guard that stops intake before SQLite runs out.

Intake (uploads, drop box, mail, hooks, workflow runs) asks `SpaceGuard.check()` before
it writes anything. Below the threshold it is refused with 507 `insufficient_storage`,
so the space left is kept for what frees space (deletes) and for WAL checkpoints.
Reads and deletes never ask. The answer follows the disk: once space returns, the next
check passes, with no restart.
"""

import os
import time
from collections.abc import Callable
from pathlib import Path

from storage.errors import InsufficientStorageError

MIB = 2**20


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on the volume holding `path`."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


class SpaceGuard:
    """Refuses new work while the data volume has less than `min_free_bytes` free.

    The volume is asked at most once per `ttl_s` (statvfs is cheap, but an upload burst
    would ask thousands of times a second)."""

    def __init__(
        self,
        path: Path,
        min_free_bytes: int,
        *,
        ttl_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.min_free_bytes = max(0, min_free_bytes)
        self._ttl_s = ttl_s
        self._clock = clock
        self._checked_at = float("-inf")
        self._free = 0

    def free(self) -> int:
        """Free bytes on the volume (cached for `ttl_s`)."""
        now = self._clock()
        if now - self._checked_at >= self._ttl_s:
            try:
                self._free = free_bytes(self.path)
            except OSError:
                self._free = 0  # a volume that cannot be asked is treated as full
            self._checked_at = now
        return self._free

    def low(self) -> bool:
        """True while intake is refused."""
        return self.min_free_bytes > 0 and self.free() < self.min_free_bytes

    def reason(self) -> str | None:
        """Why intake is refused now, in plain words, or None."""
        if not self.low():
            return None
        return (
            f"less than {self.min_free_bytes // MIB} MiB free on the data volume "
            f"({self.free() // MIB} MiB left); new documents are refused until space is freed"
        )

    def check(self) -> None:
        """Raise 507 `insufficient_storage` while the volume is below the threshold."""
        reason = self.reason()
        if reason is not None:
            raise InsufficientStorageError(
                "the appliance's disk is (almost) full; delete documents or free space, "
                "then try again",
                detail=reason,
            )
