"""Processing one received document as a list of small steps (paperless-style plugins).

Step contract: a step has a `name` and `run(context)`. It reads and fills the
`IngestContext`; it raises an `IngestError` to fail the document with that error's code
and message (`unsupported` marks the document `unsupported` instead of `failed`); any
other exception fails it with code `internal`. Steps run in order; a step may set
`context.done = True` to end the run early. The ledger row is already durable when the
pipeline starts, and every state change is committed before the next step runs, so a
crash leaves a document in a non-final state that the start-up reconciler re-queues.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from agents.documents.claims import claim
from agents.documents.ledger import DocumentLedger
from agents.documents.records import DocumentRecord
from agents.ingest.errors import IngestError, UnsupportedFormatError
from agents.ingest.sandbox.document import ParsedDocument
from agents.ingest.sandbox.limits import ParseLimits
from storage.errors import describe, transient_fault

log = logging.getLogger("appliance.ingest")

# the outcome of a document a transient fault interrupted: retried later, not failed
DEFERRED = "deferred"

ParseFunction = Callable[[bytes, str | None, ParseLimits], ParsedDocument]


@dataclass
class IngestContext:
    ledger: DocumentLedger
    document: DocumentRecord
    content: bytes = b""
    parsed: ParsedDocument | None = None
    children: list[str] = field(default_factory=list)
    done: bool = False


class IngestStep(Protocol):
    name: str

    def run(self, context: IngestContext) -> None: ...


class LoadOriginal:
    """Decrypt the stored original; mark the document `parsing` and count the attempt.

    Used by queued parses only. A document already `parsing` here was being parsed when
    a process died (the reconciler re-queued it), so this is another attempt and counts:
    the reconciler gives up after MAX_PARSE_ATTEMPTS.
    """

    name = "load_original"

    def run(self, context: IngestContext) -> None:
        if not claim(context.ledger.db, context.document.id, "parsing"):
            # a live process (server or worker) is parsing it: a duplicate delivery
            context.done = True
            return
        _, context.content = context.ledger.original(context.document.id)


class UseReceivedContent:
    """The content is still in memory (parsed at once): no need to decrypt it again."""

    name = "use_received_content"

    def __init__(self, content: bytes) -> None:
        self._content = content

    def run(self, context: IngestContext) -> None:
        context.content = self._content


class ParseStartedEarlier:
    """Take the result of a parse that began while the arrival was being made durable.

    Only the result is late: nothing about the document is stored before this step, so
    the contract above (row durable first, each state committed before the next step)
    holds."""

    name = "parse"

    def __init__(self, result: Callable[[], ParsedDocument]) -> None:
        self._result = result

    def run(self, context: IngestContext) -> None:
        context.parsed = self._result()


class ParseSandboxed:
    """Turn bytes into text and metadata in the resource-limited worker process."""

    name = "parse"

    def __init__(self, parse: ParseFunction, limits: ParseLimits) -> None:
        self._parse = parse
        self._limits = limits

    def run(self, context: IngestContext) -> None:
        context.parsed = self._parse(context.content, context.document.filename, self._limits)


class StoreText:
    """Persist pages, sections and metadata; the document becomes `parsed`."""

    name = "store_text"

    def run(self, context: IngestContext) -> None:
        assert context.parsed is not None
        context.ledger.save_parsed(context.document.id, context.parsed, context.document)


class ReceiveChildren:
    """Mail attachments and embedded messages become documents of their own."""

    name = "receive_children"

    def run(self, context: IngestContext) -> None:
        assert context.parsed is not None
        for child in context.parsed.children:
            received = context.ledger.receive(
                child.content,
                filename=child.filename,
                source=context.document.source,
                source_ref=f"{context.document.source_ref or ''}#{child.filename}"[:500],
                metadata={"content_type": child.content_type},
                parent_id=context.document.id,
            )
            if not received.duplicate:
                context.children.append(received.document.id)


def default_steps(parse: ParseFunction, limits: ParseLimits) -> list[IngestStep]:
    return [LoadOriginal(), ParseSandboxed(parse, limits), StoreText(), ReceiveChildren()]


def in_memory_steps(content: bytes, parse: ParseFunction, limits: ParseLimits) -> list[IngestStep]:
    """Steps for a document received with `parsing=True` (its attempt already counted)."""
    return [
        UseReceivedContent(content),
        ParseSandboxed(parse, limits),
        StoreText(),
        ReceiveChildren(),
    ]


def early_parse_steps(content: bytes, result: Callable[[], ParsedDocument]) -> list[IngestStep]:
    """Steps for a document whose parse was started before its row was committed."""
    return [
        UseReceivedContent(content),
        ParseStartedEarlier(result),
        StoreText(),
        ReceiveChildren(),
    ]


@dataclass(frozen=True)
class IngestOutcome:
    document_id: str
    state: str
    children: list[str]
    error_code: str | None = None
    # the row after a successful run, when it was read anyway
    document: DocumentRecord | None = None


def process_document(
    ledger: DocumentLedger,
    document_id: str,
    steps: Sequence[IngestStep],
    document: DocumentRecord | None = None,
) -> IngestOutcome:
    """Run the steps for one document and record how it ended.

    `document`: its row as just committed by the caller (saves reading it again)."""
    if document is None or document.id != document_id:
        document = ledger.get(document_id)
    if document.state not in ("received", "parsing"):
        # already parsed by an earlier delivery of the same task
        return IngestOutcome(document_id, document.state, [])
    context = IngestContext(ledger, document)
    try:
        for step in steps:
            step.run(context)
            if context.done:
                break
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the document
        if transient_fault(exc):
            return _deferred(ledger, document_id, exc, context.children)
        return _failed(ledger, document_id, exc, context.children)
    final = ledger.get(document_id)
    return IngestOutcome(document_id, final.state, context.children, document=final)


def _deferred(
    ledger: DocumentLedger, document_id: str, exc: Exception, children: list[str]
) -> IngestOutcome:
    """A fault of the machine (full disk, I/O error, busy database, killed parser): the
    document goes back to `received` to be parsed again, never to `failed`. If even that
    write fails it stays where it is; the fault reconciler finds it either way."""
    described = describe(exc)
    log.warning("document %s deferred: %s", document_id, described.code)
    try:
        ledger.defer(document_id, "received", described.code, described.message)
    except Exception as again:  # noqa: BLE001 - the reconciler retries it later
        log.warning("document %s: deferring it failed too (%s)", document_id, describe(again).code)
    return IngestOutcome(document_id, DEFERRED, children, described.code)


def _failed(
    ledger: DocumentLedger, document_id: str, exc: Exception, children: list[str]
) -> IngestOutcome:
    """A fault of the document (or a bug): it ends `failed` or `unsupported`. If the disk
    refuses even that write, the document stays where it was for the reconciler."""
    if isinstance(exc, IngestError):
        unsupported = isinstance(exc, UnsupportedFormatError)
        state, code, message = ("unsupported" if unsupported else "failed"), exc.code, str(exc)
        log.info("document %s %s: %s", document_id, state, code)
    else:
        log.exception("document %s failed in an unexpected way", document_id)
        unsupported, state, code = False, "failed", "internal"
        message = f"internal error while processing ({type(exc).__name__})"
    try:
        ledger.fail(document_id, code, message, unsupported=unsupported)
    except Exception as again:
        if not transient_fault(again):
            raise
        log.warning(
            "document %s: recording its failure failed (%s)", document_id, describe(again).code
        )
        return IngestOutcome(document_id, DEFERRED, children, describe(again).code)
    return IngestOutcome(document_id, state, children, code)
