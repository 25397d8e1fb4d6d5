"""What recording an entry did: the forecasts before and after it, and its contribution.

One job: the result of :func:`forecast.news.update` (:class:`UpdateResult`) and of
:func:`forecast.news.retract` (:class:`RetractionResult`), as a notebook shows it (repr,
HTML), as tidy rows (each headline outcome's change in points and in log-odds) and as
``forecast update --json`` writes it. No pandas unless asked: the CLI's fast path uses
the rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from forecast import fmt
from forecast.ledger import NewsItem, Retraction, item_credibility, item_loglr

if TYPE_CHECKING:
    import pandas as pd

    from forecast.engine import Forecast


@dataclass(repr=False)
class UpdateResult:
    """The forecast before and after one news item, and the item's own contribution."""

    item: NewsItem
    before: Forecast
    after: Forecast
    ledger: list[NewsItem] = field(default_factory=list)  # the ledger after the item

    def __repr__(self) -> str:
        return f"<UpdateResult {self.item.id} ({self.after.path}): {self._moves()}>"

    def _moves(self) -> str:
        """Each headline outcome's move, for the repr."""
        return "; ".join(
            f"{r['outcome']} {fmt.pct(r['before'])} -> {fmt.pct(r['after'])} "
            f"({fmt.pp(r['change_pp'])})" for r in self.contribution_rows())

    def _repr_html_(self) -> str:
        from html import escape

        names = {o.id: o.name for o in self.after.config.question.outcomes}
        names.update(all=self.after.config.wording.all, any=self.after.config.wording.any)
        rows = "".join(
            f"<tr><td>{escape(names[r['outcome']])}</td><td>{fmt.pct(r['before'])}</td>"
            f"<td>{fmt.pct(r['after'])}</td><td>{fmt.pp(r['change_pp'])}</td>"
            f"<td>{fmt.interval(r['after_lower'], r['after_upper'])}</td></tr>"
            for r in self.contribution_rows())
        item = self.item
        return (f"<p><b>{escape(item.headline)}</b> ({item.date}, {escape(item.source)}, "
                f"{item.reliability}, bears on {escape(item.bears_on)}) · path: "
                f"{escape(self.after.path)}</p><table><tr><th></th><th>before</th>"
                f"<th>after</th><th>change</th><th>interval after</th></tr>{rows}</table>")

    def contributions(self) -> pd.DataFrame:
        """Per base and joint outcome: before, after, change in points and in log-odds."""
        import pandas as pd

        return pd.DataFrame(self.contribution_rows())

    def contribution_rows(self) -> list[dict[str, Any]]:
        """The rows of :meth:`contributions` (no pandas: the CLI's fast path uses these)."""
        rows = []
        b, a = self.before.probabilities(), self.after.probabilities()
        for key in self.after.config.headline_outcomes:
            rows.append(
                {
                    "outcome": key,
                    "before": b[key].mean,
                    "after": a[key].mean,
                    "change_pp": 100 * (a[key].mean - b[key].mean),
                    "change_logodds": _logit(a[key].mean) - _logit(b[key].mean),
                    "after_lower": a[key].lower,
                    "after_upper": a[key].upper,
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """``forecast run`` keys for the new forecast, plus ``before`` and ``item``."""
        out = self.after.to_dict()
        out["before"] = self.before.to_dict()
        cfg = self.after.config
        item = self.item.model_dump(mode="json", exclude_none=True)
        item["credibility"] = item_credibility(cfg, self.item.reliability)
        item["effective_log_lr"] = self.after.evidence.entered.get(self.item.id, 0.0)
        item["alone_log_lr"] = item_loglr(cfg, self.item)
        item["counted"] = self.item.id in self.after.evidence.counted
        item["contribution"] = {
            row["outcome"]: {"pp": row["change_pp"], "logodds": row["change_logodds"]}
            for row in self.contribution_rows()
        }
        out["item"] = item
        return out


@dataclass(repr=False)
class RetractionResult(UpdateResult):
    """The forecast before and after a retraction; ``item`` is the item it withdrew."""

    retraction: Retraction | None = None

    def __repr__(self) -> str:
        return (f"<RetractionResult {self.retraction.id} retracts {self.item.id} "
                f"({self.after.path}): {self._moves()}>")

    def _repr_html_(self) -> str:
        from html import escape

        r = self.retraction
        head = (f"<p><b>Retracted</b> {escape(self.item.id)} ({escape(self.item.headline)}) "
                f"as of {r.date}: {escape(r.reason)} ({escape(r.source)})</p>")
        return head + super()._repr_html_().split("</p>", 1)[1]

    def to_dict(self) -> dict[str, Any]:
        """``forecast run`` keys for the new forecast, plus ``before``, ``retraction`` and
        ``item`` (the item withdrawn, as entered)."""
        out = self.after.to_dict()
        out["before"] = self.before.to_dict()
        out["retraction"] = self.retraction.model_dump(mode="json", exclude_none=True)
        out["item"] = self.item.model_dump(mode="json", exclude_none=True)
        out["item"]["contribution"] = {
            row["outcome"]: {"pp": row["change_pp"], "logodds": row["change_logodds"]}
            for row in self.contribution_rows()
        }
        return out


def _logit(p: float) -> float:
    """The package's one own logit, kept because ``forecast update`` is a fast path: importing
    ``scipy.special`` (used everywhere else) would add about 0.13 s to it."""
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))
