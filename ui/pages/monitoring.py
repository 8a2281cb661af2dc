"""Monitoring: live charts of throughput, queue, latency and errors (NiceGUI echart).

A tenant's members see their tenant (documents processed, queued and running tasks, task
times by agent, errors); appliance admins may switch to the whole appliance (requests,
tasks, queue depth, request and task latency, server errors). A sample is taken every few
seconds; counters are drawn as rates between samples, latency as the mean between them.
"""

import time
from collections import deque
from typing import Any

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import MonitoringBackend, MonitoringSample, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call
from ui.components.layout import NavItem, add_nav_item, frame
from ui.components.widgets import empty_state

SAMPLE_S = 5.0
POINTS = 120  # ten minutes of samples


def _chart(title: str, unit: str, testid: str) -> ui.echart:
    return (
        ui.echart(
            {
                "title": {"text": title, "textStyle": {"fontSize": 14}},
                "tooltip": {"trigger": "axis"},
                "legend": {"top": 24},
                "grid": {"top": 60, "left": 50, "right": 20, "bottom": 30},
                "xAxis": {"type": "category", "data": []},
                "yAxis": {"type": "value", "name": unit, "minInterval": 0},
                "series": [],
            }
        )
        .classes("w-full h-64")
        .props(f"data-testid={testid}")
    )


def _set(chart: ui.echart, times: list[str], series: dict[str, list[float | None]]) -> None:
    chart.options["xAxis"]["data"] = times
    chart.options["series"] = [
        {"name": name, "type": "line", "showSymbol": False, "data": points}
        for name, points in series.items()
    ]
    chart.update()


class LiveCharts:
    """Keeps the samples and redraws the four charts."""

    def __init__(self) -> None:
        self.samples: deque[MonitoringSample] = deque(maxlen=POINTS + 1)
        self.throughput = _chart("Throughput", "per second", "chart-throughput")
        self.queue = _chart("Queue", "tasks", "chart-queue")
        self.latency = _chart("Latency", "ms", "chart-latency")
        self.errors = _chart("Errors", "per minute", "chart-errors")

    def add(self, sample: MonitoringSample) -> None:
        self.samples.append(sample)
        pairs = list(zip(list(self.samples)[:-1], list(self.samples)[1:], strict=True))
        times = [_clock(b.at) for _, b in pairs]
        rates: dict[str, list[float | None]] = {}
        errors: dict[str, list[float | None]] = {}
        latency: dict[str, list[float | None]] = {}
        for a, b in pairs:
            seconds = max(b.at - a.at, 1e-6)
            for name, value in b.counters.items():
                rate = max(value - a.counters.get(name, value), 0) / seconds
                if "error" in name or "failure" in name:
                    errors.setdefault(name, []).append(round(rate * 60, 3))
                else:
                    rates.setdefault(name, []).append(round(rate, 3))
            for name, total in b.latency_sums.items():
                count = b.latency_counts.get(name, 0) - a.latency_counts.get(name, 0)
                spent = total - a.latency_sums.get(name, 0)
                latency.setdefault(name, []).append(
                    round(spent / count * 1000, 1) if count > 0 else None
                )
        gauges = {name: [b.gauges.get(name) for _, b in pairs] for name in sample.gauges}
        _set(self.throughput, times, rates)
        _set(self.queue, times, gauges)
        _set(self.latency, times, latency)
        _set(self.errors, times, errors)


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def _live(ctx: PageContext, backend: MonitoringBackend, wide: bool) -> None:
    tenant_id = None if wide else (ctx.tenant.id if ctx.tenant else None)
    charts = LiveCharts()

    async def sample() -> None:
        result: Any = await call(
            "Reading the figures", backend.monitoring_sample, ctx.token, tenant_id
        )
        if not isinstance(result, Failed):
            charts.add(result)

    ui.timer(0.1, sample, once=True)
    ui.timer(SAMPLE_S, sample)


def register(backend: UiBackend) -> None:
    """Define /monitoring."""
    add_nav_item(NavItem("Monitoring", "insights", "/monitoring"))

    @ui.page("/monitoring", title="Monitoring · Agent Appliance")
    def monitoring_page(request: Request, scope: str = "tenant") -> RedirectResponse | None:
        ctx = open_page(backend, request)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Monitoring", "/monitoring"):
            ui.label("Monitoring").classes("text-h5").props("data-testid=monitoring-title")
            wide = scope == "appliance" and ctx.user.is_admin
            if ctx.user.is_admin:
                with ui.row().classes("gap-2"):
                    ui.link("This workspace", "/monitoring?scope=tenant")
                    ui.link("Whole appliance", "/monitoring?scope=appliance").props(
                        "data-testid=monitoring-appliance"
                    )
            if not wide and ctx.tenant is None:
                empty_state("monitoring", "No workspace", "Join a workspace to see its activity.")
                return None
            if not backend.monitoring_available():
                empty_state("monitoring", "Not available", "The work queue runs elsewhere.")
                return None
            caption = "the whole appliance" if wide else f"workspace {ctx.tenant.name}"  # type: ignore[union-attr]
            ui.label(f"Live figures of {caption}, every {SAMPLE_S:g} s.").classes("opacity-70")
            _live(ctx, backend, wide)
        return None
