"""Every queue task is timed, counted by outcome and logged with its tenant and agent."""

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from agents.telemetry import context
from agents.telemetry.metrics import Metrics
from app.observability.log_format import record_fields
from app.queue import QueueRunner, build_huey
from app.services import Services


@dataclass(frozen=True)
class Job:
    tenant_id: str


class Lines(logging.Handler):
    """The JSON-lines fields of each record, taken when it is logged (as the file's are)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record_fields(record))


def test_a_failing_and_a_passing_task_are_counted_timed_and_logged(services: Services) -> None:
    # GIVEN a queue with metrics, running tasks at once (Huey's immediate mode)
    metrics = Metrics(enabled=True)
    queue = QueueRunner(build_huey(services.data, services.master), services.settings, metrics)
    queue.huey.immediate = True
    seen: list[dict[str, str]] = []

    def work(job: Job) -> None:
        seen.append(context.current())
        if job.tenant_id == "t-bad":
            raise ValueError("secret document text that must not be logged")

    enqueue = queue.register("ingest.example", work, retries=0)
    logger = logging.getLogger("appliance.queue")
    handler = Lines()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # WHEN one task passes and one fails
    try:
        enqueue(Job("t-good"))
        with pytest.raises(Exception):  # noqa: B017 - Huey wraps the task's error
            enqueue(Job("t-bad")).get()
    finally:
        logger.removeHandler(handler)
    # THEN the task saw its tenant and agent in the log context
    assert seen[0] == {"tenant_id": "t-good", "agent": "ingest"}
    # AND the metrics counted one of each, timed both, and nothing is left running
    registry = metrics.registry
    labels = {"task": "ingest.example"}
    assert (
        registry.get_sample_value("appliance_queue_tasks_total", {**labels, "outcome": "ok"}) == 1
    )
    failed = registry.get_sample_value(
        "appliance_queue_tasks_total", {**labels, "outcome": "failed"}
    )
    assert failed == 1
    assert registry.get_sample_value("appliance_queue_task_duration_seconds_count", labels) == 2
    assert registry.get_sample_value("appliance_queue_tasks_running", labels) == 0
    # AND each run was logged with its outcome; the failure names the error type only
    runs = [line for line in handler.lines if line.get("task") == "ingest.example"]
    assert [(r["outcome"], r["tenant_id"], r["agent"]) for r in runs] == [
        ("ok", "t-good", "ingest"),
        ("failed", "t-bad", "ingest"),
    ]
    assert runs[1]["error"] == "ValueError" and runs[1]["level"] == "WARNING"
    assert "secret document text" not in str(handler.lines)
