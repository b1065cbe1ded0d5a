"""Numbers that may be missing (None or NaN: a word not scored, a run cancelled): one test and one way to write them,
as text for a table or as a JSON value.

    >>> as_text(0.12345), as_text(float("nan")), as_text(None, 1), as_json(float("nan")), as_json(2 / 3, 3)
    ('0.123', '–', '–', None, 0.667)
"""
from __future__ import annotations

import math

MISSING = "–"


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def as_text(value, digits: int = 3) -> str:
    """`value` with `digits` decimals, or MISSING."""
    return MISSING if is_missing(value) else f"{float(value):.{digits}f}"


def as_json(value, digits: int = 6):
    """`value` rounded to `digits` decimals as a float, or None (JSON has no NaN)."""
    return None if is_missing(value) else round(float(value), digits)
