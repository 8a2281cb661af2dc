"""`bench ingest`: real files through the appliance and through the bare parsers, paired."""

import json

import pytest

from app.settings import Settings
from bench.ingest_corpus import find_sample_documents, sample_kinds
from bench.ingest_suite import run_ingest

pytestmark = pytest.mark.slow


def test_sample_documents_are_real_distinct_files_of_several_kinds() -> None:
    # WHEN the benchmark's corpus is collected from the machine
    samples = find_sample_documents(60)
    # THEN it holds distinct contents of several detected formats, mail among them
    assert len(samples) == 60
    assert len({data for _, data in samples}) == len(samples)
    kinds = sample_kinds(samples)
    assert {"html", "json", "markdown", "eml", "pdf"} <= set(kinds), kinds


def test_ingest_bench_compares_both_sides_on_the_same_documents(settings: Settings) -> None:
    # WHEN a small run of the suite is made (the caller's data directory untouched)
    result = run_ingest(settings, documents=24, rounds=1, slices=2)
    json.dumps(result)
    results = result["results"]
    # THEN each comparison saw the same documents on both sides, with the same outcome:
    # the appliance read as many pages and failed the same files as the bare parsers
    pairs = [
        ("appliance_ingest", "direct_parsers"),
        ("appliance_ingest_one_at_a_time", "direct_parsers_beside_one_at_a_time"),
        ("appliance_ingest_parallel", "direct_parsers_parallel"),
    ]
    for ours, theirs in pairs:
        for figure in ("documents", "pages", "failed"):
            assert results[ours][figure] == results[theirs][figure], (ours, figure, results)
        assert results[ours]["documents_per_minute"] > 0
    assert results["appliance_ingest"]["documents"] == 24
    assert results["appliance_ingest"]["pages"] >= 24
    # AND the ratios and the target are reported
    for ratio in (
        "ratio_documents_per_minute",
        "ratio_documents_per_minute_one_at_a_time",
        "ratio_documents_per_minute_parallel",
    ):
        assert results[ratio] > 0
    assert result["targets"] == {"ratio_documents_per_minute": ">= 0.85"}
    assert set(result["met"]) == {"ratio_documents_per_minute"}
    assert result["parameters"]["documents"] == 24
    assert not settings.data_dir.exists()
