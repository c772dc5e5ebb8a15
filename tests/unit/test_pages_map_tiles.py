"""The committee's dispatch map over a configured tile server (issue 14): which XYZ tiles cover the drawn box in Web
Mercator at the zoom that fits, where a spot falls on its tile, and that the spots land where the tiles show them;
with no tile server configured nothing outside Linli is named in the picture or allowed by the page's policy."""
from __future__ import annotations

import math
import re

import pytest

from gateway.api.security import PAGE_POLICY, page_policy
from linli.config import Settings
from web.pages.svg import HEIGHT, TILE, WIDTH, Spot, dispatch_map, fitting_zoom, tile_of, world_pixel

TILES = "https://tiles.example:8443/base/{z}/{x}/{y}.png"


def _lnglat(x: float, y: float, zoom: int) -> tuple[float, float]:
    """The inverse of Web Mercator (world pixel at zoom -> lng, lat), written out here on its own."""
    n = TILE * 2 ** zoom
    return x / n * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


@pytest.mark.parametrize("lng, lat, zoom, tile", [
    (13.4050, 52.5200, 12, (2200, 1343)),  # Berlin, the classic example of the XYZ scheme
    (121.4737, 31.2304, 10, (857, 418)),  # Shanghai, People's Square
    (0.0, 0.0, 1, (1, 1)),  # the four tiles of zoom 1 meet at 0, 0
    (-179.9, 85.0, 0, (0, 0)),  # zoom 0 is one tile
    (121.5588, 31.1765, 17, (109794, 53579)),  # Auntie Wang's building in the demo
])
def test_a_known_point_falls_on_its_known_tile(lng, lat, zoom, tile):
    assert tile_of(lng, lat, zoom)[:2] == tile


def test_a_point_lands_on_the_pixel_of_its_tile_where_mercator_puts_it():
    # a tile's north-west corner is its pixel (0, 0); its middle is (128, 128); a quarter in, (64, 192)
    for fx, fy in ((0.0001, 0.0001), (0.5, 0.5), (0.25, 0.75)):
        lng, lat = _lnglat((857 + fx) * TILE, (418 + fy) * TILE, 10)
        tx, ty, px, py = tile_of(lng, lat, 10)
        assert (tx, ty) == (857, 418)
        assert px == pytest.approx(fx * TILE, abs=1e-6) and py == pytest.approx(fy * TILE, abs=1e-6)


def test_the_zoom_is_the_closest_that_holds_every_point():
    kitchen, home = (121.4530, 30.9530), (121.4515, 30.9523)  # about 160 m apart
    zoom = fitting_zoom([kitchen, home], WIDTH - 48, HEIGHT - 48)
    span = lambda z: abs(world_pixel(*kitchen, z)[0] - world_pixel(*home, z)[0])  # noqa: E731
    assert span(zoom) <= WIDTH - 48 < span(zoom + 1) or zoom == 18
    assert zoom == 18
    far = [(121.45, 30.95), (121.55, 31.05)]  # about 15 km: 340 px tall at zoom 12, too tall for 212
    zoom = fitting_zoom(far, WIDTH - 48, HEIGHT - 48)
    xs = [world_pixel(*p, zoom + 1) for p in far]
    assert abs(xs[0][0] - xs[1][0]) > WIDTH - 48 or abs(xs[0][1] - xs[1][1]) > HEIGHT - 48
    assert zoom == 11


def _images(svg: str) -> dict[str, tuple[float, float, str]]:
    return {m["tile"]: (float(m["x"]), float(m["y"]), m["href"]) for m in re.finditer(
        r'<image href="(?P<href>[^"]+)" x="(?P<x>[-\d.]+)" y="(?P<y>[-\d.]+)" width="256" height="256" '
        r'data-tile="(?P<tile>[\d/]+)"/>', svg)}


def _drawn(svg: str) -> dict[int, tuple[float, float]]:
    """Each numbered spot's centre as drawn (square, circle or triangle)."""
    found = {}
    for m in re.finditer(r'<g class="spot (\w+)" data-n="(\d+)"[^>]*>(<[^>]+>)', svg):
        kind, n, shape = m.group(1), int(m.group(2)), m.group(3)
        nums = [float(v) for v in re.findall(r'-?\d+\.\d', shape)]
        if kind == "kitchen":
            found[n] = (nums[0] + 7, nums[1] + 7)
        elif kind == "volunteer":
            found[n] = (nums[0], nums[1] + 9)
        else:
            found[n] = (nums[0], nums[1])
    return found


