"""Every Prometheus metric family of the appliance, and one recording method per event.

One `Metrics` object per process, built by the composition root with its own registry and
passed to whatever records (the HTTP middleware, the queue, the LLM meter, the workflow
engine, the outbox). With `enabled=False` every method returns at once and the registry
stays empty, so turning metrics off costs nothing.

Names follow the Prometheus conventions: the `appliance_` prefix, base units (seconds,
bytes), `_total` on counters. A `tenant` label is the tenant's slug only while the
number of tenants is at most `[observability] tenant_label_limit` (see `tenant_label`),
otherwise "all"; user ids never become labels.

Families for parts still being built (workflow runs and steps, the outbox) are defined
here already, with their recording methods, so the supervisor and act agents only call:
    metrics.workflow_run_finished("succeeded"); metrics.step_finished("report", 1.2, "ok")
    metrics.outbox_delivered("webhook", latency_s, "delivered"); metrics.set_outbox(p, d)
"""

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.process_collector import ProcessCollector

from agents.telemetry.tracing import Tracing

PREFIX = "appliance"
ALL_TENANTS = "all"
# request latencies: sub-millisecond listings up to slow uploads
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# background work: parsing, indexing, model calls, workflow steps
WORK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
STEP_STATUSES = ("ok", "failed", "skipped", "cancelled")


def status_class(status: int) -> str:
    """`2xx`, `4xx`, ... : the HTTP status label (exact codes would multiply the series)."""
    return f"{status // 100}xx"


