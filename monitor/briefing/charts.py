"""The briefing's charts and map, drawn with matplotlib (Agg) as base64 PNG for inline <img>.

The map is a scatter of the localities' GeoNames coordinates coloured by level, with the area
drawn as the convex hull of its localities: no tile server, no network, works offline.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import math

LEVEL_FILL = {1: "#8cc084", 2: "#3f9142", 3: "#f0a202", 4: "#d7301f", 5: "#7f0000"}
LEVEL_NAME = {1: "1 green", 2: "2 green", 3: "3 amber", 4: "4 red", 5: "5 red"}
DPI = 150
MAX_LINES = 6


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    _pyplot().close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _day_labels(days: list[str]) -> list[str]:
    return [dt.datetime.fromisoformat(d).strftime("%a %d") for d in days]


def daily_tension(data: dict) -> str:
    """The index per day for the area and the busiest localities, with the level bands behind."""
    plt = _pyplot()
    days = _day_labels(data["meta"]["period"]["days"])
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    cuts = [0, 15, 30, 50, 70, 100]
    for level, (low, high) in enumerate(zip(cuts, cuts[1:]), start=1):
        ax.axhspan(low, high, color=LEVEL_FILL[level], alpha=0.12, linewidth=0)
    busiest = [r for r in data["localities"] if max(r["daily"], default=0) > 0][:MAX_LINES]
    x = range(len(days))
    ax.plot(x, data["overall"]["daily"], color="black", linewidth=2.4, marker="o", markersize=3,
            label=data["meta"]["area"]["name"] + " (whole area)")
    for row in busiest:
        ax.plot(x, row["daily"], linewidth=1.4, marker="o", markersize=2.5, label=row["name"])
    ax.set_xticks(list(x), days)
    ax.set_ylim(0, 100)
    ax.set_ylabel("tension index (0-100)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    ax.set_title("Daily tension index: the area and the highest localities", fontsize=10)
    return _png(fig)


def volume(data: dict) -> str:
    """Posts per day across the area against the expected count for that weekday."""
    plt = _pyplot()
    rows = data["volume"]
    days = _day_labels([r["day"] for r in rows])
    fig, ax = plt.subplots(figsize=(7.2, 2.8))
    x = list(range(len(days)))
    ax.bar(x, [r["posts"] for r in rows], color="#4c72b0", label="posts")
    expected = [r["expected"] if r["expected"] is not None else math.nan for r in rows]
    ax.plot(x, expected, color="#d7301f", marker="D", markersize=4, linewidth=1.6,
            label="expected (baseline for the weekday)")
    ax.set_xticks(x, days)
    ax.set_ylabel("posts")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    ax.set_title("Volume against the baseline, whole area", fontsize=10)
    return _png(fig)


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain: the convex hull, counter-clockwise."""
    points = sorted(set(points))
    if len(points) < 3:
        return points

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in points:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(points):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _padded(hull: list[tuple[float, float]], pad: float) -> list[tuple[float, float]]:
    cx = sum(p[0] for p in hull) / len(hull)
    cy = sum(p[1] for p in hull) / len(hull)
    out = []
    for x, y in hull:
        d = math.hypot(x - cx, y - cy) or 1.0
        out.append((x + (x - cx) / d * pad, y + (y - cy) / d * pad))
    return out


def locality_map(data: dict) -> str:
    """Localities at their coordinates, coloured by the level shown, sized by population."""
    plt = _pyplot()
    from matplotlib.patches import Patch, Polygon

    places = [r for r in data["localities"] if r["latitude"] is not None and r["longitude"] is not None]
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    if places:
        hull = _hull([(r["longitude"], r["latitude"]) for r in places])
        if len(hull) >= 3:
            ax.add_patch(Polygon(_padded(hull, 0.06), closed=True, facecolor="#f3f1ea",
                                 edgecolor="#7a7a7a", linewidth=1.0, linestyle="--", zorder=0))
        for r in sorted(places, key=lambda r: r["shown_level"]):
            size = 18 + 6 * math.sqrt((r["population"] or 500) / 100)
            ax.scatter(r["longitude"], r["latitude"], s=size, color=LEVEL_FILL[r["shown_level"]],
                       edgecolors="black", linewidths=0.5, zorder=2)
        labelled = [r for r in places if r["shown_level"] >= 3 or r["kind"] in ("city", "town")]
        for r in labelled:
            weight = "bold" if r["shown_level"] >= 3 else "normal"
            ax.annotate(r["name"], (r["longitude"], r["latitude"]), xytext=(4, 3), textcoords="offset points",
                        fontsize=7, fontweight=weight, zorder=3)
        mid = sum(r["latitude"] for r in places) / len(places)
        ax.set_aspect(1 / math.cos(math.radians(mid)))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.tick_params(labelsize=7)
    handles = [Patch(facecolor=LEVEL_FILL[level], edgecolor="black", label=LEVEL_NAME[level]) for level in LEVEL_FILL]
    ax.legend(handles=handles, title="level (peak in period)", fontsize=7, title_fontsize=7,
              loc="lower left", bbox_to_anchor=(1.02, 0.0), frameon=True)
    ax.set_title(f"{data['meta']['area']['name']}: localities by tension level "
                 "(area outline: hull of the localities)", fontsize=10)
    return _png(fig)


def draw_all(data: dict) -> dict[str, str]:
    return {"tension": daily_tension(data), "volume": volume(data), "map": locality_map(data)}
