"""Inline SVG drawn on the server: the locality map and the time-series charts.

Why SVG strings rather than a chart library in the browser: a page is one request, renders
before any script would load, works offline on a council laptop, and prints. Every text that
reaches the markup is escaped here; templates insert the result as-is.

The map is the briefing's (monitor.briefing.charts): localities at their GeoNames coordinates
coloured by the level shown, the area as the convex hull of its localities, no tile server.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from monitor.briefing.charts import LEVEL_FILL, LEVEL_NAME, _hull as convex_hull, _padded as padded

MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN = 560, 470, 28
CHART_WIDTH, CHART_HEIGHT = 640, 230
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 46, 46, 14, 40
POSTS_FILL, BASELINE_STROKE, TENSION_STROKE = "#8fb0d9", "#1d232b", "#b3261e"


@dataclass(frozen=True)
class MapPlace:
    id: str
    name: str
    latitude: float
    longitude: float
    level: int  # the level shown: the analyst's where one is in force, else the computed one
    computed_level: int
    population: int | None = None
    labelled: bool = False  # towns and cities, and anywhere amber or red, carry their name


@dataclass(frozen=True)
class SeriesPoint:
    label: str  # the tick text ("Mon 16", "14:00")
    posts: int
    baseline: float | None  # the expected count for this slot, None while there is no history
    tension: float | None  # the index (0-100) or mean post tension (0-1); None for no posts


def _f(value: float) -> str:
    return f"{value:.1f}"


def locality_map(places: Sequence[MapPlace], *, area_name: str, link: str = "/localities/") -> Markup:
    """Every locality as a dot coloured by level and linked to its page, the area outlined."""
    if not places:
        return Markup('<p class="muted">No locality has coordinates to draw.</p>')
    mid = math.radians(sum(p.latitude for p in places) / len(places))
    xs = [p.longitude * math.cos(mid) for p in places]
    ys = [p.latitude for p in places]
    plot_height = MAP_HEIGHT - 30  # the legend sits below
    scale = min((MAP_WIDTH - 2 * MAP_MARGIN) / max(max(xs) - min(xs), 0.01),
                (plot_height - 2 * MAP_MARGIN) / max(max(ys) - min(ys), 0.01))
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (MAP_WIDTH / 2 + (lon * math.cos(mid) - cx) * scale,
                plot_height / 2 - (lat - cy) * scale)

    parts = [f'<svg class="map" viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" role="img" '
             f'aria-label="Map of {escape(area_name)}: localities coloured by tension level" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="11">']
    hull = convex_hull([(p.longitude, p.latitude) for p in places])
    if len(hull) >= 3:
        outline = " ".join(f"{_f(x)},{_f(y)}" for x, y in (project(*q) for q in padded(hull, 0.05)))
        parts.append(f'<polygon points="{outline}" fill="#f3f1ea" stroke="#7a7a7a" '
                     'stroke-dasharray="5 4"/>')
    for p in sorted(places, key=lambda p: p.level):
        x, y = project(p.longitude, p.latitude)
        radius = min(14.0, 3.5 + 1.2 * math.sqrt((p.population or 500) / 1000))
        analyst = "" if p.level == p.computed_level else f", computed {p.computed_level}"
        parts.append(
            f'<a href="{escape(link + p.id)}"><circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(radius)}" '
            f'fill="{LEVEL_FILL[p.level]}" stroke="#1d232b" stroke-width="0.6" '
            f'data-locality="{escape(p.id)}" data-level="{p.level}">'
            f'<title>{escape(p.name)}: level {p.level}{analyst}</title></circle></a>')
    for p in places:
        if p.labelled or p.level >= 3:
            x, y = project(p.longitude, p.latitude)
            weight = ' font-weight="600"' if p.level >= 3 else ""
            parts.append(f'<text x="{_f(x + 6)}" y="{_f(y - 5)}"{weight}>{escape(p.name)}</text>')
    parts.append(_map_legend())
    parts.append("</svg>")
    return Markup("".join(parts))


def _map_legend() -> str:
    items = []
    for i, (level, fill) in enumerate(LEVEL_FILL.items()):
        x = 8 + i * 80
        items.append(f'<rect x="{x}" y="{MAP_HEIGHT - 20}" width="12" height="12" fill="{fill}" '
                     f'stroke="#1d232b" stroke-width="0.6"/><text x="{x + 16}" y="{MAP_HEIGHT - 10}">'
                     f'{LEVEL_NAME[level]}</text>')
    return "".join(items)


def _ticks(top: float, count: int = 4) -> list[float]:
    """Round axis steps from 0 to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [step * i for i in range(math.ceil(top / step) + 1)]


