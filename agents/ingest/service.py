"""The ingestion agent's entry points: receive content from any source, parse, hand on.

Sources (upload, CLI, drop box, mailboxes, hooks) all call `receive`. The ledger row is
committed first; parsing then happens either at once (`parse_now`, used where the source
needs the outcome before acknowledging, like the drop box) or through the queue. Parsed
documents are handed to indexing through `enqueue_index`.
"""

import contextlib
import logging
import time
from collections.abc import Callable, Container, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from agents.documents.claims import orphaned
from agents.documents.ledger import DocumentLedger
from agents.documents.records import DocumentRecord, sha256_of
from agents.documents.tasks import IndexTask, ParseTask
from agents.ingest.errors import IngestError, TooLargeError
from agents.ingest.pipeline import (
    IngestOutcome,
    ParseFunction,
    default_steps,
    early_parse_steps,
    in_memory_steps,
    process_document,
)
from agents.ingest.reconcile import requeue
from agents.ingest.sandbox.limits import ParseLimits
from storage.clock import seconds_since
from storage.errors import TRANSIENT_CODES, describe, transient_fault
from storage.tenants import TenantRegistry

log = logging.getLogger("appliance.ingest")

_MAX_CHILD_DEPTH = 3
_EARLY_PARSE_THREADS = 8
_BATCH_BYTES = 256 * 2**20
_NUDGE_AFTER_S = 10.0


def left_behind(document: DocumentRecord, now: float) -> bool:
    """A document still `received` after a transient fault held up its parse, or for
    longer than a queued parse should wait: a retry of its arrival queues it again (a
    second parse task is harmless: it finds the document already parsed)."""
    if document.state != "received":
        return False
    if document.error_code in TRANSIENT_CODES:
        return True
    return seconds_since(document.updated_at, now) > _NUDGE_AFTER_S


@dataclass(frozen=True)
class ReceiveResult:
    document: DocumentRecord
    duplicate: bool

    def public(self) -> dict[str, Any]:
        return {**self.document.public(), "duplicate": self.duplicate}


@dataclass(frozen=True)
class Arrival:
    """One item of a batch for `IngestService.receive_many`; `read` is called when its
    turn comes, so a batch of any size holds only the items in flight in memory."""

    filename: str | None
    source: str
    read: Callable[[], bytes]
    source_ref: str | None = None
    metadata: dict[str, Any] | None = None
    size: int = 0  # bytes `read` will return, when known: bounds what a batch holds at once


DeleteHook = Callable[[str, str], None]


