"""Calling the sink so that no exception of its own can stop the worker."""

from __future__ import annotations

import logging
import os

from agents.ingest.sources.dropbox.outcome import DropOutcome, DropRejected, Sink
from agents.ingest.sources.dropbox.stability import Candidate
from storage.errors import ApplianceError, describe

log = logging.getLogger("agents.ingest.sources.dropbox")


def one_line(exc: BaseException) -> str:
    """The exception's message for a reason file: one line, no traceback, bounded."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:500]


def call_sink(sink: Sink, cand: Candidate, box: str) -> DropOutcome | PermissionError | None:
    """The sink's verdict on `cand`.

    Returns the PermissionError when the file should be retried later (the sink could not
    read it), and None when the file vanished before the sink could read it. Any other
    exception becomes a failed outcome with code "internal" and the exception's message;
    the traceback goes to the log only.
    """
    try:
        outcome = sink(cand.path, cand.relative_name)
    except DropRejected as exc:
        return DropOutcome.failed(exc.code, exc.message)
    except PermissionError as exc:
        return exc
    except FileNotFoundError as exc:
        if not os.path.lexists(cand.path):
            return None
        log.exception("drop box %s: sink failed on %s", box, cand.relative_name)
        return DropOutcome.failed("internal", one_line(exc))
    except ApplianceError as exc:
        # a refusal with a code and plain words (507 insufficient_storage on a full disk)
        described = describe(exc)
        log.warning("drop box %s: %s refused: %s", box, cand.relative_name, described.code)
        return DropOutcome.failed(described.code, described.message)
    except Exception as exc:
        log.exception("drop box %s: sink failed on %s", box, cand.relative_name)
        return DropOutcome.failed("internal", one_line(exc))
    if not isinstance(outcome, DropOutcome):
        message = f"the sink returned {type(outcome).__name__}, not a DropOutcome"
        log.error("drop box %s: %s", box, message)
        return DropOutcome.failed("internal", message)
    return outcome
