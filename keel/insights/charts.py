"""Server-side SVG charts: no JavaScript, nothing fetched at run time.

Coordinates are computed with Decimal (the values are Decimals; no float on the way) and
written with one decimal. Days without a value (None) break the line instead of drawing 0.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 360, 140
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 22
TENTH = Decimal("0.1")


def _fmt(value: Decimal) -> str:
    return str(value.quantize(TENTH, rounding=ROUND_HALF_UP))


def _label(value: Decimal) -> str:
    """A short axis label: whole numbers plain, others with up to two decimals."""
    if value == value.to_integral_value():
        return f"{value.to_integral_value():,}"
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def time_series_svg(
    series: list[tuple[dt.date, Decimal | None]], *, title: str, unit: str = "", target: Decimal | None = None
) -> SafeString:
    """A line chart of a daily series, with an optional dashed target line."""
    values = [v for _, v in series if v is not None]
    scale_values = values + ([target] if target is not None else [])
    low = min([Decimal(0), *scale_values])
    high = max([Decimal(0), *scale_values])
    if high == low:
        high = low + 1
    plot_w, plot_h = Decimal(WIDTH - LEFT - RIGHT), Decimal(HEIGHT - TOP - BOTTOM)
    count = len(series)

    def x(index: int) -> Decimal:
        return Decimal(LEFT) + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y(value: Decimal) -> Decimal:
        return Decimal(TOP) + plot_h - (Decimal(value) - low) * plot_h / (high - low)

    # Runs of consecutive days with a value become one polyline each.
    runs: list[list[str]] = [[]]
    points = []
    for index, (_day, value) in enumerate(series):
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{_fmt(x(index))},{_fmt(y(value))}")
        points.append((x(index), y(value)))
    lines = format_html_join(
        "", '<polyline class="chart-line" points="{}"/>', ((" ".join(run),) for run in runs if len(run) > 1)
    )
    dots = format_html_join(
        "", '<circle class="chart-point" cx="{}" cy="{}" r="2"/>',
        ((_fmt(px), _fmt(py)) for px, py in points) if len(points) <= 62 else (),
    )
    target_line = ""
    if target is not None:
        target_line = format_html(
            '<line class="chart-target" x1="{}" x2="{}" y1="{}" y2="{}"><title>Target {}</title></line>',
            LEFT, WIDTH - RIGHT, _fmt(y(target)), _fmt(y(target)), _label(target),
        )
    first = series[0][0].isoformat() if series else ""
    last = series[-1][0].isoformat() if series else ""
    description = (
        f"{title}: {len(values)} of {count} days with a value"
        + (f", from {_label(min(values))} to {_label(max(values))} {unit}" if values else ", no data")
        + (f"; target {_label(target)} {unit}" if target is not None else "")
    )
    return format_html(
        '<svg viewBox="0 0 {w} {h}" role="img" aria-label="{desc}" xmlns="http://www.w3.org/2000/svg">'
        "<title>{desc}</title>"
        '<line class="chart-axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>'
        '<line class="chart-axis" x1="{left}" x2="{left}" y1="{top}" y2="{bottom}"/>'
        '<text class="chart-label" x="{lx}" y="{ty}" text-anchor="end">{high}</text>'
        '<text class="chart-label" x="{lx}" y="{by}" text-anchor="end">{low}</text>'
        '<text class="chart-label" x="{left}" y="{dy}">{first}</text>'
        '<text class="chart-label" x="{right}" y="{dy}" text-anchor="end">{last}</text>'
        "{target}{lines}{dots}</svg>",
        w=WIDTH, h=HEIGHT, desc=description, left=LEFT, right=WIDTH - RIGHT, top=TOP, bottom=HEIGHT - BOTTOM,
        lx=LEFT - 4, ty=TOP + 8, by=HEIGHT - BOTTOM, dy=HEIGHT - 6, high=_label(high), low=_label(low),
        first=first, last=last, target=target_line or mark_safe(""), lines=lines, dots=dots,
    )
