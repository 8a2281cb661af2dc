"""The report suite: a 50-page PDF (a 2,000-row table and four charts) and a
200,000-row XLSX with a chart, made through the appliance's report path
(agents.report.render: template, field checks, formatting, injection guard) and by
ReportLab / openpyxl called directly on the same rows, in the same run.

Rounds are paired and alternate which variant goes first. The ratio is direct time /
report time (1.0: no overhead; target >= 0.9). Peak memory of the 200,000-row XLSX is
measured in a fresh subprocess per variant: ru_maxrss of the whole process (imports and
the rows themselves included) and its growth while writing.
"""

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.settings import Settings
from bench.common import BenchError, ratio
from bench.report_direct import direct_pdf, direct_xlsx

PDF_ROWS = 2_000
XLSX_ROWS = 200_000
PDF_ROUNDS = 3
XLSX_ROUNDS = 2
TARGET_RATIO = 0.9
TARGET_XLSX_PEAK_MB = 150
SEED = 20261203
REGIONS = ("North", "South", "East", "West", "Centre", "Islands")

COLUMNS = [
    {"field": "day", "label": "Day", "type": "date"},
    {"field": "customer", "label": "Customer", "type": "text"},
    {"field": "region", "label": "Region", "type": "text"},
    {"field": "quantity", "label": "Quantity", "type": "integer"},
    {"field": "amount", "label": "Amount", "type": "currency"},
    {"field": "share", "label": "Share", "type": "percent"},
]


def _chart(kind: str, category: str, series: list[str], title: str) -> dict[str, Any]:
    return {"type": "chart", "title": title, "chart": kind, "category": category, "series": series}


PDF_TEMPLATE = {
    "id": "bench-pdf",
    "title": "Sales benchmark",
    "sections": [
        {"type": "text", "text": "## Overview\nGenerated rows for the **report** benchmark."},
        _chart("bar", "region", ["amount"], "Amount by region"),
        _chart("line", "day", ["quantity"], "Quantity per day"),
        _chart("pie", "region", ["quantity"], "Quantity by region"),
        _chart("stacked_bar", "region", ["amount", "quantity"], "Amount and quantity"),
        {"type": "table", "title": "Sales", "columns": COLUMNS},
    ],
}
XLSX_TEMPLATE = {
    "id": "bench-xlsx",
    "title": "Sales benchmark",
    "sections": [
        {"type": "table", "title": "Sales", "columns": COLUMNS},
        _chart("bar", "region", ["amount"], "Amount by region"),
    ],
}


def make_rows(count: int) -> list[dict[str, Any]]:
    """Deterministic sales rows (generated before any clock starts)."""
    rng = random.Random(SEED)  # noqa: S311 - test data, not secrets
    rows = []
    for i in range(count):
        rows.append(
            {
                "day": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
                # every third name is long enough to wrap onto a second line
                "customer": f"Customer {rng.randrange(5000):04d} "
                + ("Handelsgesellschaft mbH" if i % 3 == 0 else "GmbH"),
                "region": REGIONS[i % len(REGIONS)],
                "quantity": rng.randrange(1, 500),
                "amount": round(rng.uniform(10, 20_000), 2),
                "share": round(rng.random(), 4),
            }
        )
    return rows


def report_path(
    template: dict[str, Any], rows: list[dict[str, Any]], fmt: str, target: Path
) -> int | None:
    """The appliance's path: parse the template, check fields, render to a file."""
    from agents.report.dataset import from_input
    from agents.report.render import render
    from agents.report.template import parse_template

    with open(target, "wb") as out:
        return render(parse_template(template), from_input(rows), fmt, out, stamp="bench")


