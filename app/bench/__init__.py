"""`appliance bench`: measure storage and server performance, return JSON-ready dicts.

Every suite reports its figures next to a reference measured in the same run (the same
work without encryption, the raw library, a bare import of the web stack), so the ratios
mean something on whatever machine runs them. See docs/benchmarks.md.
"""

from typing import Any

from app.bench.common import BenchError, load_average, machine_info
from app.settings import Settings

__all__ = ["SUITES", "BenchError", "run_bench"]

from app.bench.suites import SUITES


def run_bench(
    suite: str, settings: Settings, rows: int = 20_000, queries: int = 100
) -> dict[str, Any]:
    """Run one suite and return {"suite", "machine", "results", "targets", "met"}."""
    if rows < 10 or queries < 1:
        raise BenchError("--rows must be at least 10 and --queries at least 1")
    machine = machine_info()
    if suite == "storage":
        from app.bench.storage_suite import run_storage

        body = run_storage(settings, rows=rows, queries=queries)
    elif suite == "ingest":
        from app.bench.ingest_suite import run_ingest

        body = run_ingest(settings)
    elif suite == "ask":
        from app.bench.ask_suite import run_ask

        body = run_ask(settings)
    elif suite == "retrieval":
        from app.bench.retrieval_suite import run_retrieval

        body = run_retrieval(settings)
    elif suite == "answers":
        from app.bench.answers_suite import run_answers

        body = run_answers(settings, questions=queries)
    elif suite == "api":
        from app.bench.api_suite import run_api

        body = run_api(settings, requests=max(queries * 50, 5000))
    elif suite == "index":
        from app.bench.analysis_suite import run_index

        body = run_index(settings)
    elif suite == "search":
        from app.bench.analysis_suite import run_search

        body = run_search(settings, queries)
    elif suite == "server":
        from app.bench.server_suite import run_server

        body = run_server(settings)
    elif suite == "ui":
        from app.bench.ui_suite import run_ui

        body = run_ui(settings)
    else:
        raise BenchError(f"unknown benchmark suite {suite!r}; choose from {', '.join(SUITES)}")
    machine["load_average_1m_at_end"] = load_average()
    return {"suite": suite, "machine": machine, **body}
