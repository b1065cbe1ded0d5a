"""CSV export, once: RFC 4180 text (comma, minimal quoting, CRLF) in which no cell can run as a spreadsheet formula.

User text is untrusted: a cell that starts with = + - @, a tab or a carriage return would be run by Excel, LibreOffice
or Google Sheets as a formula (CSV injection), so it is written with an apostrophe in front, which spreadsheets show
as text. Numbers stay numbers: a Python int or float, or a string that is a plain decimal number ("-1.5", "+2e3").
Floats are written exactly (repr), so a value read back is the value written.

Every CSV the app offers goes through this rule: the files written on the server (`write_csv`: the embedding map, the
Compare tab) and the "Download CSV" button under every table, whose JavaScript (components/export.py) is built from
FORMULA_PATTERN and NUMBER_PATTERN below (tests/test_csv_export.py runs it in node against `cell`).

    >>> cell("=1+1"), cell("@SUM(A1)"), cell("-1.5"), cell(-0.25), cell("-x")
    ("'=1+1", "'@SUM(A1)", '-1.5', '-0.25', "'-x")
"""
from __future__ import annotations

import csv
import io
import numbers
import re
from pathlib import Path

import numpy as np

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")          # what a spreadsheet runs as a formula at a cell's start
FORMULA_PATTERN = "^[=+\\-@\t\r]"                          # the same, as a regular expression (Python and JavaScript)
NUMBER_PATTERN = "[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?"  # a whole cell that is a plain decimal number
_FORMULA, _NUMBER = re.compile(FORMULA_PATTERN), re.compile(NUMBER_PATTERN)
LINE_END = "\r\n"


def is_formula(text: str) -> bool:
    """True for text a spreadsheet would run: a formula start, unless the whole text is a plain number."""
    return bool(_FORMULA.match(text)) and not _NUMBER.fullmatch(text)


def cell(value) -> str:
    """One cell's text: None empty, numbers as numbers (floats exactly), formula-like text behind an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return str(int(value)) if isinstance(value, numbers.Integral) else repr(float(value))
    text = str(value)
    return "'" + text if is_formula(text) else text


def to_csv(header: list[str], rows) -> str:
    """CSV text: the header, then one line per row, every cell through `cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_END)
    writer.writerow([cell(h) for h in header])
    writer.writerows([cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def write_csv(path: str | Path, header: list[str], rows) -> Path:
    """`to_csv` into `path` (UTF-8, line ends kept as written); returns the path."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(to_csv(header, rows))
    return path
