"""How numbers read: probabilities, points, intervals, ratios, counts.

One job: turn numbers into the short strings that tables, charts, notebooks, the
CLI and the briefing print, so that every surface says 82% (not 0.816433) and
+3.2 pp (not 3.1999 or "-0 pp").

Examples
--------
>>> pct(0.8164), pct(0.0042), pct(0.9996)
('82%', '0.4%', '>99.9%')
>>> pp(3.17), pp(-0.02), interval(0.613, 0.943)
('+3.2 pp', '0.0 pp', '61–94%')
"""

from __future__ import annotations

import math


def _missing(x) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def pct(p: float, *, whole: bool = False) -> str:
    """A probability as a percentage with the precision it deserves.

    Whole percentages between 1% and 99%; one decimal nearer the ends, where a
    whole number would print 0% or 100% for a probability that is neither;
    ``whole=True`` (chart labels) gives ``<1%`` and ``>99%`` there instead.
    """
    if _missing(p):
        return "–"
    p = float(p)
    if whole:
        return "<1%" if p < 0.005 else ">99%" if p > 0.995 else f"{p:.0%}"
    if p < 0.0005:
        return "<0.1%" if p > 0 else "0%"
    if p > 0.9995:
        return ">99.9%" if p < 1 else "100%"
    if p < 0.0095 or p > 0.9905:  # what would round to 1% or 99% prints whole
        return f"{100 * p:.1f}%"
    return f"{p:.0%}"


def interval(lower: float, upper: float) -> str:
    """A credible interval of probabilities, e.g. ``61–94%``."""
    if _missing(lower) or _missing(upper):
        return "–"
    lo, hi = pct(lower), pct(upper)
    if lo.endswith("%") and lo[0].isdigit():
        lo = lo[:-1]
    return f"{lo}–{hi}"


def pp(points: float, *, digits: int = 1) -> str:
    """A change in percentage points with its sign; a change that rounds to zero is 0.0."""
    if _missing(points):
        return "–"
    x = float(points)
    if abs(x) < 0.5 * 10**-digits:
        return f"{0:.{digits}f} pp"
    return f"{x:+.{digits}f} pp"


def ratio(x: float) -> str:
    """A likelihood or odds ratio to three significant figures (``2.5``, ``0.35``, ``12``)."""
    if _missing(x):
        return "–"
    return f"{float(x):.3g}"


def number(x: float, digits: int = 2) -> str:
    """A plain number to ``digits`` decimals, with no negative zero."""
    if _missing(x):
        return "–"
    text = f"{float(x):.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def count(x: float) -> str:
    """A count with thousands separators (``6,816``)."""
    if _missing(x):
        return "–"
    return f"{round(float(x)):,}"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun in the right number: ``1 issued forecast``, ``2 issued forecasts``.

    >>> counted(1, "issued forecast"), counted(3, "ledger item")
    ('1 issued forecast', '3 ledger items')
    """
    return f"{count(n)} {noun if n == 1 else plural or noun + 's'}"


#: ICD 203 estimative language: (upper bound of the band, word).
ICD203 = (
    (0.05, "almost no chance"),
    (0.20, "very unlikely"),
    (0.45, "unlikely"),
    (0.55, "roughly even chance"),
    (0.80, "likely"),
    (0.95, "very likely"),
    (1.00, "almost certain"),
)


def estimative_word(p: float) -> str:
    """The ICD 203 word for a probability, e.g. 0.62 -> "likely".

    The word is that of the percentage the reader sees (:func:`pct`, whole percentages
    between 1% and 99%), so two probabilities printed alike are never given different
    words: 0.449 and 0.4504 both print 45% and both read "unlikely" (ICD 203: 20-45%).

    >>> estimative_word(0.449), estimative_word(0.4504), estimative_word(0.456)
    ('unlikely', 'unlikely', 'roughly even chance')
    """
    if _missing(p) or not 0.0 <= p <= 1.0:
        raise ValueError(f"not a probability: {p}")
    p = round(float(p), 2)  # the whole percentage shown beside the word
    for upper, word in ICD203:
        if p <= upper:
            return word
    return ICD203[-1][1]
