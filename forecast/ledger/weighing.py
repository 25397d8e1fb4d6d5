"""How much one news item weighs: credibility, the ratio's midpoint and spread, threads.

One job: the weight of an item, alone and within its thread (documented, with
sources, in ``README.md``, "How an item is weighed"):

1. **The ratio if accurate.** ``lr`` is P(report | state true, report accurate)
   / P(report | state false, report accurate): the report's diagnosticity were
   its source right. An interval ``{lower, upper}`` is centred on its geometric
   midpoint ``sqrt(lower * upper)``; its width is the analyst's uncertainty about
   the ratio, split evenly between P(report | true) and P(report | false) (each
   log-normal, ``lr_interval_mass`` of the ratio's belief in the interval)
   (:func:`lr_centre`). Integrated over, the ratio is exactly the midpoint; per
   posterior draw it varies (:meth:`forecast.ledger.Evidence.per_draw`), which
   widens the forecast's interval and leaves its centre where the midpoint puts it.
2. **Credibility, counted once.** The Admiralty code gives ``h``, the
   probability that the report is accurate (``reliability.yaml``,
   :func:`item_credibility`). An inaccurate report is uninformative, so the
   report's ratio is Schum's mixture ``h * LR + (1 - h)`` (:func:`item_loglr`):
   1 at ``h = 0``, ``LR`` at ``h = 1``, always between them.
3. **Threads.** The counted items of one ``thread`` (one process or storyline,
   declared in ``threads.yaml`` with a ``dependence`` rho,
   :func:`thread_dependence`) bearing on one target are equicorrelated evidence,
   worth Kish's effective number of independent reports ``n / (1 + (n - 1) rho)``:
   the strongest report counts in full and the ``j``-th strongest adds the
   ``j``-th increment of that number (:func:`kish_increment`).

How the items of a ledger add up (clusters counted once, threads, retractions) is
:func:`forecast.ledger.evidence_from`.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING

from forecast.errors import LedgerError
from forecast.ledger.schema import LRInterval, NewsItem

if TYPE_CHECKING:
    from forecast.config import QuestionConfig


def item_credibility(config: QuestionConfig, code: str) -> float:
    """The credibility ``h`` of an Admiralty code such as ``"B2"``: P(the report is accurate)."""
    rel = config.reliability
    return rel.source[code[0]] * rel.information[int(code[1])]


def lr_centre(config: QuestionConfig, item: NewsItem) -> tuple[float, float]:
    """The log ratio's centre (log of the geometric midpoint) and spread ``sigma``."""
    if isinstance(item.lr, LRInterval):
        lo, hi = math.log(item.lr.lower), math.log(item.lr.upper)
        z = NormalDist().inv_cdf(0.5 + config.reliability.lr_interval_mass / 2)
        return (lo + hi) / 2, (hi - lo) / (2 * z)
    return math.log(item.lr), 0.0


def item_loglr(config: QuestionConfig, item: NewsItem) -> float:
    """The log ratio an item contributes alone: ``log(h * LR + 1 - h)`` at its midpoint."""
    h = item_credibility(config, item.reliability)
    mu, _ = lr_centre(config, item)
    return float(math.log1p(h * math.expm1(mu)))


def kish_increment(j: int, rho: float) -> float:
    """What the ``j``-th strongest report of a thread adds to its effective number of reports.

    Kish's effective number of ``n`` equicorrelated reports is ``n / (1 + (n - 1) rho)``;
    the ``j``-th report adds its increment ``n_eff(j) - n_eff(j - 1)``:
    1 for the strongest, ``(1 - rho) / ((1 + (j - 1) rho) (1 + (j - 2) rho))`` after,
    falling with ``j`` and with ``rho``. ``n`` identical reports so add up to exactly
    ``n_eff`` reports (at most ``1 / rho``); ``rho = 0`` is the independent sum and
    ``rho = 1`` keeps the strongest report alone. Credited strongest first, a report
    that agrees with its thread never lowers the thread's total (scaling the mean by
    ``n_eff / n`` would: a weak report diluted the strong ones).

    Examples
    --------
    >>> [round(kish_increment(j, 0.5), 3) for j in (1, 2, 3)]
    [1.0, 0.333, 0.167]
    """
    if j <= 1:
        return 1.0
    return (1.0 - rho) / ((1.0 + (j - 1) * rho) * (1.0 + (j - 2) * rho))


def thread_dependence(config: QuestionConfig, thread: str) -> float:
    """The elicited dependence of a thread (``threads.yaml``; default for an undeclared one)."""
    if config.threads is None:
        raise LedgerError(f"thread: {thread!r} needs {config.directory / 'threads.yaml'}, "
                          "which declares threads and the default_dependence of others")
    return config.threads.dependence(thread)
