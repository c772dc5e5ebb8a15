"""CSV exports that open correctly in Excel and WPS and cannot carry a formula.

- UTF-8 with a byte-order mark: without it Excel on Chinese Windows shows Chinese text garbled.
- A text cell that starts with = + - @, a tab or a carriage return is shown as text (a leading
  apostrophe), so a listing title or a name typed as `=HYPERLINK(...)` is never run as a formula
  (OWASP "CSV injection"). Numbers, and text that is only a number such as "-15.00", stay numbers.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterable

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def cell(value: Any) -> Any:
    if not isinstance(value, str) or not value.startswith(_FORMULA_START) or _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def csv_text(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(v) for v in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return BOM + out.getvalue()
