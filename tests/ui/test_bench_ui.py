"""`appliance bench ui`: a real server, headless Chromium and the API side by side; the
JSON is complete (timings are reported, never asserted)."""

import json

import pytest

from app.settings import Settings
from bench import run_bench
from tests.ui.browser import require_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_ui_bench_reports_sign_in_and_upload_beside_the_api(settings: Settings) -> None:
    require_browser()
    # WHEN the ui suite runs
    result = run_bench("ui", settings)
    # THEN both timings are reported with the API's figures, overheads and ratios
    json.dumps(result)
    assert result["suite"] == "ui"
    assert set(result) >= {"suite", "machine", "parameters", "results", "targets", "met"}
    for name, runs in (("sign_in", 5), ("upload_to_indexed", 3)):
        figures = result["results"][name]
        assert len(figures["ui_seconds"]) == len(figures["api_seconds"]) == runs
        assert all(x > 0 for x in figures["ui_seconds"] + figures["api_seconds"])
        assert figures["ui_overhead_seconds"] == pytest.approx(
            figures["ui_median_seconds"] - figures["api_median_seconds"], abs=0.002
        )
        assert figures["ui_vs_api_ratio"] > 0
    assert result["targets"] == {"ui_overhead_seconds_max": 1.0}
    assert set(result["met"]) == {
        "sign_in_overhead",
        "upload_to_indexed_overhead",
        "clean_shutdown",
    }
    assert result["met"]["clean_shutdown"] is True
    # the caller's data directory is not touched
    assert not settings.data_dir.exists()
