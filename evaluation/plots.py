"""Inline SVG plots for the evaluation report (no plotting library needed).

    svg = scatter_svg([(0.9, 0.8, "expert"), ...], fit=(1.0, 0.0), xlabel="simulator", ylabel="world model")
    svg = bars_svg(["expert", "random"], [Series("simulator", rates, lows, highs)])
    svg = lines_svg([Line("PSNR", xs, ys)], xlabel="step", ylabel="dB")

Each returns one ``<svg>`` element as a string, with ``<title>`` tooltips on the marks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
FONT = 'font-family="sans-serif" font-size="11"'


@dataclass
class Series:
    name: str
    values: list[float]
    lows: list[float]
    highs: list[float]


@dataclass
class Line:
    name: str
    xs: list[float]
    ys: list[float]


def short(text: str, n: int = 44) -> str:
    """``text`` cut to ``n`` characters from the left (a checkpoint path keeps its step)."""
    return text if len(text) <= n else "\u2026" + text[-(n - 1):]


def _fmt(v: float) -> str:
    return f"{v:.3g}" if math.isfinite(v) else "n/a"


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">' + "".join(body) + "</svg>")


def _tick(v: float, span: float) -> str:
    digits = 0 if span >= 20 else 1 if span >= 2 else 2 if span >= 0.2 else 3
    return f"{v:.{digits}f}"


def _axis_ticks(x0, y0, x1, y1, lo, hi, horizontal: bool, n: int = 5) -> list[str]:
    out = []
    for k in range(n + 1):
        v = lo + (hi - lo) * k / n
        if horizontal:
            x = x0 + (x1 - x0) * k / n
            out.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y1}" stroke="#ddd"/>')
            out.append(f'<text x="{x:.1f}" y="{y1 + 14}" text-anchor="middle" {FONT}>{_tick(v, hi - lo)}</text>')
        else:
            y = y1 - (y1 - y0) * k / n
            out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{_tick(v, hi - lo)}</text>')
    return out


def scatter_svg(points: list[tuple[float, float, str]], fit: tuple[float, float] | None = None,
                xlabel: str = "", ylabel: str = "", note: str = "", size: int = 360) -> str:
    """Points in [0, 1]^2 with the y = x diagonal, an optional fitted line and a note."""
    m, W = 50, size
    x0, y0, x1, y1 = m, 20, W - 20, W - m

    def px(x, y):
        return x0 + (x1 - x0) * x, y1 - (y1 - y0) * y

    body = _axis_ticks(x0, y0, x1, y1, 0, 1, True) + _axis_ticks(x0, y0, x1, y1, 0, 1, False)
    body.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y0}" stroke="#aaa" stroke-dasharray="4 3"/>')
    if fit is not None and all(math.isfinite(v) for v in fit):
        a, b = fit
        (ax, ay), (bx, by) = px(0, b), px(1, a + b)
        body.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="{COLORS[1]}" '
                    f'stroke-width="1.5" clip-path="url(#plot)"/>')
    body.insert(0, f'<defs><clipPath id="plot"><rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}"/>'
                   f'</clipPath></defs>')
    for x, y, label in points:
        cx, cy = px(x, y)
        body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="{COLORS[0]}" fill-opacity="0.75">'
                    f'<title>{escape(label)}: {_fmt(x)} vs {_fmt(y)}</title></circle>')
    body.append(f'<text x="{(x0 + x1) / 2}" y="{W - 12}" text-anchor="middle" {FONT}>{escape(short(xlabel, 52))}</text>')
    body.append(f'<text x="14" y="{(y0 + y1) / 2}" text-anchor="middle" {FONT} '
                f'transform="rotate(-90 14 {(y0 + y1) / 2})">{escape(short(ylabel, 52))}</text>')
    if note:
        body.append(f'<text x="{x0 + 6}" y="{y0 + 14}" {FONT}>{escape(note)}</text>')
    return _svg(W, W, body, f"scatter of {ylabel} against {xlabel}")


def bars_svg(labels: list[str], series: list[Series], xlabel: str = "success rate") -> str:
    """Horizontal grouped bars in [0, 1], one group per label, whiskers from lows to highs."""
    bar, gap, left, right = 12, 10, 230, 30
    group = bar * len(series) + gap
    W, H = 640, 30 + group * len(labels) + 34 + 14 * len(series)
    x0, x1, y0 = left, W - right, 20
    y1 = y0 + group * len(labels)
    body = _axis_ticks(x0, y0, x1, y1, 0, 1, True)
    for g, label in enumerate(labels):
        gy = y0 + g * group
        body.append(f'<text x="{x0 - 8}" y="{gy + group / 2:.1f}" text-anchor="end" {FONT}>{escape(short(label, 40))}</text>')
        for s, ser in enumerate(series):
            body += _bar(ser, g, gy + s * bar, x0, x1, bar, COLORS[s % len(COLORS)], label)
    for s, ser in enumerate(series):
        ly = y1 + 36 + 14 * s
        body.append(f'<rect x="{x0}" y="{ly}" width="10" height="10" fill="{COLORS[s % len(COLORS)]}"/>')
        body.append(f'<text x="{x0 + 14}" y="{ly + 9}" {FONT}>{escape(ser.name[:60])}</text>')
    body.append(f'<text x="{(x0 + x1) / 2}" y="{y1 + 28}" text-anchor="middle" {FONT}>{escape(xlabel)}</text>')
    return _svg(W, H, body, "per-policy success rates")


def _bar(ser: Series, g: int, y: float, x0: float, x1: float, h: int, color: str, label: str) -> list[str]:
    v, lo, hi = ser.values[g], ser.lows[g], ser.highs[g]
    if not math.isfinite(v):
        return []
    scale = x1 - x0
    tip = f"{label} ({ser.name}): {_fmt(v)} [{_fmt(lo)}, {_fmt(hi)}]"
    mid = y + h / 2
    return [f'<rect x="{x0}" y="{y + 1:.1f}" width="{scale * v:.1f}" height="{h - 2}" fill="{color}" '
            f'fill-opacity="0.8"><title>{escape(tip)}</title></rect>',
            f'<line x1="{x0 + scale * lo:.1f}" y1="{mid:.1f}" x2="{x0 + scale * hi:.1f}" y2="{mid:.1f}" stroke="#222"/>',
            f'<line x1="{x0 + scale * lo:.1f}" y1="{mid - 3:.1f}" x2="{x0 + scale * lo:.1f}" y2="{mid + 3:.1f}" stroke="#222"/>',
            f'<line x1="{x0 + scale * hi:.1f}" y1="{mid - 3:.1f}" x2="{x0 + scale * hi:.1f}" y2="{mid + 3:.1f}" stroke="#222"/>']


def lines_svg(lines: list[Line], xlabel: str = "", ylabel: str = "", width: int = 420, height: int = 260) -> str:
    """Line plot of finite points, axes fitted to the data."""
    ys = [y for ln in lines for y in ln.ys if math.isfinite(y)]
    xs = [x for ln in lines for x in ln.xs]
    if not ys or not xs:
        return _svg(width, 40, [f'<text x="10" y="24" {FONT}>no data</text>'], "empty plot")
    lo, hi = min(ys), max(ys)
    lo, hi = (lo - 0.5, hi + 0.5) if hi - lo < 1e-9 else (lo, hi)
    xmax = max(max(xs), 1)
    x0, y0, x1, y1 = 55, 15, width - 15, height - 45
    body = _axis_ticks(x0, y0, x1, y1, lo, hi, False) + _axis_ticks(x0, y0, x1, y1, 0, xmax, True)
    for k, ln in enumerate(lines):
        pts = [f"{x0 + (x1 - x0) * x / xmax:.1f},{y1 - (y1 - y0) * (y - lo) / (hi - lo):.1f}"
               for x, y in zip(ln.xs, ln.ys) if math.isfinite(y)]
        color = COLORS[k % len(COLORS)]
        body.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{color}" stroke-width="1.6">'
                    f'<title>{escape(ln.name)}</title></polyline>')
        body.append(f'<text x="{x1 - 4}" y="{y0 + 12 + 13 * k}" text-anchor="end" fill="{color}" {FONT}>'
                    f'{escape(ln.name)}</text>')
    body.append(f'<text x="{(x0 + x1) / 2}" y="{height - 8}" text-anchor="middle" {FONT}>{escape(xlabel)}</text>')
    body.append(f'<text x="14" y="{(y0 + y1) / 2}" text-anchor="middle" {FONT} '
                f'transform="rotate(-90 14 {(y0 + y1) / 2})">{escape(ylabel)}</text>')
    return _svg(width, height, body, f"{ylabel} over {xlabel}")