def test_with_a_tile_server_the_spots_land_on_the_tiles_where_they_are():
    spots = [Spot("kitchen", 121.4530, 30.9530, "食堂"), Spot("task", 121.4515, 30.9523, "t1"),
             Spot("task", 121.4509, 30.9518, "t2"), Spot("volunteer", 121.4560, 30.9540, "小陈")]
    svg = str(dispatch_map(spots, "map", tiles=TILES))
    images = _images(svg)
    assert images, "tiles under the spots"
    zoom = int(next(iter(images)).split("/")[0])
    for key, (x, y, href) in images.items():
        z, tx, ty = key.split("/")
        assert href == f"https://tiles.example:8443/base/{z}/{tx}/{ty}.png"
    # together the tiles cover the whole picture, with no gap
    lefts = sorted({x for x, _, _ in images.values()})
    tops = sorted({y for _, y, _ in images.values()})
    assert lefts[0] <= 0 and lefts[-1] + TILE >= WIDTH and tops[0] <= 0 and tops[-1] + TILE >= HEIGHT
    assert all(b - a == pytest.approx(TILE, abs=0.11) for a, b in zip(lefts, lefts[1:]))
    assert len(images) == len(lefts) * len(tops)
    # each spot is drawn at its tile's corner plus its pixel on that tile
    drawn = _drawn(svg)
    for n, spot in enumerate(spots, 1):
        tx, ty, px, py = tile_of(spot.lng, spot.lat, zoom)
        left, top, _ = images[f"{zoom}/{tx}/{ty}"]
        assert drawn[n] == (pytest.approx(left + px, abs=0.2), pytest.approx(top + py, abs=0.2)), spot.label
        assert 0 < drawn[n][0] < WIDTH and 0 < drawn[n][1] < HEIGHT


def test_without_a_tile_server_nothing_outside_is_named():
    svg = str(dispatch_map([Spot("kitchen", 121.4530, 30.9530, "食堂"), Spot("task", 121.4515, 30.9523, "t")], "map"))
    assert "<image" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert page_policy("") == PAGE_POLICY and "http" not in PAGE_POLICY


def test_the_page_policy_allows_images_from_the_tile_host_alone():
    policy = page_policy(TILES)
    img = next(part for part in policy.split(";") if part.strip().startswith("img-src")).split()
    assert img == ["img-src", "'self'", "data:", "https://tiles.example:8443"]
    assert policy.count("tiles.example") == 1, "scripts, styles and forms stay Linli's own"


def test_a_tile_setting_that_is_no_template_is_refused_at_start():
    assert Settings.from_env({"LINLI_MAP_TILES_URL": TILES}).map_tiles_url == TILES
    assert Settings.from_env({}).map_tiles_url == ""
    for wrong in ("tiles.example/{z}/{x}/{y}.png", "https://tiles.example/tile.png", "javascript:{z}{x}{y}"):
        with pytest.raises(ValueError, match="LINLI_MAP_TILES_URL"):
            Settings.from_env({"LINLI_MAP_TILES_URL": wrong})


def test_a_volunteer_at_the_kitchen_does_not_hide_it():
    same = (121.4530, 30.9530)
    for tiles in (None, TILES):
        svg = str(dispatch_map([Spot("kitchen", *same, "食堂"), Spot("volunteer", *same, "小陈"),
                                Spot("task", 121.4515, 30.9523, "t")], "map", tiles=tiles))
        drawn = _drawn(svg)
        assert math.dist(drawn[1], drawn[2]) >= 14, "the square and the triangle apart"
        assert re.search(r'<text[^>]*>1</text>', svg) and re.search(r'<text[^>]*>2</text>', svg), "both numbered"
        assert svg.count("<line") == 2, "a line from where they really are to each"


def test_two_volunteers_waiting_at_the_kitchen_leave_every_shape_clear_of_the_others():
    same = (121.4530, 30.9530)
    half = {"kitchen": (7, 7, 7, 7), "volunteer": (8, 9, 8, 6), "task": (7, 7, 7, 7)}  # left, up, right, down
    for tiles in (None, TILES):
        spots = [Spot("kitchen", *same, "食堂"), Spot("volunteer", *same, "小周"), Spot("volunteer", *same, "小吴"),
                 Spot("task", 121.4515, 30.9523, "t")]
        drawn = _drawn(str(dispatch_map(spots, "map", tiles=tiles)))
        boxes = [(x - half[s.kind][0] - 1, y - half[s.kind][1] - 1, x + half[s.kind][2] + 1, y + half[s.kind][3] + 1)
                 for s, (x, y) in zip(spots, (drawn[n] for n in range(1, 5)))]
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (spots[i].label, spots[j].label)
