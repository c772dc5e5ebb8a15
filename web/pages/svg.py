"""Pictures drawn on the server as inline SVG, with no tiles and no script: the dispatch map (kitchens, meals
and volunteers on duty, each a shape of its own and named in words beside it) and this week's bar charts."""
from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 360, 260, 24


@dataclass
class Spot:
    kind: str  # kitchen | task | volunteer
    lng: float
    lat: float
    label: str


def _shape(kind: str, x: float, y: float) -> str:
    if kind == "kitchen":  # a square
        return f'<rect x="{x - 7:.1f}" y="{y - 7:.1f}" width="14" height="14" fill="#8a4b00" stroke="#fff"/>'
    if kind == "volunteer":  # a triangle
        return (f'<polygon points="{x:.1f},{y - 9:.1f} {x - 8:.1f},{y + 6:.1f} {x + 8:.1f},{y + 6:.1f}" '
                f'fill="#1a6b35" stroke="#fff"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="#0b4f94" stroke="#fff"/>'  # a meal to deliver


def dispatch_map(spots: list[Spot], title: str, tiles: str | None = None) -> Markup:
    """The spots projected on a plane (longitude shrunk by the cosine of the latitude), numbered; the numbers are
    listed in words under the map so nothing depends on colour or shape alone."""
    if not spots:
        return Markup("")
    lngs, lats = [s.lng for s in spots], [s.lat for s in spots]
    mid = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lngs) - min(lngs)) * mid, 0.002)
    span_y = max(max(lats) - min(lats), 0.002)
    scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)
    cx, cy = (max(lngs) + min(lngs)) / 2, (max(lats) + min(lats)) / 2

    def at(s: Spot) -> tuple[float, float]:
        return WIDTH / 2 + (s.lng - cx) * mid * scale, HEIGHT / 2 - (s.lat - cy) * scale

    parts = [f'<svg class="map" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="map-title" '
             f'xmlns="http://www.w3.org/2000/svg"><title id="map-title">{escape(title)}</title>',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#f4f1ea"/>']
    if tiles:  # a configured tile server's picture of the same place, under the spots
        parts.append(f'<image href="{escape(tiles)}" width="{WIDTH}" height="{HEIGHT}" preserveAspectRatio="none"/>')
    for n, s in enumerate(spots, 1):
        x, y = at(s)
        parts.append(_shape(s.kind, x, y))
        parts.append(f'<text x="{x + 10:.1f}" y="{y + 5:.1f}" font-size="14" fill="#1b1b1b">{n}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(values: list[tuple[str, float]], title: str, unit: str = "", most: float | None = None) -> Markup:
    """A bar chart of (label, value), the value written over each bar."""
    top = most if most is not None else max([v for _, v in values] + [1])
    width, height, base = 360, 200, 160
    step = (width - 20) / max(len(values), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="10" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#1b1b1b"/>']
    for i, (label, value) in enumerate(values):
        h = 0 if top <= 0 else (base - 30) * value / top
        x = 10 + i * step + step * 0.15
        text = f"{value:g}{unit}"
        parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="#0b4f94"/>')
        parts.append(f'<text x="{x + step * 0.35:.1f}" y="{base - h - 6:.1f}" font-size="14" text-anchor="middle" '
                     f'fill="#1b1b1b">{escape(text)}</text>')
        parts.append(f'<text x="{x + step * 0.35:.1f}" y="{base + 22:.1f}" font-size="13" text-anchor="middle" '
                     f'fill="#1b1b1b">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
