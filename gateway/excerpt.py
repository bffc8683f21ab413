"""What a 422 may repeat of the client's input: pydantic's errors reduced to `loc`, `msg`, `type`
and a short excerpt of `input`. The raw input can be 64 KiB, a non-finite number (NaN and
Infinity parse, but are not JSON: rendering them made the error handler itself fail with a
500) or any other Python value; the excerpt is always plain, finite JSON."""
from __future__ import annotations

import json
import math

MAX_EXCERPT = 100  # characters of a string (or of the JSON text of anything else)
MAX_MESSAGE = 300
SAFE_INT = 2 ** 53  # larger integers lose digits in JavaScript clients


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def excerpt(value):
    """`value` itself when it is a short plain JSON value; otherwise a cut string of it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) < SAFE_INT:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str):
        return cut(value, MAX_EXCERPT)
    try:  # NaN/Infinity become the words; containers their JSON text
        text = json.dumps(value, allow_nan=True, default=repr, ensure_ascii=True)
    except (ValueError, TypeError, RecursionError):
        text = type(value).__name__
    return cut(text, MAX_EXCERPT)


def location(part):
    return part if isinstance(part, int) else cut(str(part), MAX_EXCERPT)


def validation_errors(errors) -> list[dict]:
    """The 422 `detail`: one entry per pydantic error, every part bounded."""
    return [{"type": str(error.get("type", "")),
             "loc": [location(part) for part in error.get("loc", ())],
             "msg": cut(str(error.get("msg", "")), MAX_MESSAGE),
             "input": excerpt(error.get("input"))} for error in errors]
