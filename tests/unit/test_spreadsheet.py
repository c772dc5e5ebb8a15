"""Exports open in Excel and WPS with Chinese text intact and never run a formula."""
import csv
import io

from linli.spreadsheet import BOM, cell, csv_text


def test_a_csv_starts_with_the_byte_order_mark_and_keeps_chinese_text():
    text = csv_text(["志愿者", "分钟"], [["王阿姨", 30]])
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text[len(BOM):])))
    assert rows == [["志愿者", "分钟"], ["王阿姨", "30"]]


def test_every_formula_start_is_shown_as_text():
    for hostile in ("=HYPERLINK(\"http://x\",\"点我\")", "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"):
        assert cell(hostile) == "'" + hostile
    text = csv_text(["title"], [["=1+1"]])
    assert list(csv.reader(io.StringIO(text[len(BOM):])))[1] == ["'=1+1"]


def test_numbers_and_plain_numeric_text_stay_numbers():
    assert cell(-1500) == -1500
    assert cell("-15.00") == "-15.00"
    assert cell("+3") == "+3"
    assert cell("午餐 - 两荤一素") == "午餐 - 两荤一素"
