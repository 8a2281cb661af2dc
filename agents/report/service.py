"""ReportService: request a report (a row, then generation on the queue), generate it
into an encrypted blob of the tenant, list, download and delete reports.

Data given with a request waits in a blob of its own (the queue carries ids only). The
file is written to a scratch file first and streamed into the blob store, so a large
XLSX never sits in memory whole.
"""

import logging
import os
import tempfile
import time
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from agents.report.catalog import TemplateCatalog
from agents.report.dataset import ReportData, check_fields, from_input
from agents.report.errors import (
    InvalidReportRequest,
    ReportError,
    ReportNotReadyError,
    TooLargeError,
)
from agents.report.markdown import fill
from agents.report.params import resolve_params
from agents.report.render import RenderLimits, check_format, render
from agents.report.sources import DataSources, declared
from agents.report.store import ReportRecord, ReportStore
from agents.report.template import Template
from storage.clock import now_iso, seconds_since
from storage.errors import StorageError
from storage.process_identity import process_token, token_alive
from storage.tenants import TenantRegistry

log = logging.getLogger("appliance.report")
Enqueue = Callable[[str, str], None]  # (tenant id, report id)
SCRATCH_PREFIX = "report-"


@dataclass(frozen=True)
class Requested:
    """What a caller asked for, after validation."""

    template: Template
    fmt: str
    params: dict[str, Any]
    given: ReportData