def _label(value: float) -> str:
    return f"{value:g}" if value < 1000 else f"{value / 1000:g}k"


def series_chart(points: Sequence[SeriesPoint], *, title: str, tension_label: str,
                 tension_max: float) -> Markup:
    """Posts as bars, the baseline as a dashed line on the same axis, tension as a red line on
    its own axis at the right (0 to ``tension_max``)."""
    if not points:
        return Markup('<p class="muted">No data for this period yet.</p>')
    width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    ticks = _ticks(max(max(p.posts for p in points), max((p.baseline or 0) for p in points), 1))
    top = ticks[-1]
    slot = width / len(points)

    def y_posts(value: float) -> float:
        return PLOT_TOP + height - height * value / top

    def y_tension(value: float) -> float:
        return PLOT_TOP + height - height * min(value, tension_max) / tension_max

    parts = [f'<svg class="chart" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
             'font-family="system-ui, sans-serif" font-size="10">', f"<title>{escape(title)}</title>"]
    for tick in ticks:
        y = y_posts(tick)
        parts.append(f'<line x1="{PLOT_LEFT}" x2="{PLOT_LEFT + width}" y1="{_f(y)}" y2="{_f(y)}" '
                     f'stroke="#d8dde3"/><text x="{PLOT_LEFT - 4}" y="{_f(y + 3)}" '
                     f'text-anchor="end">{_label(tick)}</text>')
    for i in range(5):
        value = tension_max * i / 4
        parts.append(f'<text x="{PLOT_LEFT + width + 4}" y="{_f(y_tension(value) + 3)}" '
                     f'fill="{TENSION_STROKE}">{value:g}</text>')
    every = max(1, math.ceil(len(points) / 12))
    for i, p in enumerate(points):
        x = PLOT_LEFT + i * slot
        bar = height * p.posts / top
        baseline = "-" if p.baseline is None else f"{p.baseline:.1f}"
        tension = "-" if p.tension is None else f"{p.tension:.2f}"
        parts.append(f'<rect x="{_f(x + slot * 0.15)}" y="{_f(PLOT_TOP + height - bar)}" '
                     f'width="{_f(slot * 0.7)}" height="{_f(bar)}" fill="{POSTS_FILL}">'
                     f'<title>{escape(p.label)}: {p.posts} posts, expected {baseline}, '
                     f'tension {tension}</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{_f(x + slot / 2)}" y="{PLOT_TOP + height + 14}" '
                         f'text-anchor="middle">{escape(p.label)}</text>')
    parts.append(_line([None if p.baseline is None else (PLOT_LEFT + (i + 0.5) * slot, y_posts(p.baseline))
                        for i, p in enumerate(points)], BASELINE_STROKE, dashed=True))
    parts.append(_line([None if p.tension is None else (PLOT_LEFT + (i + 0.5) * slot, y_tension(p.tension))
                        for i, p in enumerate(points)], TENSION_STROKE))
    legend_y = CHART_HEIGHT - 8
    parts.append(
        f'<rect x="{PLOT_LEFT}" y="{legend_y - 9}" width="12" height="10" fill="{POSTS_FILL}"/>'
        f'<text x="{PLOT_LEFT + 16}" y="{legend_y}">posts</text>'
        f'<line x1="{PLOT_LEFT + 60}" x2="{PLOT_LEFT + 84}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
        f'stroke="{BASELINE_STROKE}" stroke-dasharray="4 3" stroke-width="1.5"/>'
        f'<text x="{PLOT_LEFT + 88}" y="{legend_y}">expected (baseline)</text>'
        f'<line x1="{PLOT_LEFT + 200}" x2="{PLOT_LEFT + 224}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
        f'stroke="{TENSION_STROKE}" stroke-width="2"/>'
        f'<text x="{PLOT_LEFT + 228}" y="{legend_y}">{escape(tension_label)} (right axis)</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _line(points: list[tuple[float, float] | None], stroke: str, *, dashed: bool = False) -> str:
    """A polyline through the points, broken where a point is None (no data is not zero)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    out = []
    for run in runs:
        if len(run) == 1:
            out.append(f'<circle cx="{_f(run[0][0])}" cy="{_f(run[0][1])}" r="2" fill="{stroke}"/>')
        elif run:
            coords = " ".join(f"{_f(x)},{_f(y)}" for x, y in run)
            out.append(f'<polyline points="{coords}" fill="none" stroke="{stroke}" stroke-width="1.8"{dash}/>')
    return "".join(out)
