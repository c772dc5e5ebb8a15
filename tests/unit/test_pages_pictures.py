"""The pictures the committee's pages draw on the server: every spot of the dispatch map lands inside the picture
(whatever the spread of the coordinates), shapes tell kitchens, meals and volunteers apart, nothing a person
wrote runs as markup, and the bar chart writes each value over its bar."""
from __future__ import annotations

import re

from web.pages.svg import HEIGHT, WIDTH, Spot, bars, dispatch_map


def _points(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r'<text x="([\d.-]+)" y="([\d.-]+)" font-size="14" fill="#1b1b1b">\d+</text>', svg)]


def test_every_spot_is_drawn_inside_the_map_as_its_own_shape_and_numbered():
    spots = [Spot("kitchen", 121.4530, 30.9530, "食堂"), Spot("task", 121.4515, 30.9523, "t1"),
             Spot("volunteer", 121.6, 31.2, "小陈"), Spot("task", 121.4509, 30.9518, "t2")]
    svg = str(dispatch_map(spots, "地图"))
    points = _points(svg)
    assert len(points) == 4
    for x, y in points:
        assert 0 <= x - 10 <= WIDTH and 0 <= y - 5 <= HEIGHT, (x, y)
    assert svg.count("<rect x=") == 1 and svg.count("<polygon") == 1 and svg.count("<circle") == 2
    assert 'role="img"' in svg and "<title" in svg


def test_one_spot_or_none_draws_sensibly_and_titles_are_escaped():
    assert str(dispatch_map([], "地图")) == ""
    one = str(dispatch_map([Spot("kitchen", 121.45, 30.95, "k")], "<script>alert(1)</script>"))
    assert "<script>" not in one and "&lt;script&gt;" in one
    assert _points(one) == [(WIDTH / 2 + 10, HEIGHT / 2 + 5)]


def test_the_bar_chart_writes_each_value_and_scales_to_the_largest():
    svg = str(bars([("周一", 3), ("周二", 0), ("周三", 6)], "本周"))
    assert [t for t in re.findall(r">([^<]+)</text>", svg)] == ["3", "周一", "0", "周二", "6", "周三"]
    heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill="#0b4f94"', svg)]
    assert heights[2] == 2 * heights[0] and heights[1] == 0
    share = str(bars([("Mon", 50)], "on time", "%", most=100))
    assert ">50%<" in share