class ReportService:
    """Built once by the composition root; holds no per-tenant state."""

    def __init__(
        self,
        tenants: TenantRegistry,
        sources: DataSources,
        limits: RenderLimits | None = None,
        scratch_dir: Path | None = None,
        enqueue: Enqueue | None = None,
    ) -> None:
        self.tenants = tenants
        self.sources = sources
        self.limits = limits or RenderLimits()
        self.scratch_dir = scratch_dir
        self.enqueue = enqueue

    def catalog(self, tenant_id: str) -> TemplateCatalog:
        return TemplateCatalog(self.tenants.database(tenant_id))

    def store(self, tenant_id: str) -> ReportStore:
        return ReportStore(self.tenants.database(tenant_id))

    def check(
        self, tenant_id: str, template_id: str, fmt: str, params: dict[str, Any] | None, data: Any
    ) -> Requested:
        """Validate a request without generating: template, format, parameters, fields."""
        template = self.catalog(tenant_id).get(template_id)
        check_format(template, fmt)
        resolved = resolve_params(template, params)
        given = from_input(data)
        check_fields(template, declared(template, resolved).merged(given))
        if fmt == "pdf":
            rows = sum(
                len(given.datasets.get(s.dataset, []))
                for s in template.sections
                if s.kind == "table"
            )
            if rows > self.limits.pdf.max_rows:
                raise TooLargeError(
                    f"the tables have {rows:,} rows; a PDF report holds at most "
                    f"{self.limits.pdf.max_rows:,} (choose XLSX or CSV for more)"
                )
        return Requested(template, fmt, resolved, given)

    def request(
        self,
        tenant_id: str,
        template_id: str,
        fmt: str,
        params: dict[str, Any] | None,
        data: Any,
        created_by: str,
        *,
        run_id: str | None = None,
        step_key: str | None = None,
        enqueue: bool = True,
    ) -> ReportRecord:
        """Record a report (status queued) and queue its generation; validation first."""
        store = self.store(tenant_id)
        if step_key is not None:
            existing = store.by_step_key(step_key)
            if existing is not None:
                return existing
        wanted = self.check(tenant_id, template_id, fmt, params, data)
        input_blob = None
        if data is not None:
            input_blob = self.tenants.blobs(tenant_id).put(msgspec.json.encode(data))
        title = fill(wanted.template.title, {**wanted.given.values, **wanted.params})
        record = store.insert(
            template=wanted.template.id,
            title=title[:200],
            params=wanted.params,
            fmt=fmt,
            created_by=created_by,
            run_id=run_id,
            step_key=step_key,
            input_blob_id=input_blob,
        )
        if enqueue and self.enqueue is not None:
            self.enqueue(tenant_id, record.id)
        return record

    def generate(self, tenant_id: str, report_id: str) -> ReportRecord:
        """Make the report file; the row ends succeeded or failed (never raises a ReportError)."""
        store = self.store(tenant_id)
        record = store.get(report_id)
        if record.status == "succeeded" or not store.claim(report_id):
            return record  # made already, or being made by another live process
        try:
            pages, blob_id, size = self._produce(tenant_id, record)
        except (ReportError, StorageError) as exc:
            store.fail(report_id, exc.code, exc.message)
        except MemoryError:
            store.fail(report_id, TooLargeError.code, "the report needed more memory than allowed")
        except Exception:
            log.exception("report %s failed", report_id[:8])
            store.fail(report_id, "generation_failed", "the report could not be generated")
        else:
            blobs = self.tenants.blobs(tenant_id)
            if not store.succeed(report_id, blob_id, size, pages):
                blobs.delete(blob_id)  # deleted while it was being made
            if record.input_blob_id:
                blobs.delete(record.input_blob_id)
        return store.get(report_id)

    def _produce(self, tenant_id: str, record: ReportRecord) -> tuple[int | None, str, int]:
        blobs = self.tenants.blobs(tenant_id)
        template = self.catalog(tenant_id).get(record.template)
        raw = blobs.get(record.input_blob_id) if record.input_blob_id else None
        given = from_input(msgspec.json.decode(raw) if raw is not None else None)
        params = {k: v for k, v in record.params.items()}
        data = self.sources.collect(tenant_id, template, params, given)
        if self.scratch_dir is not None:
            self.scratch_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # the plaintext file lives only while it is encrypted into the blob store; named
        # after this process, so a later start removes what a killed one left
        handle, path = tempfile.mkstemp(
            prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=self.scratch_dir
        )
        try:
            with os.fdopen(handle, "w+b") as out:
                pages = render(template, data, record.format, out, self.limits, now_iso()[:10])
                out.flush()
                size = out.tell()
                out.seek(0)
                blob_id = blobs.put(out)
        finally:
            Path(path).unlink(missing_ok=True)
        return pages, blob_id, size

    def produce_now(
        self,
        tenant_id: str,
        template_id: str,
        fmt: str,
        params: dict[str, Any] | None,
        data: Any,
        created_by: str,
        *,
        run_id: str | None = None,
        step_key: str | None = None,
    ) -> ReportRecord:
        """Request and generate at once (for workflow steps, already on the queue)."""
        record = self.request(
            tenant_id,
            template_id,
            fmt,
            params,
            data,
            created_by,
            run_id=run_id,
            step_key=step_key,
            enqueue=False,
        )
        return self.generate(tenant_id, record.id) if record.status != "succeeded" else record

    def get(self, tenant_id: str, report_id: str) -> ReportRecord:
        return self.store(tenant_id).get(report_id)

    def list_reports(
        self,
        tenant_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        status: str | None = None,
    ) -> tuple[list[ReportRecord], str | None]:
        if status is not None and status not in ("queued", "running", "succeeded", "failed"):
            raise InvalidReportRequest(f"unknown status {status!r}")
        return self.store(tenant_id).page(limit=limit, cursor=cursor, status=status)

    def download(self, tenant_id: str, report_id: str) -> tuple[ReportRecord, Iterator[bytes]]:
        """The finished file, decrypted segment by segment."""
        record = self.get(tenant_id, report_id)
        if record.status != "succeeded" or not record.blob_id:
            raise ReportNotReadyError(f"report {report_id} is {record.status}, not ready")
        return record, self.tenants.blobs(tenant_id).iter_plaintext(record.blob_id)

    def content(self, tenant_id: str, report_id: str) -> tuple[ReportRecord, bytes]:
        record, chunks = self.download(tenant_id, report_id)
        return record, b"".join(chunks)

    def delete(self, tenant_id: str, report_id: str) -> ReportRecord:
        """Remove the row, then its blobs (a crash between leaves an orphan blob, no row)."""
        record = self.store(tenant_id).delete(report_id)
        blobs = self.tenants.blobs(tenant_id)
        for blob_id in (record.blob_id, record.input_blob_id):
            if blob_id:
                blobs.delete(blob_id)
        return record

    def requeue_unfinished(
        self,
        tenant_id: str,
        still_queued: Container[str] = (),
        stale_after_s: float | None = None,
        now: float | None = None,
    ) -> int:
        """Queue again what stopped processes left queued or running, except the reports
        whose task still waits in the queue (`still_queued` ids) and those another live
        process is generating. `stale_after_s`: None at start-up (nothing runs yet: all
        of them); else a queued report (its task lost) waits that long since its request,
        and a running one is taken over once the process that claimed it died."""
        if self.enqueue is None:
            return 0
        count = 0
        for record in self.store(tenant_id).unfinished():
            if record.id in still_queued or not left_behind(record, stale_after_s, now):
                continue
            self.enqueue(tenant_id, record.id)
            count += 1
        return count


def left_behind(record: ReportRecord, stale_after_s: float | None, now: float | None) -> bool:
    """True when nobody will finish `record` unless it is queued again."""
    holder = record.claimed_by
    if record.status == "running" and holder is not None:
        if holder == process_token():  # this process is making it (start-up: a test's restart)
            return stale_after_s is None
        return not token_alive(holder)
    if stale_after_s is None:
        return True
    moment = time.time() if now is None else now
    return seconds_since(record.created_at, moment) >= stale_after_s


def download_name(record: ReportRecord) -> str:
    """A file name for the report: template and date, never user text."""
    return f"{record.template}-{record.created_at[:10]}-{record.id[:8]}.{record.format}"


def remove_stale_report_files(scratch_dir: Path) -> int:
    """Delete scratch files of report processes that are no longer running."""
    removed = 0
    for entry in scratch_dir.glob(f"{SCRATCH_PREFIX}*"):
        pid = entry.name.removeprefix(SCRATCH_PREFIX).split("-")[0]
        if pid.isdigit() and not _running(int(pid)):
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