class Metrics:
    """The metric families and the methods that record them."""

    def __init__(self, enabled: bool = True, info: dict[str, str] | None = None) -> None:
        self.enabled = enabled
        self.registry = CollectorRegistry(auto_describe=True)
        # tenant id -> label value; the composition root installs the slug lookup
        self.tenant_label: Callable[[str], str] = lambda _tenant_id: ALL_TENANTS
        # spans travel with the metrics to whatever records them (off: no tracer)
        self.tracing = Tracing(None)
        reg = self.registry if enabled else None
        kw: dict[str, Any] = {"namespace": PREFIX, "registry": reg}
        self.info = Info("appliance", "Version of the appliance and its main parts.", registry=reg)
        if enabled:
            ProcessCollector(namespace=PREFIX, registry=self.registry)
            self.info.info(info or {})
        # HTTP: appliance_http_requests_total and appliance_http_request_duration_seconds
        # come from app/observability/http_metrics.py (lock-free, on the event loop)
        # queue (app/queue.py wraps every task)
        self.tasks = Counter(
            "queue_tasks",
            "Queue tasks finished, by task type and outcome (ok, failed).",
            ["task", "outcome"],
            **kw,
        )
        self.task_duration = Histogram(
            "queue_task_duration_seconds",
            "Queue task run time by task type.",
            ["task"],
            buckets=WORK_BUCKETS,
            **kw,
        )
        self.tasks_running = Gauge(
            "queue_tasks_running", "Queue tasks running now, by task type.", ["task"], **kw
        )
        # ingest and analysis
        # documents received by source are counted from the ledger's arrivals at scrape
        # time (app/observability/collectors.py: appliance_ingest_documents_total)
        self.parse_duration = Histogram(
            "parse_duration_seconds",
            "Time to parse one document in the sandbox.",
            ["outcome"],
            buckets=WORK_BUCKETS,
            **kw,
        )
        self.embed_duration = Histogram(
            "embed_duration_seconds",
            "Time of one embedding call (a batch of chunks).",
            buckets=WORK_BUCKETS,
            **kw,
        )
        self.embedded_texts = Counter(
            "embedded_texts", "Texts embedded (chunks and queries).", **kw
        )
        self.index_duration = Histogram(
            "index_duration_seconds",
            "Time to chunk, embed and store one document.",
            ["outcome"],
            buckets=WORK_BUCKETS,
            **kw,
        )
        self.search_duration = Histogram(
            "search_duration_seconds",
            "Search latency by mode.",
            ["mode"],
            buckets=HTTP_BUCKETS,
            **kw,
        )
        self.searches = Counter("searches", "Searches, by tenant.", ["tenant"], **kw)
        self.ask_duration = Histogram(
            "ask_duration_seconds",
            "Time to answer a question (retrieval and generation).",
            buckets=WORK_BUCKETS,
            **kw,
        )
        self.asks = Counter("asks", "Questions answered, by tenant.", ["tenant"], **kw)
        # LLM (agents/telemetry/llm_meter.py)
        self.llm_prompt_tokens = Counter("llm_prompt_tokens", "Prompt tokens sent.", **kw)
        self.llm_generated_tokens = Counter(
            "llm_generated_tokens", "Tokens generated by the model.", **kw
        )
        self.llm_requests = Counter(
            "llm_requests",
            "Model calls by kind (complete, stream) and outcome.",
            ["kind", "outcome"],
            **kw,
        )
        self.llm_ttft = Histogram(
            "llm_time_to_first_token_seconds",
            "Time from a streamed call to its first token.",
            buckets=WORK_BUCKETS,
            **kw,
        )
        self.llm_duration = Histogram(
            "llm_generation_duration_seconds",
            "Time of one model call.",
            ["kind"],
            buckets=WORK_BUCKETS,
            **kw,
        )
        self.llm_tokens_per_second = Gauge(
            "llm_tokens_per_second", "Generation speed of the last model call.", **kw
        )
        # workflows (agents/supervisor) and the outbox (agents/act)
        self.workflow_runs = Counter(
            "workflow_runs", "Workflow runs finished, by status.", ["status"], **kw
        )
        self.workflow_runs_started = Counter("workflow_runs_started", "Runs started.", **kw)
        self.workflow_runs_active = Gauge(
            "workflow_runs_in_progress", "Workflow runs queued or running.", **kw
        )
        self.step_duration = Histogram(
            "workflow_step_duration_seconds",
            "Step run time by agent and status.",
            ["agent", "status"],
            buckets=WORK_BUCKETS,
            **kw,
        )
        self.outbox_pending = Gauge(
            "outbox_pending", "Outbox messages waiting to be delivered.", **kw
        )
        self.outbox_dead = Gauge("outbox_dead", "Outbox messages given up on (dead letters).", **kw)
        self.outbox_deliveries = Counter(
            "outbox_deliveries",
            "Delivery attempts by connector kind and outcome.",
            ["kind", "outcome"],
            **kw,
        )
        self.outbox_latency = Histogram(
            "outbox_delivery_latency_seconds",
            "Time from an outbox row's creation to its delivery, by connector kind.",
            ["kind"],
            buckets=WORK_BUCKETS,
            **kw,
        )

    # --- queue ---------------------------------------------------------------------------
    def task_started(self, task: str) -> None:
        if self.enabled:
            self.tasks_running.labels(task).inc()

    def task_finished(self, task: str, seconds: float, ok: bool) -> None:
        """One queue task ended (a retry counts again)."""
        if not self.enabled:
            return
        self.tasks_running.labels(task).dec()
        self.tasks.labels(task, "ok" if ok else "failed").inc()
        self.task_duration.labels(task).observe(seconds)

    # --- ingest and analysis ------------------------------------------------------------
    def parsed(self, seconds: float, ok: bool) -> None:
        if self.enabled:
            self.parse_duration.labels("ok" if ok else "failed").observe(seconds)

    def embedded(self, texts: int, seconds: float) -> None:
        if self.enabled:
            self.embedded_texts.inc(texts)
            self.embed_duration.observe(seconds)

    def indexed(self, seconds: float, outcome: str) -> None:
        """outcome: indexed, failed, skipped."""
        if self.enabled:
            self.index_duration.labels(outcome).observe(seconds)

    def searched(self, tenant_id: str, mode: str, seconds: float) -> None:
        if self.enabled:
            self.searches.labels(self.tenant_label(tenant_id)).inc()
            self.search_duration.labels(mode).observe(seconds)

    def asked(self, tenant_id: str, seconds: float) -> None:
        if self.enabled:
            self.asks.labels(self.tenant_label(tenant_id)).inc()
            self.ask_duration.observe(seconds)

    # --- LLM ------------------------------------------------------------------------------
    def llm_call(
        self,
        kind: str,
        seconds: float,
        prompt_tokens: int,
        generated_tokens: int,
        first_token_s: float | None = None,
        ok: bool = True,
    ) -> None:
        """One model call finished; `first_token_s` for streamed calls."""
        if not self.enabled:
            return
        self.llm_requests.labels(kind, "ok" if ok else "failed").inc()
        self.llm_duration.labels(kind).observe(seconds)
        self.llm_prompt_tokens.inc(prompt_tokens)
        self.llm_generated_tokens.inc(generated_tokens)
        if first_token_s is not None:
            self.llm_ttft.observe(first_token_s)
        if generated_tokens and seconds > 0:
            self.llm_tokens_per_second.set(generated_tokens / seconds)

    # --- workflows and outbox (called by agents/supervisor and agents/act) ---------------
    def workflow_run_started(self) -> None:
        if self.enabled:
            self.workflow_runs_started.inc()
            self.workflow_runs_active.inc()

    def workflow_run_finished(self, status: str) -> None:
        """status: succeeded, failed, cancelled."""
        if self.enabled:
            self.workflow_runs.labels(status).inc()
            self.workflow_runs_active.dec()

    def set_workflow_runs_in_progress(self, count: int) -> None:
        """The reconciler's count at start (runs a crash left behind)."""
        if self.enabled:
            self.workflow_runs_active.set(count)

    def step_finished(self, agent: str, seconds: float, status: str) -> None:
        """One step attempt ended; status one of STEP_STATUSES."""
        if self.enabled:
            self.step_duration.labels(agent, status).observe(seconds)

    def outbox_delivered(self, kind: str, latency_s: float, outcome: str) -> None:
        """One delivery attempt: outcome delivered, retry or dead; latency from the row's
        creation, observed only when delivered."""
        if not self.enabled:
            return
        self.outbox_deliveries.labels(kind, outcome).inc()
        if outcome == "delivered":
            self.outbox_latency.labels(kind).observe(latency_s)

    def set_outbox(self, pending: int, dead: int) -> None:
        if self.enabled:
            self.outbox_pending.set(pending)
            self.outbox_dead.set(dead)
