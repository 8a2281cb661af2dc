"""`appliance bench`: measure storage and server performance, return JSON-ready dicts.

Every suite reports its figures next to a reference measured in the same run (the same
work without encryption, the raw library, a bare import of the web stack), so the ratios
mean something on whatever machine runs them. See docs/benchmarks.md.
"""

from typing import Any

from app.settings import Settings
from bench.common import BenchError, load_average, machine_info

__all__ = ["SUITES", "BenchError", "run_bench"]

from bench.suites import SUITES


def run_bench(
    suite: str, settings: Settings, rows: int = 20_000, queries: int = 100
) -> dict[str, Any]:
    """Run one suite and return {"suite", "machine", "results", "targets", "met"}."""
    if rows < 10 or queries < 1:
        raise BenchError("--rows must be at least 10 and --queries at least 1")
    machine = machine_info()
    if suite == "storage":
        from bench.storage_suite import run_storage

        body = run_storage(settings, rows=rows, queries=queries)
    elif suite == "ingest":
        from bench.ingest_suite import run_ingest

        body = run_ingest(settings)
    elif suite == "ask":
        from bench.ask_suite import run_ask

        body = run_ask(settings)
    elif suite == "retrieval":
        from bench.retrieval_suite import run_retrieval

        body = run_retrieval(settings)
    elif suite == "answers":
        from bench.answers_suite import run_answers

        body = run_answers(settings, questions=queries)
    elif suite == "api":
        from bench.api_suite import run_api

        body = run_api(settings, requests=max(queries * 50, 5000))
    elif suite == "index":
        from bench.analysis_suite import run_index

        body = run_index(settings)
    elif suite == "search":
        from bench.analysis_suite import run_search

        body = run_search(settings, queries)
    elif suite == "server":
        from bench.server_suite import run_server

        body = run_server(settings)
    elif suite == "ui":
        from bench.ui_suite import run_ui

        body = run_ui(settings)
    elif suite == "outbox":
        from bench.outbox_suite import run_outbox

        body = run_outbox(settings)
    elif suite == "workflow":
        from bench.workflow_suite import run_workflow

        body = run_workflow(settings)
    elif suite == "report":
        from bench.report_suite import run_report

        body = run_report(settings)
    elif suite == "scale":
        from bench.scale_suite import run_scale

        body = run_scale(settings)
    else:
        raise BenchError(f"unknown benchmark suite {suite!r}; choose from {', '.join(SUITES)}")
    machine["load_average_1m_at_end"] = load_average()
    return {"suite": suite, "machine": machine, **body}
