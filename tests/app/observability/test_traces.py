"""Traces (optional): spans reach an OTLP/HTTP collector and one trace crosses the queue;
with no endpoint, opentelemetry is not even imported."""

import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agents.telemetry.metrics import Metrics
from app.observability.tracing_setup import build_tracing
from app.queue import QueueRunner, build_huey
from app.services import Services
from tests.conftest import make_settings


class Collector(ThreadingHTTPServer):
    """A minimal OTLP/HTTP receiver on 127.0.0.1: keeps every exported span."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[tuple[str, bytes, bytes, bytes]] = []  # name, trace, span, parent

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        server: Collector = self.server  # type: ignore[assignment]
        for resource in request.resource_spans:
            for scoped in resource.scope_spans:
                for span in scoped.spans:
                    server.spans.append(
                        (span.name, span.trace_id, span.span_id, span.parent_span_id)
                    )
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Job:
    tenant_id: str


def test_a_trace_follows_a_request_through_the_queue_into_its_work(
    services: Services, collector: Collector, tmp_path: Path
) -> None:
    # GIVEN tracing to a local collector, and a queue running tasks at once
    settings = make_settings(tmp_path / "traced", observability={"otlp_endpoint": collector.url})
    tracing, provider = build_tracing(settings)
    metrics = Metrics(enabled=True)
    metrics.tracing = tracing
    queue = QueueRunner(build_huey(services.data, services.master), services.settings, metrics)
    queue.huey.immediate = True

    def work(job: Job) -> None:
        with tracing.span("parse"):
            pass

    enqueue = queue.register("ingest.example", work)
    # WHEN a request enqueues a task
    with tracing.span("POST /documents"):
        enqueue(Job("t1"))
    provider.force_flush()  # type: ignore[attr-defined]
    provider.shutdown()  # type: ignore[attr-defined]
    # THEN the request, the task and the work inside it are one trace, parent to child
    spans = {name: (trace, span, parent) for name, trace, span, parent in collector.spans}
    assert {"POST /documents", "task ingest.example", "parse"} <= set(spans)
    request, task, parse = spans["POST /documents"], spans["task ingest.example"], spans["parse"]
    assert request[0] == task[0] == parse[0]
    assert task[2] == request[1] and parse[2] == task[1]


def test_with_no_endpoint_opentelemetry_is_never_imported() -> None:
    code = (
        "import sys\n"
        "from app.observability.wiring import build_observability\n"
        "from app.observability.tracing_setup import build_tracing\n"
        "from app.settings import load_settings\n"
        "tracing, provider = build_tracing(load_settings(None, environ={}))\n"
        "with tracing.span('x'):\n"
        "    pass\n"
        "assert provider is None and tracing.inject() is None\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
