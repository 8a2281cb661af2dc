"""The periodic document reconciler: nothing waits for a restart.

A document stays in a non-final state (received, parsing, parsed, indexing) when its
task was never queued (the queue's disk was full after the row committed), when a
transient fault deferred it (`IngestOutcome` / `IndexOutcome` state `deferred`: the
fault's code is noted on the row), when even the write that would have deferred it
failed, or when the process that claimed it (agents/documents/claims.py) died.
`DocumentReconciler.run_once` is the one periodic pass over all of them (run by the
fault reconciler in the periodic lease owner; start-up has its own pass,
`IngestService.reconcile`). Each document is queued again when:

- a dead process held its claim: at once;
- a transient fault deferred it: after its backoff (doubling with its attempts, capped);
- otherwise: once untouched for the grace (longer than one parse may take).

Documents a live process has claimed, and those whose task waits in the queue or runs in
this process, are left alone; a duplicate would be harmless anyway (the task finds the
claim held or the state moved on). A document whose parse took its process down
`MAX_PARSE_ATTEMPTS` times is marked failed instead of being tried again.
"""

import logging
import time
from collections.abc import Callable, Collection, Container, Iterable
from dataclasses import dataclass

from agents.documents.claims import ACTIVE_STATES, Unfinished, unfinished
from agents.documents.ledger import DocumentLedger
from agents.documents.tasks import IndexTask, ParseTask
from storage.clock import seconds_since
from storage.errors import TRANSIENT_CODES
from storage.process_identity import process_token, token_alive
from storage.tenants import TenantRegistry

log = logging.getLogger("appliance.ingest.reconcile")

# a parse interrupted this often (its process killed each time, not by a transient fault)
# is the file's doing: it is failed rather than allowed to take down another process
MAX_PARSE_ATTEMPTS = 3


@dataclass(frozen=True)
class RetryPolicy:
    """When a document left behind is queued again (seconds)."""

    grace_s: float = 120.0  # no deferral noted, nobody's claim: its task was lost
    # claimed by this process outside a queued task (a parse run at once on upload):
    # longer than one parse may take, so it is not queued a second time beside itself
    own_claim_grace_s: float = 150.0
    backoff_s: float = 10.0  # after a transient fault: backoff * 2^(attempts-1) ...
    backoff_max_s: float = 3600.0  # ... at most this

    def wait_for(self, document: Unfinished) -> float:
        """Seconds since its last change after which `document` is queued again."""
        if document.error_code in TRANSIENT_CODES:
            exponent = min(max(0, document.attempts - 1), 20)
            return min(self.backoff_max_s, self.backoff_s * 2**exponent)
        if document.state in ACTIVE_STATES and document.claimed_by == process_token():
            return max(self.grace_s, self.own_claim_grace_s)
        return self.grace_s


def held_by_other_live_process(document: Unfinished) -> bool:
    """A live process other than this one is parsing or indexing `document`."""
    holder = document.claimed_by
    if document.state not in ACTIVE_STATES or holder in (None, process_token()):
        return False
    return token_alive(holder)


def claimed_by_dead_process(document: Unfinished) -> bool:
    """The process that was parsing or indexing `document` is gone."""
    holder = document.claimed_by
    return document.state in ACTIVE_STATES and holder is not None and not token_alive(holder)


def gave_up(ledger: DocumentLedger, document: Unfinished) -> bool:
    """Fail `document` (True) when its parse was interrupted `MAX_PARSE_ATTEMPTS` times
    by something other than a transient fault: it takes its process down every time."""
    if (
        document.state != "parsing"
        or document.attempts < MAX_PARSE_ATTEMPTS
        or document.error_code in TRANSIENT_CODES
    ):
        return False
    ledger.fail(
        document.document_id,
        "crashed",
        f"parsing was interrupted {document.attempts} times; giving up",
    )
    return True


class DocumentReconciler:
    """Queues again the documents a transient fault, a lost task or a dead process left."""

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
            due = [d for d in unfinished(ledger.db) if self._due(d, now)]
            queued += requeue(
                ledger, tenant.id, due, held, self._enqueue_parse, self._enqueue_index
            )
        if queued:
            log.info("re-queued %d document(s) left behind", queued)
        return queued

    def _due(self, document: Unfinished, now: float) -> bool:
        if held_by_other_live_process(document):
            return False
        if claimed_by_dead_process(document):
            return True
        return seconds_since(document.updated_at, now) >= self.policy.wait_for(document)


def requeue(
    ledger: DocumentLedger,
    tenant_id: str,
    documents: Iterable[Unfinished],
    skip: Container[object],
    enqueue_parse: Callable[[ParseTask], object],
    enqueue_index: Callable[[IndexTask], object],
) -> int:
    """Queue the task that moves each document on, except those in `skip` (waiting or
    running already) and those `gave_up` fails; returns how many were queued."""
    queued = 0
    for document in documents:
        task = task_for(tenant_id, document)
        if task in skip or gave_up(ledger, document):
            continue
        if isinstance(task, ParseTask):
            enqueue_parse(task)
        else:
            enqueue_index(task)
        queued += 1
    return queued


def task_for(tenant_id: str, document: Unfinished) -> ParseTask | IndexTask:
    """The task that moves `document` on from its state."""
    if document.state in ("received", "parsing"):
        return ParseTask(tenant_id, document.document_id)
    return IndexTask(tenant_id, document.document_id)
