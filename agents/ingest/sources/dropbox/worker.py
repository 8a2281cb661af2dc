"""One look at one candidate: wait until stable, hand to the sink, then move it out."""

from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path

from agents.ingest.sources.dropbox.config import DropBoxConfig
from agents.ingest.sources.dropbox.finalize import finalize
from agents.ingest.sources.dropbox.outcome import DropOutcome, Sink
from agents.ingest.sources.dropbox.sinkcall import call_sink
from agents.ingest.sources.dropbox.stability import Candidate, signature

log = logging.getLogger("agents.ingest.sources.dropbox")


class FileProcessor:
    """Processes candidates of one inbox; used by a single worker thread."""

    def __init__(self, root: Path, sink: Sink, config: DropBoxConfig, name: str) -> None:
        self.root, self.sink, self.config, self.name = root, sink, config, name

    def look(self, cand: Candidate) -> bool:
        """Advance `cand` one step; True when it is finished (moved out, or gone)."""
        try:
            st = os.lstat(cand.path)
        except FileNotFoundError:
            return True  # deleted or renamed before it was taken: nothing to do
        except OSError as exc:
            return self._retry_later(cand, exc)
        if cand.outcome is not None:  # the sink has answered; only the move is left
            return self._finish(cand, cand.outcome)
        if stat.S_ISLNK(st.st_mode):
            # Never read through a link (it may point out of the inbox); move the link.
            refused = DropOutcome.failed("forbidden", "symbolic links are not accepted")
            return self._finish(cand, refused)
        if stat.S_ISDIR(st.st_mode):
            return True  # its files are found by scans
        if not stat.S_ISREG(st.st_mode):
            return self._finish(cand, DropOutcome.failed("unsupported", "not a regular file"))
        if not cand.observe(signature(st), time.monotonic(), self.config.stable_for_s):
            return False
        limit = self.config.max_file_bytes
        if limit is not None and st.st_size > limit:
            message = f"the file has {st.st_size} bytes; the limit is {limit}"
            return self._finish(cand, DropOutcome.failed("too_large", message))
        outcome = call_sink(self.sink, cand, self.name)
        if isinstance(outcome, OSError):
            return self._retry_later(cand, outcome)
        if outcome is None:
            return True  # the file vanished before the sink could read it
        try:
            changed = signature(os.lstat(cand.path)) != cand.signature
        except FileNotFoundError:
            return True  # removed meanwhile; the sink has recorded what it read
        except OSError:
            changed = False
        if changed:
            # A writer resumed after the file looked stable. Moving it now would hide the
            # new bytes in .done/; take the new version once it is stable again.
            log.warning(
                "drop box %s: %s changed while taken; taking it again",
                self.name,
                cand.relative_name,
            )
            cand.signature, cand.due = None, time.monotonic()
            return False
        return self._finish(cand, outcome)

    def _finish(self, cand: Candidate, outcome: DropOutcome) -> bool:
        try:
            target = finalize(self.root, cand.path, outcome, cand.relative_name)
        except FileNotFoundError:
            return True
        except OSError as exc:
            cand.outcome = outcome
            return self._retry_later(cand, exc)
        log.info(
            "drop box %s: %s -> %s (%s)",
            self.name,
            cand.relative_name,
            target.relative_to(self.root).as_posix(),
            outcome.code,
        )
        return True

    def _retry_later(self, cand: Candidate, exc: OSError) -> bool:
        # Permission problems are often fixed by a person (chmod, chown); log once per
        # file and keep trying instead of failing the file for good.
        if not cand.warned:
            log.warning(
                "drop box %s: %s: %s; retrying every %.0f s",
                self.name,
                cand.relative_name,
                exc,
                self.config.retry_interval_s,
            )
            cand.warned = True
        cand.due = time.monotonic() + self.config.retry_interval_s
        return False
