"""The composition root: builds every agent once, typed, and hands them out explicitly.

`build_runtime` is the one place that constructs long-lived agents (ingest, analysis,
LLM, answerer, auth, queue, mail polling, drop boxes, the workflow step registry). API
handlers receive them as Litestar dependencies, the UI backend and the CLI as
arguments. Queue tasks are registered by `app.tasks`, which builds nothing itself.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from agents.act.dispatcher import Dispatcher
from agents.analyze.answer import Answerer
from agents.analyze.chunking import Chunker
from agents.analyze.remote_embedding import RemoteEmbedder
from agents.analyze.service import AnalysisService
from agents.documents.tasks import IndexTask
from agents.ingest.reconcile import DocumentReconciler, RetryPolicy
from agents.ingest.sandbox.limits import ParseLimits
from agents.ingest.sandbox.pool import SandboxPool
from agents.ingest.sandbox.worker_process import remove_stale_scratch
from agents.ingest.service import IngestService
from agents.ingest.sources.dropbox import DropBoxConfig
from agents.ingest.sources.inboxes import DropBoxes
from agents.ingest.sources.mail_ingest import MailScheduler
from agents.llm import LLMService
from agents.llm.endpoints import EndpointPool
from agents.models import ModelNotFoundError, locate_embedding_model
from agents.report.service import ReportService
from agents.report.step import ReportStep
from agents.supervisor.service import Supervisor
from agents.supervisor.step import StepRegistry
from agents.telemetry.metrics import Metrics
from agents.telemetry.timed import timed_parse
from app import tasks
from app.act_wiring import build_dispatcher, register_action_steps
from app.auth.kit import AuthKit, build_auth_kit
from app.fault_recovery import FaultReconciler
from app.inference_wiring import InferenceHealth, build_embedder, build_llm_pool
from app.llm_wiring import build_answerer, build_llm
from app.observability.wiring import Observability, build_observability
from app.queue import QueueRunner, build_queues
from app.report_wiring import build_reports, requeue_unfinished_reports
from app.services import Services
from app.settings import Settings
from app.workflow_wiring import builtin_steps, document_indexed, wire_supervisor
from storage.space import SpaceGuard

log = logging.getLogger("appliance.runtime")


def parse_limits_of(settings: Settings) -> ParseLimits:
    """The sandbox limits `[ingest]` sets."""
    ingest = settings.ingest
    return ParseLimits(
        wall_seconds=ingest.parse_timeout_s,
        cpu_seconds=int(ingest.parse_timeout_s),
        memory_bytes=ingest.parse_memory_mb * 2**20,
        max_input_bytes=ingest.max_file_mb * 2**20,
        max_unzipped_bytes=ingest.max_unzipped_mb * 2**20,
        max_zip_entries=ingest.max_zip_entries,
    )


def build_fault_reconciler(
    services: Services,
    queue: QueueRunner,
    document_tasks: tasks.DocumentTasks,
    supervisor: Supervisor,
    dispatcher: Dispatcher,
    reports: ReportService,
    clock: Callable[[], float] = time.time,
) -> FaultReconciler:
    """The periodic fault reconciler (app/fault_recovery.py) over this runtime's agents."""
    storage = services.settings.storage
    policy = RetryPolicy(
        grace_s=services.settings.queue.orphan_after_s,
        own_claim_grace_s=services.settings.ingest.parse_timeout_s + storage.reconcile_interval_s,
        backoff_s=storage.retry_backoff_s,
        backoff_max_s=storage.retry_backoff_max_s,
    )
    documents = DocumentReconciler(
        services.tenants,
        document_tasks.parse,
        document_tasks.index,
        queue.payloads_in_hand,
        policy,
        clock,
    )
    orphan_after_s = services.settings.queue.orphan_after_s

    def reports_left_behind() -> int:
        return requeue_unfinished_reports(reports, services, queue, orphan_after_s, clock())

    return FaultReconciler(services.tenants, documents, supervisor, dispatcher, reports_left_behind)


def dropbox_config(settings: Settings) -> DropBoxConfig:
    """The drop-box settings `[ingest]` sets."""
    ingest = settings.ingest
    return DropBoxConfig(
        poll_interval_s=ingest.dropbox_poll_interval_s,
        stable_for_s=ingest.dropbox_stable_for_s,
        # the ledger records over-size files too, so the sink sees every file
        max_file_bytes=None,
        use_polling_observer=ingest.dropbox_use_polling,
    )


@dataclass(frozen=True)
class Answering:
    """What answering questions needs; the CLI `ask` builds only this. Without a language
    model file `llm` and `answerer` are None: search works, asking says so (503)."""

    analysis: AnalysisService
    llm: LLMService | None
    answerer: Answerer | None
    inference: InferenceHealth | None = None


def build_answering(services: Services, metrics: Metrics | None = None) -> Answering:
    """Analysis (embeddings, search), the LLM and the answerer; models load lazily. With
    enabled `metrics` the embedder and the LLM backend record every call."""
    settings = services.settings
    # the local model's tokenizer chunks the text even when a server embeds it
    embedding_model = locate_embedding_model(settings.models.embedding_model)
    embedder = build_embedder(settings, embedding_model, metrics)
    if isinstance(embedder, RemoteEmbedder):
        services.on_close(embedder.close)
    analysis = AnalysisService(services.tenants, embedder, Chunker(embedding_model.path))
    llm_pool = build_llm_pool(settings)
    inference = InferenceHealth(
        llm_pool,
        EndpointPool([embedder]) if isinstance(embedder, RemoteEmbedder) else None,
        settings.inference.health_max_age_s,
    )
    try:
        llm = build_llm(settings, metrics, llm_pool)
    except ModelNotFoundError as exc:
        log.warning("no language model: %s", exc)
        return Answering(analysis, None, None, inference)
    services.on_close(llm.close)
    return Answering(analysis, llm, build_answerer(settings, analysis, llm), inference)


