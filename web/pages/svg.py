"""Pictures drawn on the server as inline SVG, with no script: the dispatch map (kitchens, meals and volunteers on
duty, each a shape of its own and named in words beside it; over a configured tile server's map, else on a plain
ground) and this week's bar charts."""
from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 360, 260, 24
TILE = 256  # pixels a side of one XYZ tile
MAX_ZOOM = 18  # closer than a building's entrance is of no use on the board (and most servers stop at 18 or 19)
MAX_LAT = 85.05112878  # Web Mercator's square ends here
NEAR = 14  # spots closer than this (in the picture's units) are drawn apart so that each stays visible


@dataclass
class Spot:
    kind: str  # kitchen | task | volunteer
    lng: float
    lat: float
    label: str


# -- Web Mercator (EPSG:3857), as XYZ tile servers cut it --------------------------------------------------------------

def world_pixel(lng: float, lat: float, zoom: int) -> tuple[float, float]:
    """Where a point falls on the whole world's picture at `zoom` (TILE * 2**zoom pixels a side, from the top left)."""
    size = TILE * 2 ** zoom
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = (lng + 180.0) / 360.0 * size
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * size
    return x, y


def tile_of(lng: float, lat: float, zoom: int) -> tuple[int, int, float, float]:
    """The tile (x, y) holding a point at `zoom`, and the point's pixel on that tile."""
    x, y = world_pixel(lng, lat, zoom)
    tx, ty = int(x // TILE), int(y // TILE)
    return tx, ty, x - tx * TILE, y - ty * TILE


def fitting_zoom(points: list[tuple[float, float]], width: float, height: float) -> int:
    """The closest zoom at which every (lng, lat) fits in width x height pixels."""
    for zoom in range(MAX_ZOOM, -1, -1):
        xs, ys = zip(*(world_pixel(lng, lat, zoom) for lng, lat in points))
        if max(xs) - min(xs) <= width and max(ys) - min(ys) <= height:
            return zoom
    return 0


def tile_cover(centre: tuple[float, float], zoom: int, width: float, height: float) -> list[tuple[int, int, float, float]]:
    """The tiles covering a width x height picture centred on a world pixel: (x, y, left, top), left and top being
    where the tile's corner goes in the picture."""
    left, top = centre[0] - width / 2, centre[1] - height / 2
    count = 2 ** zoom
    cover = []
    for ty in range(int(top // TILE), int((top + height) // TILE) + 1):
        if not 0 <= ty < count:
            continue  # above or below the world
        for tx in range(int(left // TILE), int((left + width) // TILE) + 1):
            cover.append((tx % count, ty, tx * TILE - left, ty * TILE - top))
    return cover


def tile_url(template: str, zoom: int, x: int, y: int) -> str:
    return template.replace("{z}", str(zoom)).replace("{x}", str(x)).replace("{y}", str(y))


# -- the picture ------------------------------------------------------------------------------------------------------

def _shape(kind: str, x: float, y: float) -> str:
    if kind == "kitchen":  # a square
        return f'<rect x="{x - 7:.1f}" y="{y - 7:.1f}" width="14" height="14" fill="#8a4b00" stroke="#fff" stroke-width="1"/>'
    if kind == "volunteer":  # a triangle
        return (f'<polygon points="{x:.1f},{y - 9:.1f} {x - 8:.1f},{y + 6:.1f} {x + 8:.1f},{y + 6:.1f}" '
                f'fill="#1a6b35" stroke="#fff" stroke-width="1"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="#0b4f94" stroke="#fff" stroke-width="1"/>'  # a meal to deliver


def spread(points: list[tuple[float, float]], near: float = NEAR) -> list[tuple[float, float]]:
    """Points closer than `near` to one another moved apart on a small ring around where they are, so that a
    volunteer standing at the kitchen does not hide it (the true place is marked by a dot with a line to each)."""
    groups: list[list[int]] = []
    for i, (x, y) in enumerate(points):
        for group in groups:
            gx, gy = points[group[0]]
            if math.hypot(x - gx, y - gy) < near:
                group.append(i)
                break
        else:
            groups.append([i])
    placed = list(points)
    for group in groups:
        if len(group) < 2:
            continue
        gx, gy = points[group[0]]
        radius = (near + 4) * max(1.0, len(group) / 3)  # far enough that no two shapes' boxes touch
        for k, i in enumerate(group):
            angle = math.pi + 2 * math.pi * k / len(group)  # the first to the left, the others around
            placed[i] = (gx + radius * math.cos(angle), gy + radius * math.sin(angle))
    return placed


def dispatch_map(spots: list[Spot], title: str, tiles: str | None = None) -> Markup:
    """The spots numbered on the map; the numbers are listed in words under it so nothing depends on colour or shape
    alone. With a tile template (settings' map_tiles_url), the spots are placed in Web Mercator at the closest zoom
    that holds them all, over the tiles that cover the picture; without, on a plane (longitude shrunk by the cosine
    of the latitude) and nothing is fetched from anywhere."""
    if not spots:
        return Markup("")
    lngs, lats = [s.lng for s in spots], [s.lat for s in spots]
    cx, cy = (max(lngs) + min(lngs)) / 2, (max(lats) + min(lats)) / 2
    parts = [f'<svg class="map" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="map-title" '
             f'xmlns="http://www.w3.org/2000/svg"><title id="map-title">{escape(title)}</title>',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#f4f1ea"/>']
    if tiles:
        zoom = fitting_zoom([(s.lng, s.lat) for s in spots], WIDTH - 2 * PAD, HEIGHT - 2 * PAD)
        # the centre of the spots' box in Mercator pixels (not the Mercator pixel of the box's centre in degrees)
        corners = [world_pixel(min(lngs), max(lats), zoom), world_pixel(max(lngs), min(lats), zoom)]
        centre = ((corners[0][0] + corners[1][0]) / 2, (corners[0][1] + corners[1][1]) / 2)
        parts.append('<g class="tiles">')
        for tx, ty, left, top in tile_cover(centre, zoom, WIDTH, HEIGHT):
            parts.append(f'<image href="{escape(tile_url(tiles, zoom, tx, ty))}" x="{left:.1f}" y="{top:.1f}" '
                         f'width="{TILE}" height="{TILE}" data-tile="{zoom}/{tx}/{ty}"/>')
        parts.append("</g>")

        def at(s: Spot) -> tuple[float, float]:
            x, y = world_pixel(s.lng, s.lat, zoom)
            return WIDTH / 2 + x - centre[0], HEIGHT / 2 + y - centre[1]
    else:
        mid = math.cos(math.radians(sum(lats) / len(lats)))
        span_x = max((max(lngs) - min(lngs)) * mid, 0.002)
        span_y = max(max(lats) - min(lats), 0.002)
        scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)

        def at(s: Spot) -> tuple[float, float]:
            return WIDTH / 2 + (s.lng - cx) * mid * scale, HEIGHT / 2 - (s.lat - cy) * scale

    true = [at(s) for s in spots]
    drawn = spread(true)
    for (x, y), (dx, dy) in zip(true, drawn):
        if (x, y) != (dx, dy):  # moved apart: a line from where it really is
            parts.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{dx:.1f}" y2="{dy:.1f}" stroke="#1b1b1b"/>'
                         f'<path class="true-place" d="M{x - 2:.1f},{y:.1f}a2,2 0 1,0 4,0a2,2 0 1,0 -4,0" fill="#1b1b1b"/>')
    for n, (s, (x, y)) in enumerate(zip(spots, drawn), 1):
        # a white halo round the number keeps it legible over a map tile
        parts.append(f'<g class="spot {s.kind}" data-n="{n}" stroke="#fff" stroke-width="3" paint-order="stroke">'
                     f'{_shape(s.kind, x, y)}'
                     f'<text x="{x + 10:.1f}" y="{y + 5:.1f}" font-size="14" fill="#1b1b1b">{n}</text></g>')
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
