"""`run_bench("server")`: a real `appliance serve` child becomes ready, idles, stops cleanly."""

import json

import pytest

from app.settings import Settings
from bench import run_bench


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


@pytest.mark.slow
def test_server_bench_measures_start_memory_and_shutdown(settings: Settings) -> None:
    result = run_bench("server", settings, rows=20_000, queries=100)

    json.dumps(result)
    assert result["suite"] == "server"
    assert set(result) >= {"suite", "machine", "parameters", "results", "targets", "met"}
    server = result["results"]["server"]
    assert server["ready"] is True, server
    for figure in ("ready_seconds", "idle_rss_mb", "idle_uss_mb", "shutdown_seconds"):
        assert _positive(server[figure]), (figure, server)
    assert server["exit_code"] == 0, server
    assert server["model_libraries_mapped"] == []
    baseline = result["results"]["import_baseline"]
    assert _positive(baseline["seconds"]) and _positive(baseline["rss_mb"])
    assert _positive(result["results"]["comparison"]["idle_rss_vs_import_baseline"])
    assert result["targets"] == {"ready_seconds_max": 5.0, "idle_rss_mb_max": 400.0}
    assert set(result["met"]) == {
        "ready_seconds",
        "idle_rss_mb",
        "clean_shutdown",
        "no_model_loaded_at_idle",
    }
    assert result["met"]["clean_shutdown"] is True
    # the caller's data directory is not touched: the server ran on a fresh temp one
    assert not settings.data_dir.exists()
