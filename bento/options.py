"""The search options bento.train and bento.retrain share (retrain passes them through), with
their parsing: a bad value is a usage error naming it, never a crash mid-training."""
from __future__ import annotations

import argparse

# No wall-clock bound by default: the search's own bounds (its grid, which shrinks on big data,
# and MAX_CANDIDATES) make the same data and seed give the same model on any machine.
DEFAULT_TIME_BUDGET = 0.0


def add_search_options(parser: argparse.ArgumentParser) -> None:
    """--time-budget and --recency-half-life-days, for bento.train and bento.retrain alike."""
    parser.add_argument("--time-budget", type=budget_arg, default=DEFAULT_TIME_BUDGET,
                        help="a wall-clock cap in seconds for the settings search (3/4) and "
                             "the signal checks (the rest): nothing new starts after it, and "
                             "the model's metadata says what it cut; 0 (default): no cap, the "
                             "same model on every machine")
    parser.add_argument("--recency-half-life-days", default="auto", type=half_life_arg,
                        help="auto: try a few half-lives on a time-ordered validation split; "
                             "DAYS: try only that one; off: never weigh likes by age")


def budget_arg(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 <= seconds < float("inf"):  # NaN too
        raise argparse.ArgumentTypeError(f"{value!r} must be 0 (no bound) or more seconds")
    return seconds


def half_life_arg(value: str) -> float | bool | None:
    """auto -> None (validate a few), off -> False, a positive number of days."""
    if value in ("auto", "off"):
        return None if value == "auto" else False
    try:
        days = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not auto, off or a number") from None
    if not days > 0 or days == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} must be a positive number of days")
    return days