def _timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _paired(rounds: int, report: Callable[[], Any], direct: Callable[[], Any]) -> dict[str, Any]:
    report_s: list[float] = []
    direct_s: list[float] = []
    for n in range(rounds):
        order = [(report_s, report), (direct_s, direct)]
        for samples, work in order if n % 2 == 0 else reversed(order):
            samples.append(_timed(work))
    ratios = [d / r for d, r in zip(direct_s, report_s, strict=True)]
    return {
        "rounds": rounds,
        "report_s": [round(s, 3) for s in report_s],
        "direct_s": [round(s, 3) for s in direct_s],
        "report_median_s": round(statistics.median(report_s), 3),
        "direct_median_s": round(statistics.median(direct_s), 3),
        "ratio_direct_over_report": round(statistics.median(ratios), 3),
    }


def memory_child(variant: str) -> None:
    """In a fresh process: write the 200,000-row XLSX once, print peak memory as JSON.

    RSS only: tracemalloc multiplied the writing time several times over."""
    import resource

    rows = make_rows(XLSX_ROWS)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out.xlsx"
        if variant == "report":
            report_path(XLSX_TEMPLATE, rows, "xlsx", target)
        else:
            direct_xlsx(rows, target)
        size = target.stat().st_size
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "variant": variant,
                "max_rss_mb": round(rss / 1024, 1),
                # imports and the 200,000 rows as Python dicts, before any writing
                "rss_before_writing_mb": round(rss_before / 1024, 1),
                "writing_growth_mb": round((rss - rss_before) / 1024, 1),
                "size": size,
            }
        )
    )


def _memory(variant: str) -> dict[str, Any]:
    code = f"from bench.report_suite import memory_child; memory_child({variant!r})"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"the XLSX memory probe failed: {done.stderr.strip()[-300:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_report(settings: Settings) -> dict[str, Any]:
    """Both workloads, paired, plus the XLSX memory probes."""
    del settings  # the suite needs no data directory: it renders to temporary files
    pdf_rows, xlsx_rows = make_rows(PDF_ROWS), make_rows(XLSX_ROWS)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        pages = report_path(PDF_TEMPLATE, pdf_rows, "pdf", out / "warm.pdf")  # warm-up
        direct_pages = direct_pdf(pdf_rows, out / "warm-direct.pdf")
        pdf = _paired(
            PDF_ROUNDS,
            lambda: report_path(PDF_TEMPLATE, pdf_rows, "pdf", out / "r.pdf"),
            lambda: direct_pdf(pdf_rows, out / "d.pdf"),
        )
        pdf.update(
            pages=pages,
            direct_pages=direct_pages,
            size=(out / "r.pdf").stat().st_size,
            direct_size=(out / "d.pdf").stat().st_size,
        )
        xlsx = _paired(
            XLSX_ROUNDS,
            lambda: report_path(XLSX_TEMPLATE, xlsx_rows, "xlsx", out / "r.xlsx"),
            lambda: direct_xlsx(xlsx_rows, out / "d.xlsx"),
        )
        xlsx.update(
            size=(out / "r.xlsx").stat().st_size, direct_size=(out / "d.xlsx").stat().st_size
        )
    memory = {"report": _memory("report"), "direct": _memory("direct")}
    peak = memory["report"]["max_rss_mb"]
    return {
        "results": {
            "pdf": {"rows": PDF_ROWS, "charts": 4, **pdf},
            "xlsx": {"rows": XLSX_ROWS, "charts": 1, **xlsx},
            "xlsx_memory": {
                **memory,
                "ratio_rss_report_over_direct": ratio(peak, memory["direct"]["max_rss_mb"]),
            },
        },
        "targets": {
            "pdf_ratio": f">= {TARGET_RATIO}",
            "xlsx_ratio": f">= {TARGET_RATIO}",
            "xlsx_peak_rss_mb": f"<= {TARGET_XLSX_PEAK_MB}",
        },
        "met": {
            "pdf_ratio": pdf["ratio_direct_over_report"] >= TARGET_RATIO,
            "xlsx_ratio": xlsx["ratio_direct_over_report"] >= TARGET_RATIO,
            "xlsx_peak_rss_mb": peak <= TARGET_XLSX_PEAK_MB,
        },
    }
