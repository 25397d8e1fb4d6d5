"""The command line's value types: each turns what was typed into a value, or says why not.

argparse calls them; an ``ArgumentTypeError`` becomes its usage line and exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math

from forecast.ledger import LR_BOUNDS


def day(text: str) -> dt.date:
    """A date typed as YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write YYYY-MM-DD, e.g. 2026-11-20") from None


class _TypedRatio(float):
    """A ``--lr`` number that remembers how the user typed it (for error messages)."""

    typed: str


class _TypedInterval(dict):
    """A ``--lr`` interval ``{lower, upper}`` that remembers how the user typed it."""

    typed: str


#: What ``--lr`` takes, in the syntax of the command line.
LR_RULE = (f"give a likelihood ratio between {LR_BOUNDS[0]:g} and {LR_BOUNDS[1]:g} (1 = no "
           "update), like 3, or an interval LOW:HIGH of two such numbers with LOW below HIGH, "
           "like 2:5")


def ratio(text: str):
    """``3`` or ``2:5`` (an interval), remembering the text as typed."""
    try:
        if ":" in text:
            lo, hi = text.split(":", 1)
            value = _TypedInterval(lower=float(lo), upper=float(hi))
        else:
            value = _TypedRatio(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a likelihood ratio: {LR_RULE}"
                                         ) from None
    value.typed = text
    return value


def ratio_refusal(value) -> str:
    """Why the item's validator refused ``--lr``, said in the syntax the user typed."""
    lo, hi = LR_BOUNDS
    typed = getattr(value, "typed", str(value))
    if isinstance(value, dict):
        low, high = (s.strip() for s in typed.split(":", 1))
        bad = [s for s, k in ((low, "lower"), (high, "upper"))
               if not (math.isfinite(value[k]) and lo <= value[k] <= hi)]
        if bad:
            why = (f"{' and '.join(bad)} {'are' if len(bad) > 1 else 'is'} not between "
                   f"{lo:g} and {hi:g}")
        elif value["lower"] > value["upper"]:
            why = f"the low end comes first (did you mean {high}:{low}?)"
        elif value["lower"] == value["upper"]:
            why = f"the two ends are equal; for a single value write {low}"
        else:
            why = "not a usable interval"
    elif not math.isfinite(value):
        why = "not a finite number"
    else:
        why = f"not between {lo:g} and {hi:g}" if value > 0 else "a ratio must be above 0"
    return f"--lr {typed}: {why}; {LR_RULE}"


def moment(text: str) -> dt.date | dt.datetime:
    """A date (YYYY-MM-DD: the end of that day, UTC) or a time such as an entry's issued."""
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ)") from None


def seed(text: str) -> int:
    """``--seed``: a whole number the sampler takes, 0 to 2**32 - 1."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(
            f"invalid seed {text!r}; allowed: a whole number from 0 to {2**32 - 1}")
    return value


def dpi(text: str) -> int:
    """``--dpi``: a raster resolution, 10 to 1200."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 10 <= value <= 1200:
        raise argparse.ArgumentTypeError(f"invalid dpi {text!r}; allowed: 10 to 1200")
    return value


def formats(text: str) -> tuple[str, ...]:
    """``--format``: a comma-separated list of the chart formats."""
    from forecast.charts.theme import FORMATS

    chosen = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {', '.join(bad) or text!r}; allowed: {', '.join(FORMATS)}")
    return chosen


def outcomes(text: str) -> dict[str, int]:
    """``--outcome``: every base's resolution, ``khmeimim=1,tartus=0``."""
    out = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if value not in {"0", "1"}:
            raise argparse.ArgumentTypeError(
                f"outcome {part!r}: write base=0 or base=1, e.g. khmeimim=1,tartus=0")
        out[name.strip()] = int(value)
    return out
