"""A forecast's result: its per-draw values, their weights, and how they are summarised.

One job: the :class:`Forecast` the engines return (per-draw probabilities of each
base, both and either, and of each evidence state, with the PSIS weights where the
draws are weighted) and the one estimator of a probability from weighted or
unweighted draws (:func:`estimate`: mean, central credible interval, Monte Carlo
standard error, effective sample size), and the Pareto smoothing of log weights
(:func:`psis`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from forecast import fmt
from forecast.config import QuestionConfig
from forecast.exact import Enumerated, quantity_name
from forecast.ledger import Evidence
from forecast.psis import psislw
from forecast.store import StoredFit


@dataclass(frozen=True)
class Estimate:
    """A posterior mean probability with its credible interval and Monte Carlo error."""

    mean: float
    lower: float
    upper: float
    mcse: float
    ess: float


@dataclass(repr=False)
class Forecast:
    """A forecast: per-draw probabilities under the news known ``as_of``, and how it was had.

    Printed, it is one line per outcome (``repr``); in a notebook, a small table
    (``_repr_html_``), never its arrays.
    """

    config: QuestionConfig
    as_of: dt.date
    evidence: Evidence
    path: str  # "cached" | "reweighted" | "fit" | "prior" | "importance"
    fit: StoredFit
    values: Enumerated  # per draw, under ``evidence``
    log_weights: np.ndarray | None = None  # normalised PSIS log weights, or None
    khat: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def engine(self) -> str:
        """``exact`` (prior draws weighted by the exact likelihood) or ``nuts`` (sampled)."""
        return "exact" if self.path in ("exact", "prior", "importance") else "nuts"

    def summary_rows(self) -> list[tuple[str, str, str, str]]:
        """(label, probability, interval, estimative word) per headline outcome."""
        names = {o.id: o.name for o in self.config.question.outcomes}
        names.update(all=self.config.wording.all, any=self.config.wording.any)
        rows = []
        for key, est in self.probabilities().items():
            if key in self.config.headline_outcomes:
                rows.append((names[key], fmt.pct(est.mean), fmt.interval(est.lower, est.upper),
                             fmt.estimative_word(est.mean)))
        return rows

    def __repr__(self) -> str:
        body = "; ".join(f"{label} {p} [{ci}]" for label, p, ci, _ in self.summary_rows())
        return (f"<Forecast {self.config.id} as of {self.as_of} ({self.path}, "
                f"{len(self.evidence.item_ids)} items): {body}>")

    def _repr_html_(self) -> str:
        from html import escape

        mass = f"{self.config.model.credible_mass:.0%}"
        rows = "".join(f"<tr><td>{escape(a)}</td><td>{b}</td><td>{c}</td><td>{escape(d)}</td></tr>"
                       for a, b, c, d in self.summary_rows())
        return (f"<p><b>{escape(self.config.question.title)}</b><br>as of {self.as_of}, "
                f"horizon {self.config.question.horizon} · {len(self.evidence.item_ids)} news "
                f"items · path: {escape(self.path)}</p><table><tr><th></th>"
                f"<th>{escape(self.config.wording.probability)}</th><th>{mass} interval</th>"
                f"<th>word</th></tr>{rows}</table>")

    @property
    def weights(self) -> np.ndarray | None:
        """Normalised importance weights of the draws, or None when unweighted."""
        return None if self.log_weights is None else np.exp(self.log_weights)

    def estimate(self, values: np.ndarray, name: str | None = None) -> Estimate:
        """Summarise one per-draw quantity (length ``n``).

        ``name`` (e.g. ``p_keep[tartus]``) lets the estimate reuse the ESS the
        fit stored for that quantity instead of recomputing it with ArviZ.
        """
        ess = self.fit.ess_mean.get(name) if name else None
        if ess is None and self.engine == "exact":
            ess = float(values.size)  # independent draws: no autocorrelation to estimate
        return estimate(values, self.weights, self.fit.shape, self.config.model.credible_mass,
                        ess=ess)

    def probabilities(self) -> dict[str, Estimate]:
        """Headline estimates keyed ``<base>``, ``all`` and ``any``."""
        v = self.values
        out = {b: self.estimate(v.p_keep[:, i], quantity_name("p_keep", b))
               for i, b in enumerate(self.config.bases)}
        out["all"] = self.estimate(v.p_all, "p_all")
        out["any"] = self.estimate(v.p_any, "p_any")
        return out

    def state_probabilities(self) -> dict[str, Estimate]:
        """Posterior P(state true) of each evidence variable."""
        return {
            var: self.estimate(self.values.p_state[:, k], quantity_name("p_state_post", var))
            for k, var in enumerate(self.config.variables)
        }

    def diagnostics(self) -> dict:
        """The sampler's diagnostics behind this forecast, as ``forecast run --json`` gives them.

        ``ess_bulk_min`` is the gate's number: the smallest bulk ESS of the headline
        probabilities' draws (independent prior draws: their number). Under importance
        weights it is scaled by the weights' efficiency ``1 / (n sum w_i^2)``, the
        share of the draws the weighted estimate is worth. ``ess_mean_min`` is the
        smallest ESS behind the headline MCSEs.
        """
        d = self.fit.diagnostics
        n = self.fit.shape[0] * self.fit.shape[1]
        bulk = float(d.get("ess_bulk_min", n))
        if self.log_weights is not None and d.get("engine") != "exact":
            bulk *= float(1.0 / (n * np.sum(self.weights**2)))  # the exact engine's is scaled
        out = {
            "engine": self.engine,
            "r_hat_max": d["r_hat_max"],
            "ess_bulk_min": bulk,
            "ess_mean_min": min(e.ess for e in self.probabilities().values()),
            "divergences": d["divergences"],
            "converged": d["passed"],
            "path": self.path,
        }
        if d.get("failures"):
            out["failures"] = list(d["failures"])
        if self.khat is not None:
            out["pareto_khat"] = self.khat
        return out

    def to_dict(self) -> dict:
        """The JSON shape of ``forecast run --json``."""
        probs = self.probabilities()

        def one(e: Estimate) -> dict:
            return {"p_keep": e.mean, "ci90": [e.lower, e.upper], "mcse": e.mcse}

        return {
            "question": self.config.id,
            "as_of": self.as_of.isoformat(),
            "horizon": self.config.question.horizon.isoformat(),
            "prior_source": self.config.prior_source,
            "bases": {b: one(probs[b]) for b in self.config.bases},
            "joint": {"both": probs["all"].mean, "either": probs["any"].mean},
            "evidence": {v: e.mean for v, e in self.state_probabilities().items()},
            "items": list(self.evidence.item_ids),
            "diagnostics": self.diagnostics(),
        }


def estimate(values, weights, shape, mass, ess: float | None = None) -> Estimate:
    """Mean, central credible interval, MCSE and ESS of per-draw values.

    Without weights, MCSE is ``sd / sqrt(ESS)`` with ArviZ's ESS for the mean
    (which accounts for autocorrelation within chains); ``ess`` may pass a value
    the fit stored, otherwise ArviZ computes it. With PSIS weights, the interval
    uses weighted quantiles and the MCSE is ``sqrt(sum w_i^2 (x_i - mean)^2)``
    divided by the square root of the chains' relative efficiency ``ESS / n``
    (Vehtari et al., 2024, eq. 6); the ESS reported is ``r_eff / sum w_i^2``.
    """
    x = np.asarray(values, dtype=float)
    if ess is None:
        from arviz_stats.base import array_stats

        ess = float(array_stats.ess(x.reshape(shape), method="mean"))
    tail = (1 - mass) / 2
    if weights is None:
        lo, hi = np.quantile(x, [tail, 1 - tail])
        mcse = float(np.std(x, ddof=1) / np.sqrt(ess))
        return Estimate(float(x.mean()), float(lo), float(hi), mcse, ess)
    w = weights / weights.sum()
    mean = float(np.dot(w, x))
    order = np.argsort(x)
    cdf = np.cumsum(w[order]) - w[order] / 2
    lo, hi = np.interp([tail, 1 - tail], cdf, x[order])
    r_eff = min(1.0, ess / x.size) if np.isfinite(ess) else 1.0
    mcse = float(np.sqrt(np.sum(w**2 * (x - mean) ** 2) / r_eff))
    return Estimate(mean, float(lo), float(hi), mcse, float(r_eff / np.sum(w**2)))


def psis(log_ratio: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed normalised log weights for ``log_ratio`` and their k-hat."""
    if np.allclose(log_ratio, log_ratio[0], rtol=0, atol=1e-12):
        n = log_ratio.size
        return np.full(n, -np.log(n)), 0.0
    return psislw(log_ratio)