class IngestService:
    """One per process; holds no per-request state."""

    def __init__(
        self,
        tenants: TenantRegistry,
        parse: ParseFunction,
        limits: ParseLimits,
        enqueue_parse: Callable[[ParseTask], object],
        enqueue_index: Callable[[IndexTask], object],
        parse_slots: int = 1,
        space_check: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenants = tenants
        # raises 507 while the data volume is below the intake threshold (storage.space)
        self._space_check = space_check or (lambda: None)
        self._clock = clock
        # documents a batch keeps in flight: while the parsers work on some, others are
        # being hashed, encrypted and committed (fsyncs), so the parsers never wait on disk;
        # after a long document the parser finds several short ones ready (measured with
        # one parser: 8 in flight was 3% faster in `bench ingest` than 4; 16, 32 no faster)
        self.batch_in_flight = 4 * max(1, parse_slots) + 4
        # ... but never more than this many bytes of content at once (one always goes)
        self.batch_bytes = _BATCH_BYTES
        self.limits = limits
        self._parse = parse
        self._enqueue_parse = enqueue_parse
        self._enqueue_index = enqueue_index
        self._delete_hooks: list[DeleteHook] = []
        # threads only wait on sandbox pipes; the parsing itself runs in the worker processes
        self._early_parses = ThreadPoolExecutor(
            max_workers=_EARLY_PARSE_THREADS, thread_name_prefix="early-parse"
        )

    def ledger(self, tenant_id: str) -> DocumentLedger:
        return DocumentLedger(self.tenants.database(tenant_id), self.tenants.blobs(tenant_id))

    def on_delete(self, hook: DeleteHook) -> None:
        """Register cleanup (e.g. index entries) run when a document is deleted."""
        self._delete_hooks.append(hook)

    def receive(
        self,
        tenant_id: str,
        content: bytes,
        *,
        filename: str | None,
        source: str,
        source_ref: str | None = None,
        metadata: dict[str, Any] | None = None,
        parse_now: bool = False,
    ) -> ReceiveResult:
        """Record one arrival durably, then parse it now or queue the parse.

        Refused with 507 `insufficient_storage` while the disk is (almost) full. Once the
        row is durable the arrival is accepted even if queueing its parse fails: the
        fault reconciler finds a document left `received` (agents/ingest/reconcile.py)."""
        self._space_check()
        ledger = self.ledger(tenant_id)
        if len(content) > self.limits.max_input_bytes:
            ledger.record_failed_arrival(
                source=source, source_ref=source_ref, filename=filename, detail="too_large"
            )
            raise TooLargeError(
                f"the file is larger than the limit of {self.limits.max_input_bytes // 2**20} MiB"
            )
        early = None
        digest = sha256_of(content)
        if parse_now and ledger.find_by_hash(digest) is None:
            # The sandbox parses in another process while this thread makes the arrival
            # durable (encrypted original, ledger row: three fsyncs); the result is used
            # only after the row is committed. Measured: see docs/benchmarks.md (ingest).
            early = self._early_parses.submit(self._parse, content, filename, self.limits)
        try:
            received = ledger.receive(
                content,
                filename=filename,
                source=source,
                source_ref=source_ref,
                metadata=metadata,
                parsing=parse_now,
                digest=digest,
            )
        except BaseException:
            if early is not None:
                early.cancel()
            raise
        document = received.document
        if received.duplicate:
            # lost a race with the same content arriving elsewhere: nothing to parse
            if early is not None:
                early.cancel()
            if left_behind(document, self._clock()):
                # a retry of an arrival a transient fault held up: move it on now
                self._queue_parse(ledger, ParseTask(tenant_id, document.id))
        elif early is not None:
            outcome = process_document(
                ledger, document.id, early_parse_steps(content, early.result), document
            )
            self._finish_parse(tenant_id, outcome)
            document = outcome.document or ledger.get(document.id)
        elif parse_now:
            steps = in_memory_steps(content, self._parse, self.limits)
            outcome = process_document(ledger, document.id, steps, document)
            self._finish_parse(tenant_id, outcome)
            document = outcome.document or ledger.get(document.id)
        else:
            self._queue_parse(ledger, ParseTask(tenant_id, document.id))
        return ReceiveResult(document, received.duplicate)

    def _queue_parse(self, ledger: DocumentLedger, task: ParseTask) -> None:
        """Queue a parse; if the queue cannot take it (a transient fault), note the fault
        on the row (best effort) and leave the document to the fault reconciler."""
        try:
            self._enqueue_parse(task)
        except Exception as exc:
            if not transient_fault(exc):
                raise
            described = describe(exc)
            log.warning("document %s: parse not queued (%s)", task.document_id, described.code)
            with contextlib.suppress(Exception):
                ledger.defer(task.document_id, "received", described.code, described.message)

    def receive_many(
        self,
        tenant_id: str,
        arrivals: Iterable[Arrival],
        in_flight: int | None = None,
        max_bytes: int | None = None,
    ) -> Iterator[tuple[Arrival, ReceiveResult | IngestError | OSError]]:
        """Receive and parse a batch (`appliance ingest`), several documents at a time.

        Yields each arrival with its result, or with the IngestError / OSError (reading
        it) that refused it, in the order they finish. Other errors end the batch. At most
        `in_flight` arrivals and `max_bytes` of declared sizes are in flight at once.
        """
        limit = max(1, in_flight or self.batch_in_flight)
        budget = max_bytes or self.batch_bytes
        items = iter(arrivals)
        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="ingest-batch") as pool:
            running: dict[Future[ReceiveResult], Arrival] = {}
            held = 0  # bytes of the arrivals in flight
            waiting: Arrival | None = None
            exhausted = False
            while running or not exhausted:
                while len(running) < limit:
                    if waiting is None:
                        waiting = next(items, None)
                        if waiting is None:
                            exhausted = True
                            break
                    if running and held + waiting.size > budget:
                        break  # it waits until enough of those in flight are done
                    running[pool.submit(self._receive_arrival, tenant_id, waiting)] = waiting
                    held += waiting.size
                    waiting = None
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    arrival = running.pop(future)
                    held -= arrival.size
                    error = future.exception()
                    if error is None:
                        yield arrival, future.result()
                    elif isinstance(error, IngestError | OSError):
                        yield arrival, error
                    else:
                        raise error

    def _receive_arrival(self, tenant_id: str, arrival: Arrival) -> ReceiveResult:
        return self.receive(
            tenant_id,
            arrival.read(),
            filename=arrival.filename,
            source=arrival.source,
            source_ref=arrival.source_ref,
            metadata=arrival.metadata,
            parse_now=True,
        )

    def parse(self, tenant_id: str, document_id: str, depth: int = 0) -> IngestOutcome:
        """Parse one document (and, synchronously, the attachments it contained)."""
        ledger = self.ledger(tenant_id)
        outcome = process_document(ledger, document_id, default_steps(self._parse, self.limits))
        self._finish_parse(tenant_id, outcome, depth)
        return outcome

    def _finish_parse(self, tenant_id: str, outcome: IngestOutcome, depth: int = 0) -> None:
        """Hand a parsed document to indexing; parse the attachments it contained."""
        ledger = self.ledger(tenant_id)
        if outcome.state == "parsed":
            self._enqueue_index(IndexTask(tenant_id, outcome.document_id))
        for child in outcome.children:
            if depth < _MAX_CHILD_DEPTH:
                self.parse(tenant_id, child, depth + 1)
            else:
                ledger.fail(child, "too_deep", "attachments nested too deeply were not opened")

    def close(self) -> None:
        """Stop the early-parse threads (a parse already running finishes first)."""
        self._early_parses.shutdown(wait=True, cancel_futures=True)

    def delete(
        self,
        tenant_id: str,
        document_id: str,
        *,
        actor: str | None = None,
        client: str | None = None,
    ) -> list[str]:
        """Remove a document, its attachments, text, originals and index entries (audited)."""
        title = self.ledger(tenant_id).get(document_id).title
        removed = self.ledger(tenant_id).delete(document_id)
        self.tenants.system.audit(
            "document.delete",
            actor=actor,
            tenant_id=tenant_id,
            target=document_id,
            client=client,
            detail={"title": title[:200], "removed": len(removed)},
        )
        for removed_id in removed:
            for hook in self._delete_hooks:
                hook(tenant_id, removed_id)
        return removed

    def reconcile(
        self,
        still_queued: Container[ParseTask | IndexTask] = (),
        stale_after_s: float | None = None,
    ) -> int:
        """At start-up: re-queue every document a crashed or killed process left in a
        non-final state (the periodic pass is `agents.ingest.reconcile.DocumentReconciler`).

        `still_queued`: the tasks the queue still holds (not yet taken by a worker before
        the process died); those documents are not queued a second time. Documents a live
        process (the server, another `appliance worker`) has claimed are left alone;
        unclaimed ones only once untouched for `stale_after_s` (None: this process is
        alone, so every unclaimed document counts at once).
        """
        queued = 0
        for tenant in self.tenants.system.list_tenants():
            ledger = self.ledger(tenant.id)
            queued += requeue(
                ledger,
                tenant.id,
                orphaned(ledger.db, stale_after_s),
                still_queued,
                self._enqueue_parse,
                self._enqueue_index,
            )
        if queued:
            log.info("re-queued %d unfinished document(s)", queued)
        return queued
