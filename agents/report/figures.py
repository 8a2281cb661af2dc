"""Key numbers of a `figures` section: a named value, or an aggregate over a dataset."""

from typing import Any

from agents.report.dataset import ReportData
from agents.report.template import Figure


def _numbers(rows: list[dict[str, Any]], field: str) -> list[float]:
    out = []
    for row in rows:
        value = row.get(field)
        if isinstance(value, bool) or value is None:
            continue
        try:
            out.append(float(value))
        except (TypeError, ValueError):
            continue
    return out


def figure_value(figure: Figure, data: ReportData) -> Any:
    """The figure's value (None when an aggregate has no numbers to work on)."""
    if figure.value is not None:
        return data.values.get(figure.value)
    rows = data.datasets.get(figure.dataset or "", [])
    if figure.agg == "count":
        if figure.field is None:
            return len(rows)
        return sum(1 for r in rows if r.get(figure.field) not in (None, ""))
    numbers = _numbers(rows, figure.field or "")
    if not numbers:
        return None
    if figure.agg == "sum":
        return sum(numbers)
    if figure.agg == "avg":
        return sum(numbers) / len(numbers)
    return min(numbers) if figure.agg == "min" else max(numbers)