@dataclass
class Runtime:
    """Every agent and service of one process, built once by `build_runtime`."""

    services: Services
    observability: Observability
    queue: QueueRunner
    auth: AuthKit
    sandbox: SandboxPool
    ingest: IngestService
    analysis: AnalysisService
    llm: LLMService | None
    answerer: Answerer | None
    mail_scheduler: MailScheduler
    enqueue: tasks.Enqueuers
    steps: StepRegistry
    dispatcher: Dispatcher
    supervisor: Supervisor
    reports: ReportService
    space: SpaceGuard
    # the periodic hook: documents, run steps and outbox messages left by transient faults
    fault_reconciler: FaultReconciler
    dropboxes: DropBoxes | None = None
    inference: InferenceHealth | None = None  # inference servers in use, for health

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def require_llm(self) -> LLMService:
        """The language model service, or the 503 `model_not_found` a caller can show."""
        if self.llm is None:
            raise ModelNotFoundError("no language model is configured or installed")
        return self.llm

    def require_answerer(self) -> Answerer:
        if self.answerer is None:
            raise ModelNotFoundError("no language model is configured or installed")
        return self.answerer

    def close(self) -> None:
        self.services.close()


def build_runtime(
    services: Services,
    *,
    clock: Callable[[], float] = time.time,
    dropboxes: bool = False,
) -> Runtime:
    """Build every agent and register the queue tasks. `dropboxes` adds the watched
    inboxes (the server wants them; the CLI and most tests do not)."""
    settings = services.settings
    observability = build_observability(services)
    metrics = observability.metrics
    hueys = build_queues(services.data, services.master, settings)
    queue = QueueRunner(hueys.pop("default"), settings, metrics, groups=hueys)
    kit = build_auth_kit(services, clock=clock)

    scratch = services.data.scratch_dir
    scratch.mkdir(mode=0o700, exist_ok=True)
    remove_stale_scratch(scratch)
    pool = SandboxPool(max_workers=settings.ingest.parse_workers, scratch_dir=scratch)
    services.on_close(pool.close)
    answering = build_answering(services, metrics)
    analysis = answering.analysis

    def index(task: IndexTask) -> None:
        started = time.perf_counter()
        outcome = analysis.index_document(task.tenant_id, task.document_id)
        metrics.indexed(time.perf_counter() - started, outcome.state)
        if outcome.state == "indexed":
            document_indexed(supervisor, task.tenant_id, task.document_id)

    # the task bodies refer to `ingest`, built below with the enqueue functions they return
    document_tasks = tasks.register_document_tasks(
        queue,
        parse=lambda task: ingest.parse(task.tenant_id, task.document_id),
        index=index,
    )
    space = SpaceGuard(services.data.root, settings.storage.intake_min_free_mb * 2**20)
    ingest = IngestService(
        services.tenants,
        timed_parse(pool.parse, metrics),
        parse_limits_of(settings),
        document_tasks.parse,
        document_tasks.index,
        parse_slots=pool.max_workers,
        space_check=space.check,
        clock=clock,
    )
    # closers run last-registered first: the early-parse threads stop before the pool
    services.on_close(ingest.close)
    tasks.register_maintenance_tasks(queue, services)
    scheduler = MailScheduler(services.tenants, settings.ingest.mail_poll_interval_minutes)
    mail_poll = tasks.register_mail_tasks(queue, ingest, scheduler)
    dispatcher = build_dispatcher(queue, services)
    # the one step registry: the supervisor's own steps, then each agent's
    steps = StepRegistry()
    for step in builtin_steps(analysis, answering.llm, answering.answerer):
        steps.register(step)
    register_action_steps(steps, dispatcher)
    reports = build_reports(services, queue, answering.llm, answering.answerer)
    steps.register(ReportStep(reports))
    supervisor = wire_supervisor(queue, services, steps, clock)
    fault_reconciler = build_fault_reconciler(
        services, queue, document_tasks, supervisor, dispatcher, reports, clock
    )
    runtime = Runtime(
        services=services,
        observability=observability,
        queue=queue,
        auth=kit,
        sandbox=pool,
        ingest=ingest,
        analysis=analysis,
        llm=answering.llm,
        answerer=answering.answerer,
        mail_scheduler=scheduler,
        enqueue=tasks.Enqueuers(
            parse=document_tasks.parse, index=document_tasks.index, mail_poll=mail_poll
        ),
        steps=steps,
        dispatcher=dispatcher,
        supervisor=supervisor,
        reports=reports,
        inference=answering.inference,
        space=space,
        fault_reconciler=fault_reconciler,
    )
    if dropboxes and settings.ingest.dropbox_enabled:
        boxes = DropBoxes(
            services.system.list_tenants,
            services.data.inbox_dir,
            dropbox_config(settings),
            ingest,
            settings.ingest.max_file_mb * 2**20,
        )
        # the server follows the tenant list itself (app/server.py): its inboxes are its own
        runtime.dropboxes = boxes
    return runtime
