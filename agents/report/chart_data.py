"""Series of a chart from a dataset: values summed per category, in order of first
appearance, at most `max_categories` (the rest summed as "Other"). Shared by the PDF
and XLSX writers, so both show the same numbers."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agents.report.cells import plain
from agents.report.template import Section

MAX_CATEGORIES = 40
OTHER = "Other"


@dataclass(frozen=True)
class ChartData:
    categories: list[str]
    labels: list[str]  # one per series
    values: list[list[float]]  # values[series][category]

    @property
    def empty(self) -> bool:
        return not self.categories


def _number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return 0.0


def chart_data(
    section: Section, rows: Iterable[dict[str, Any]], max_categories: int = MAX_CATEGORIES
) -> ChartData:
    """Sum each series per category value of `section.category`."""
    fields = [s.field for s in section.series]
    totals: dict[str, list[float]] = {}
    for row in rows:
        key = plain(row.get(section.category)) or "(none)"
        bucket = totals.get(key)
        if bucket is None:
            if len(totals) >= max_categories:
                key = OTHER
                bucket = totals.get(key)
            if bucket is None:
                bucket = totals[key] = [0.0] * len(fields)
        for i, name in enumerate(fields):
            bucket[i] += _number(row.get(name))
    categories = list(totals)
    return ChartData(
        categories,
        [s.label for s in section.series],
        [[totals[c][i] for c in categories] for i in range(len(fields))],
    )
