"""Charts drawn as vectors with reportlab.graphics: bar, stacked bar, line and pie.

Category names, legend entries and axis values are drawn as text, so they can be
searched and extracted from the PDF.
"""

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from agents.report.chart_data import ChartData

PALETTE = [
    colors.HexColor(c)
    for c in ("#1f6feb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#14b8a6", "#ec4899")
]
_HEIGHT = 230.0


def _legend(data: ChartData, x: float, y: float, font: str, pie: bool) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = font, 7
    legend.alignment = "right"
    legend.columnMaximum = 12
    names = data.categories if pie else data.labels
    legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], name[:40]) for i, name in enumerate(names)]
    return legend


def _categories_axis(
    chart: VerticalBarChart | HorizontalLineChart, data: ChartData, font: str
) -> None:
    axis = chart.categoryAxis
    axis.categoryNames = [c[:24] for c in data.categories]
    axis.labels.fontName, axis.labels.fontSize = font, 7
    if len(data.categories) > 8:
        axis.labels.angle, axis.labels.boxAnchor, axis.labels.dy = 35, "ne", -2
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = min(0.0, *(min(s) for s in data.values))
    chart.valueAxis.forceZero = True


def draw_chart(kind: str, title: str, data: ChartData, width: float, font: str) -> Drawing:
    """A Drawing of the chart, `width` points wide, with its title on top."""
    drawing = Drawing(width, _HEIGHT)
    legend_width = 120.0
    plot_width = width - legend_width - 50
    if title:
        drawing.add(String(0, _HEIGHT - 12, title, fontName=font, fontSize=10))
    if data.empty:
        drawing.add(String(0, _HEIGHT / 2, "(no data)", fontName=font, fontSize=9))
        return drawing
    if kind == "pie":
        pie = Pie()
        size = min(_HEIGHT - 50, plot_width)
        pie.x, pie.y, pie.width, pie.height = 20, 15, size, size
        pie.data = [max(v, 0.0) for v in data.values[0]] or [1.0]
        pie.labels = [c[:24] for c in data.categories]
        pie.simpleLabels = True
        pie.slices.fontName, pie.slices.fontSize = font, 7
        for i in range(len(pie.data)):
            pie.slices[i].fillColor = PALETTE[i % len(PALETTE)]
        drawing.add(pie)
        drawing.add(_legend(data, 40 + size + 30, _HEIGHT - 30, font, pie=True))
        return drawing
    chart: VerticalBarChart | HorizontalLineChart
    chart = HorizontalLineChart() if kind == "line" else VerticalBarChart()
    chart.x, chart.y = 40, 45
    chart.width, chart.height = plot_width, _HEIGHT - 80
    chart.data = [tuple(series) for series in data.values]
    _categories_axis(chart, data, font)
    for i in range(len(data.values)):
        color = PALETTE[i % len(PALETTE)]
        if kind == "line":
            chart.lines[i].strokeColor = color
            chart.lines[i].strokeWidth = 1.5
        else:
            chart.bars[i].fillColor = color
            chart.bars[i].strokeColor = None
    if kind == "stacked_bar":
        chart.categoryAxis.style = "stacked"
    drawing.add(chart)
    drawing.add(_legend(data, 40 + plot_width + 15, _HEIGHT - 30, font, pie=False))
    return drawing
