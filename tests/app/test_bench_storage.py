"""`run_bench("storage")` on a small workload: the JSON has every figure, all positive.

No timing asserts: the benchmark reports numbers, it does not judge them here.
"""

import json

from app.settings import Settings
from bench import run_bench

VARIANTS = ("encrypted", "unencrypted", "raw_library")
FIGURES = (
    "insert_seconds",
    "insert_cpu_seconds",
    "rows_per_second",
    "query_p50_ms",
    "query_p95_ms",
    "query_mean_ms",
    "query_total_seconds",
    "queries_per_second",
    "first_query_ms",
    "query_after_write_p50_ms",
    "file_mb",
)
RATIOS = ("insert_time", "query_time", "query_p50", "query_p95")


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def test_storage_bench_reports_every_figure(settings: Settings) -> None:
    result = run_bench("storage", settings, rows=500, queries=10)

    json.dumps(result)  # the CLI writes it as JSON
    assert set(result) >= {"suite", "machine", "parameters", "results", "targets", "met"}
    assert result["suite"] == "storage"
    machine = result["machine"]
    assert machine["cpus"] >= 1
    assert machine["python"].count(".") == 2
    assert machine["sqlcipher"] and machine["sqlite_vec"]
    assert result["parameters"]["rows"] == 500
    assert result["parameters"]["queries"] == 10
    assert result["parameters"]["appliance_options"]["load_vec"] is True

    results = result["results"]
    for variant in VARIANTS:
        for figure in FIGURES:
            assert _positive(results[variant][figure]), (variant, figure, results[variant])
        assert len(results[variant]["insert_seconds_rounds"]) == result["parameters"]["rounds"]
    # the encrypted file really is encrypted; the other two are plain SQLite
    assert results["encrypted"]["plain_sqlite_header"] is False
    assert results["unencrypted"]["plain_sqlite_header"] is True
    assert results["raw_library"]["plain_sqlite_header"] is True
    assert results["identical_answers"] is True

    for pair in ("encrypted_vs_unencrypted", "unencrypted_vs_raw_library"):
        for name in RATIOS:
            assert _positive(results["ratios"][pair][name]), (pair, name)
    assert result["targets"] == {"insert_time_ratio_max": 1.3, "query_time_ratio_max": 1.3}
    assert set(result["met"]) == {"insert_time_ratio", "query_time_ratio"}
    assert all(isinstance(v, bool) for v in result["met"].values())
    if not all(result["met"].values()):
        probe = results["cache_size_probe"]
        assert [p["cache_size_mb"] for p in probe] == [16, 64, 1024]
        assert all(_positive(p["ratios"]["insert_time"]) for p in probe)
