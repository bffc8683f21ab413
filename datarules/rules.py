"""What an id, a name, a tag and a description may be: the one definition every deployable uses.

Each check takes the value as stored (already trimmed where a format trims) and returns a
reason string for a bad value, `None` for a good one, so callers word errors their own way
(`file:line: reason` in data files, 422 JSON at the API).
"""
from __future__ import annotations

import re
from typing import Any, Callable

MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 200
MAX_TAG_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000
MAX_TAGS = 50
TAG_SEPARATOR = "|"
# What a spreadsheet runs as a formula when a CSV cell starts with it (CSV injection).
FORMULA_PREFIXES = ("=", "+", "@", "\t", "\r")
FORMULA_AFTER_MINUS = ("=", "+", "@", "(")
# Ids travel as URL path segments: a separator or a dot segment would address something else.
RESERVED_IDS = (".", "..")
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
# Ids of only these ASCII characters, the first a letter, digit or "_", pass every check in
# id_problem (no whitespace, control, "/", dot segment or formula prefix): the common case, in
# one match instead of eight checks (the Bento checks every id of every request).
PLAIN_ID = re.compile(f"[A-Za-z0-9_][A-Za-z0-9_.-]{{0,{MAX_ID_LENGTH - 1}}}")
MULTILINE_ALLOWED = str.maketrans("", "", "\n\t")


def raising(problem: Callable[[Any], str | None]) -> Callable[[Any], Any]:
    """A check as a validator: returns the value, or raises ValueError(reason) (the shape
    pydantic's AfterValidator takes, for the API's request types)."""
    def check(value):
        reason = problem(value)
        if reason:
            raise ValueError(reason)
        return value
    check.__name__ = problem.__name__.replace("_problem", "")
    return check


def looks_like_formula(value: str) -> bool:
    """True for text a spreadsheet would run as a formula."""
    return value.startswith(FORMULA_PREFIXES) or (
        value.startswith("-") and value[1:2] in FORMULA_AFTER_MINUS)


def has_controls(value: str) -> bool:
    """C0 and C1 control characters and DEL (newlines included)."""
    return CONTROLS.search(value) is not None


def id_problem(value: str) -> str | None:
    """An id exports to CSV, trains, and is one URL path segment, unchanged by any of them."""
    if PLAIN_ID.fullmatch(value):
        return None
    return id_checks(value)


def id_checks(value: str) -> str | None:
    """id_problem's checks one by one (what PLAIN_ID shortcuts)."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_ID_LENGTH:
        return f"longer than {MAX_ID_LENGTH} characters"
    if value != value.strip():
        return "must not start or end with whitespace"
    if has_controls(value):
        return "contains control characters"
    if not value.isprintable():
        return "contains unprintable characters (separators, format or unassigned code points)"
    if "/" in value:
        return "must not contain '/'"
    if value in RESERVED_IDS:
        return "must not be '.' or '..'"
    if looks_like_formula(value):
        return "looks like a spreadsheet formula (starts with =, +, @ or -=)"
    return None


def text_problem(value: str, max_length: int, multiline: bool = False) -> str | None:
    """Free text that goes back out to CSV: bounded, no formula, no controls (a multiline
    text may hold line breaks and tabs)."""
    if len(value) > max_length:
        return f"longer than {max_length} characters"
    if looks_like_formula(value):
        return f"{value[:30]!r} looks like a spreadsheet formula (starts with =, +, @ or -=)"
    if has_controls(value.translate(MULTILINE_ALLOWED) if multiline else value):
        return "contains control characters"
    return None


def name_problem(value: str) -> str | None:
    """A display name: 1..200 characters on one line, trimmed."""
    if not value.strip():
        return "must not be empty"
    if value != value.strip():
        return "must not start or end with whitespace"
    return text_problem(value, MAX_NAME_LENGTH)


def description_problem(value: str) -> str | None:
    return text_problem(value, MAX_DESCRIPTION_LENGTH, multiline=True)


def normalize_tag(value: str) -> str:
    """Tags compare without case or surrounding space."""
    return value.strip().lower()


def tag_problem(value: str) -> str | None:
    """A normalized tag: 1..200 characters, no separator, on one line."""
    if not value:
        return "must not be empty"
    if value != normalize_tag(value):
        return "must be lower case without surrounding whitespace"
    if TAG_SEPARATOR in value:
        return f"must not contain {TAG_SEPARATOR!r} (the CSV tag separator)"
    return text_problem(value, MAX_TAG_LENGTH)


def tags_problem(values: list[str]) -> str | None:
    if len(values) > MAX_TAGS:
        return f"more than {MAX_TAGS} tags"
    for value in values:
        problem = tag_problem(value)
        if problem:
            return f"tag {value[:30]!r} {problem}"
    return None


def tracks_problem(value: int | None) -> str | None:
    if value is not None and not 0 <= value < 10**9:
        return "must be a whole number from 0 to 999999999"
    return None
