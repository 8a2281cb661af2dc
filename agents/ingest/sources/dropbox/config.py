"""Settings of one drop box."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DropBoxConfig:
    """How a drop box watches its inbox.

    poll_interval_s      full rescan period; the fallback when file events are missed
                         (network mounts, inotify limits) and the PollingObserver's period
    stable_for_s         a file is taken once size, mtime and inode stayed the same this long
    max_file_bytes       larger files fail with "too_large" without reaching the sink;
                         None leaves the decision to the sink
    use_events           watch with watchdog; False means periodic scans only
    use_polling_observer watchdog's PollingObserver instead of inotify (network mounts)
    retry_interval_s     wait before retrying a file that hit a permission error
    stop_timeout_s       how long stop() waits for the threads (a sink call in progress)
    """

    poll_interval_s: float = 2.0
    stable_for_s: float = 1.0
    max_file_bytes: int | None = 100 * 1024 * 1024
    use_events: bool = True
    use_polling_observer: bool = False
    retry_interval_s: float = 5.0
    stop_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        for name in ("poll_interval_s", "retry_interval_s", "stop_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.stable_for_s < 0:
            raise ValueError("stable_for_s must not be negative")
        if self.max_file_bytes is not None and self.max_file_bytes < 0:
            raise ValueError("max_file_bytes must not be negative")
