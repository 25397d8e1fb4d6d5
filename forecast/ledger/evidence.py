"""The ledger reduced to the evidence the model uses, as of a date.

One job: from the items of a ledger to :class:`Evidence`, the summed log ratio per
evidence state and per base's outcome and the terms for drawing its uncertainty, and
the items that count on a date. Each item weighs what :mod:`forecast.ledger.weighing`
says; together (documented, with sources, in ``README.md``, "How an item is weighed"):

1. **Clusters.** Items sharing a ``cluster`` (one origin repeated by several
   outlets) and a ``bears_on`` count once: the item whose log ratio is largest
   in magnitude stands for the cluster (ties go to the smallest id).
2. **Threads.** The counted items of one ``thread`` bearing on one target add up
   by Kish's effective number of reports (:func:`~forecast.ledger.kish_increment`):
   rho = 0 is the independent sum; rho = 1 keeps the strongest report alone; ``n``
   identical items add up to at most ``1 / rho`` reports however many arrive; a
   report that agrees with its thread never lowers its total. The analysts'
   uncertainty about the thread's ratios is correlated in the same way (rho), so a
   report split into identical items of a rho = 1 thread is exactly the one report
   (:meth:`Evidence.per_draw`).
3. **Retractions.** A later entry of the ledger may retract an earlier item (a
   report later shown false, or a duplicate of another) with a ``reason`` and a
   ``source`` (:class:`~forecast.ledger.Retraction`). Nothing is edited: the item
   stays in the file, and from the retraction's ``date`` on it stops counting
   (:func:`items_as_of`); a forecast as of an earlier date still counts it. Its
   cluster and thread are weighed again without it (the next strongest repeat stands
   for the cluster; the thread's effective number of reports falls by its
   increment), exactly as if it had never been entered.

The result does not depend on the order of the items, and an item with ratio 1
or credibility 0 adds exactly nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from forecast.ledger.weighing import (
    item_credibility,
    item_loglr,
    kish_increment,
    lr_centre,
    thread_dependence,
)

if TYPE_CHECKING:
    from forecast.config import QuestionConfig
    from forecast.ledger.schema import NewsItem


@dataclass(frozen=True)
class Terms:
    """The counted items' terms, for drawing their uncertain ratios (arrays of length I).

    ``target`` indexes the K evidence states then the B outcomes; ``mu`` and
    ``sigma`` are the log ratio's centre and spread (0 for a point ratio); ``h``
    the credibility; ``weight`` its credit within its thread
    (:func:`~forecast.ledger.kish_increment`); ``group`` the thread group, whose
    dependence ``rho`` are arrays over groups.
    """

    target: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    h: np.ndarray
    group: np.ndarray
    weight: np.ndarray
    rho: np.ndarray
    ids: tuple[str, ...] = ()
    group_names: tuple[str, ...] = ()

    @property
    def uncertain(self) -> bool:
        """Whether any counted item's ratio is an interval (so per-draw ratios vary)."""
        return bool(np.any(self.sigma > 0))


