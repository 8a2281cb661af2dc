"""The periodic document reconciler: nothing waits for a restart.

A document stays in a non-final state (received, parsing, parsed, indexing) when its
task was never queued (the queue's disk was full after the row committed), when a
transient fault deferred it (`IngestOutcome` / `IndexOutcome` state `deferred`: the
fault's code is noted on the row), or when even the write that would have deferred it
failed. `DocumentReconciler.run_once` queues each such document again once it has been
left alone long enough: a deferred one after its backoff (doubling with its attempts,
capped), any other after the grace (longer than one parse may take, so a task that is
merely running elsewhere is not duplicated; a duplicate is harmless anyway: the task
finds the document's state already moved on). Documents whose task waits in the queue
or runs in this process are skipped.
"""

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from agents.documents.ledger import DocumentLedger
from agents.documents.records import DocumentRecord
from agents.documents.tasks import IndexTask, ParseTask
from storage.errors import TRANSIENT_CODES
from storage.tenants import TenantRegistry

log = logging.getLogger("appliance.ingest.reconcile")


@dataclass(frozen=True)
class RetryPolicy:
    """When a document left behind is queued again (seconds)."""

    grace_s: float = 90.0  # no deferral noted: its task was lost or is long overdue
    backoff_s: float = 10.0  # after a transient fault: backoff * 2^(attempts-1) ...
    backoff_max_s: float = 3600.0  # ... at most this

    def wait_for(self, document: DocumentRecord) -> float:
        """Seconds since its last change after which `document` is queued again."""
        if document.error_code in TRANSIENT_CODES:
            exponent = min(max(0, document.attempts - 1), 20)
            return min(self.backoff_max_s, self.backoff_s * 2**exponent)
        return self.grace_s


def seconds_since(iso: str, now: float) -> float:
    """Seconds from an ISO timestamp of the ledger to `now` (epoch seconds)."""
    try:
        return now - datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return float("inf")


class DocumentReconciler:
    """Queues again the documents a transient fault or a lost task left behind."""

    def __init__(
        self,
        tenants: TenantRegistry,
        enqueue_parse: Callable[[ParseTask], object],
        enqueue_index: Callable[[IndexTask], object],
        in_hand: Callable[[], Collection[object]],
        policy: RetryPolicy,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenants = tenants
        self._enqueue_parse = enqueue_parse
        self._enqueue_index = enqueue_index
        self._in_hand = in_hand
        self.policy = policy
        self._clock = clock

    def run_once(self) -> int:
        """One pass over every tenant; returns how many documents were queued again."""
        held = self._in_hand()
        now = self._clock()
        queued = 0
        for tenant in self.tenants.system.list_tenants():
            ledger = DocumentLedger(self.tenants.database(tenant.id), self.tenants.blobs(tenant.id))
            for document in ledger.unfinished():
                if seconds_since(document.updated_at, now) < self.policy.wait_for(document):
                    continue
                task = task_for(tenant.id, document)
                if task in held:
                    continue
                if isinstance(task, ParseTask):
                    self._enqueue_parse(task)
                else:
                    self._enqueue_index(task)
                queued += 1
        if queued:
            log.info("re-queued %d document(s) left behind", queued)
        return queued


def task_for(tenant_id: str, document: DocumentRecord) -> ParseTask | IndexTask:
    """The task that moves `document` on from its state."""
    if document.state in ("received", "parsing"):
        return ParseTask(tenant_id, document.id)
    return IndexTask(tenant_id, document.id)