@dataclass(frozen=True)
class Evidence:
    """What the news says: the centre log ratio per state and per outcome, and the terms."""

    state_loglr: np.ndarray  # (K,) at the centre of every ratio
    outcome_loglr: np.ndarray  # (B,)
    item_ids: tuple[str, ...]  # items included (sorted)
    item_loglr: dict[str, float]  # each item's own log ratio (credibility-mixed), alone
    counted: tuple[str, ...]  # items that stand for themselves or their cluster
    entered: dict[str, float]  # what each item adds after clusters and threads (0: none)
    terms: Terms | None = None
    _draws: dict = field(default_factory=dict, compare=False, repr=False)

    def key(self) -> str:
        """A hash of the evidence: its centre, its items and their terms."""
        t = self.terms
        blob = json.dumps(
            {
                "u": [round(x, 12) for x in self.state_loglr.tolist()],
                "v": [round(x, 12) for x in self.outcome_loglr.tolist()],
                "items": list(self.item_ids),
                "terms": None if t is None else [
                    np.round(a, 12).tolist() for a in (t.target, t.mu, t.sigma, t.h, t.group,
                                                       t.weight, t.rho)],
            }
        ).encode()
        return hashlib.sha256(blob).hexdigest()

    def per_draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The log ratios per state and per outcome for ``n`` draws, ``(n, K)`` and ``(n, B)``.

        Each uncertain item's log ratio, were the report accurate, is drawn as
        ``mu - sigma**2 / 2 + sigma * z`` (the half of its uncertainty that lies in
        P(report | false) shifts it, so that ``E[e^d]`` is exactly the midpoint),
        with ``z`` correlated rho within a thread; credibility and the thread's
        power then apply per draw. Deterministic: the same evidence and ``n``
        give the same draws. Without uncertain items every row is the centre.
        """
        if n not in self._draws:  # analyses ask for the same draws many times
            self._draws[n] = self._per_draw(n)
        return self._draws[n]

    def _per_draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        k, b = self.state_loglr.size, self.outcome_loglr.size
        t = self.terms
        if t is None or not t.uncertain:
            return (np.broadcast_to(self.state_loglr, (n, k)),
                    np.broadcast_to(self.outcome_loglr, (n, b)))
        # Common random numbers: each item's and each thread's normal draws are keyed by
        # its own name, so adding or changing one item leaves every other item's draws
        # as they were (Shapley credit and sensitivity rows compare like with like).
        shared = np.column_stack([_normal(name, n) for name in t.group_names])
        own = np.column_stack([_normal(f"item:{i}", n) for i in t.ids])
        rho = t.rho[t.group]
        z = np.sqrt(rho) * shared[:, t.group] + np.sqrt(1 - rho) * own
        d = t.mu - t.sigma**2 / 2 + t.sigma * z
        ell = np.log1p(t.h * np.expm1(d)) * t.weight
        out = np.zeros((n, k + b))
        np.add.at(out, (slice(None), t.target), ell)  # one column per target
        out.setflags(write=False)
        return out[:, :k], out[:, k:]


def _normal(name: str, n: int) -> np.ndarray:
    """``n`` standard normal draws keyed by ``name`` (the same name, the same draws)."""
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    return np.random.default_rng([seed, n]).standard_normal(n)

def items_as_of(items: list[NewsItem], as_of: dt.date | None) -> list[NewsItem]:
    """The items counting on ``as_of``: dated by then and not retracted by then.

    An item retracted on or before ``as_of`` is left out; one retracted later counts,
    and is returned as it stood then (without its retraction). ``as_of`` None: every
    item not retracted.
    """
    out = []
    for item in items:
        if as_of is not None and item.date > as_of:
            continue
        r = item.retraction
        if r is not None:
            if as_of is None or r.date <= as_of:
                continue
            item = item.with_retraction(None)
        out.append(item)
    return out


def ledger_at(items: list[NewsItem], when: dt.datetime) -> list[NewsItem]:
    """The ledger as it stood at ``when`` (UTC), by the entries' ``recorded`` stamps.

    Items entered after ``when`` are left out, and a retraction entered after it is
    taken off its item. Entries without a stamp count as entered before every stamped
    one (the seeded ledger's items, entered by hand before stamps were kept).
    """
    when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when

    def by_then(stamp: dt.datetime | None) -> bool:
        if stamp is None:
            return True
        return (stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp) <= when

    out = []
    for item in items:
        if not by_then(item.recorded):
            continue
        if item.retraction is not None and not by_then(item.retraction.recorded):
            item = item.with_retraction(None)
        out.append(item)
    return out


def retracted_as_of(items: list[NewsItem], as_of: dt.date | None) -> list[NewsItem]:
    """The items retracted on or before ``as_of`` (every retracted item when None)."""
    return [i for i in items if i.retraction is not None
            and (as_of is None or i.retraction.date <= as_of)]


def evidence_from(config: QuestionConfig, items: list[NewsItem]) -> Evidence:
    """Reduce items to the evidence: clusters counted once, threads by Kish's design effect.

    An item carrying a retraction (a whole ledger as :func:`~forecast.ledger.load_ledger`
    reads it) is left out: it no longer counts. For the evidence as of a date before a retraction,
    pass :func:`items_as_of`, which returns such an item as it stood then.
    """
    items = [i for i in items if i.retraction is None]
    variables, bases = config.variables, config.bases
    targets = variables + bases
    own = {item.id: item_loglr(config, item) for item in items}
    chosen: dict[tuple[str, str], NewsItem] = {}
    counted: list[NewsItem] = []
    for item in sorted(items, key=lambda i: i.id):
        if item.cluster is None:
            counted.append(item)
            continue
        key = (item.cluster, item.bears_on)
        best = chosen.get(key)
        if best is None or abs(own[item.id]) > abs(own[best.id]):
            chosen[key] = item
    counted.extend(chosen.values())
    counted.sort(key=lambda i: i.id)
    groups: dict[tuple[str, str], list[NewsItem]] = {}
    for item in counted:
        name = f"thread:{item.thread}" if item.thread else f"item:{item.id}"
        groups.setdefault((name, item.bears_on), []).append(item)
    names = sorted(groups)
    rho = np.array([thread_dependence(config, g[0].removeprefix("thread:"))
                    if g[0].startswith("thread:") else 0.0 for g in names])
    index = {g: j for j, g in enumerate(names)}
    # Within a group, the j-th strongest report (by the magnitude of its own log ratio,
    # ties by id) is credited with the j-th increment of Kish's effective number.
    weight: dict[str, float] = {}
    for g, members in groups.items():
        ranked = sorted(members, key=lambda i: (-abs(own[i.id]), i.id))
        for j, item in enumerate(ranked, start=1):
            weight[item.id] = kish_increment(j, float(rho[index[g]]))
    rows = [(item, index[(f"thread:{item.thread}" if item.thread else f"item:{item.id}",
                          item.bears_on)]) for item in counted]
    centre = np.zeros(len(targets))
    entered = dict.fromkeys(own, 0.0)
    for item, _ in rows:
        entered[item.id] = own[item.id] * weight[item.id]
        centre[targets.index(item.bears_on)] += entered[item.id]
    spreads = [lr_centre(config, item) for item, _ in rows]
    terms = Terms(
        target=np.array([targets.index(i.bears_on) for i, _ in rows], dtype=int),
        mu=np.array([m for m, _ in spreads], dtype=float),
        sigma=np.array([sd for _, sd in spreads], dtype=float),
        h=np.array([item_credibility(config, i.reliability) for i, _ in rows], dtype=float),
        group=np.array([g for _, g in rows], dtype=int),
        weight=np.array([weight[i.id] for i, _ in rows], dtype=float),
        rho=rho,
        ids=tuple(i.id for i, _ in rows),
        group_names=tuple(f"{g[0]}|{g[1]}" for g in names),
    )
    return Evidence(
        state_loglr=centre[: len(variables)],
        outcome_loglr=centre[len(variables):],
        item_ids=tuple(sorted(own)),
        item_loglr=own,
        counted=tuple(i.id for i in counted),
        entered=entered,
        terms=terms,
    )
