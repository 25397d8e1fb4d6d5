"""Backtest the outside view as of each origin, without hindsight.

One job: score the hazard model's forecasts of "kept to start + 5 years" made
0, 1 and 2 years into each episode, from only what was known at that origin,
with the case's whole shock left out of the fit, against two comparisons: the
base rate of the other shocks' cases at risk at that origin, and the old
episode-coded logistic model (whose features were coded over the whole episode,
so its score is labelled hindsight).

Leaving a shock out is done by Pareto-smoothed importance sampling of the full
fit (weights ``1 / p(shock's case-years | theta)``; Vehtari, Gelman & Gabry 2017,
"Practical Bayesian model evaluation using leave-one-out cross-validation and
WAIC", *Statistics and Computing* 27), refitted exactly where the Pareto k
exceeds ``backtest.khat_max``. The onset rates and blank probabilities are taken
without the shock too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from forecast.hazard import (
    STATIC,
    TIME_VARYING,
    HazardFit,
    Profile,
    build_hazard_model,
    survival,
)
from forecast.psis import psislw
from forecast.reference_data import known_at
from forecast.reference_gate import diagnose
from forecast.skill import brier_score, calibration_table, laplace_rate, log_score

if TYPE_CHECKING:
    import pandas as pd

FORECASTERS = {"hazard": "event-history model (as of the origin)",
               "base_rate": "base rate of cases at risk at the origin",
               "old_model": "old episode-coded model (hindsight)"}


@dataclass
class HazardBacktest:
    """Pointwise as-of-origin forecasts, their scores and calibration."""

    pointwise: pd.DataFrame  # origin, case_id, shock, y, p_hazard, p_base_rate, p_old_model, ...
    scores: pd.DataFrame  # origin, forecaster, label, brier, log_score, n_cases
    calibration: pd.DataFrame  # origin + calibration_table columns, of the hazard model
    refits: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        """JSON-ready: per origin and forecaster, Brier and log score; the refits."""
        out: dict = {"origins": {}}
        for o, rows in self.scores.groupby("origin"):
            out["origins"][str(int(o))] = {
                "n_cases": int(rows["n_cases"].iloc[0]),
                **{f"brier_{r.forecaster}": float(r.brier) for r in rows.itertuples()},
                **{f"log_score_{r.forecaster}": float(r.log_score) for r in rows.itertuples()}}
        out["max_pareto_k"] = float(self.pointwise["pareto_k"].max())
        out["n_exact_refits"] = len(self.refits)
        out["refits_converged"] = all(r["passed"] for r in self.refits)
        return out


def _shock_loglik(fit: HazardFit) -> tuple[np.ndarray, list[str]]:
    """(S, n_shocks) log-likelihood of each shock's case-years."""
    ll = np.asarray(fit.tree["log_likelihood"]["lost"].values, dtype=float)
    ll = ll.reshape(-1, ll.shape[-1])
    shocks = list(dict.fromkeys(fit.data["shock"]))
    idx = np.array([shocks.index(s) for s in fit.data["shock"]])
    out = np.zeros((ll.shape[0], len(shocks)))
    np.add.at(out.T, idx, ll.T)
    return out, shocks


def profile_of(row, patron: str) -> Profile:
    """A :class:`Profile` of one row of :func:`forecast.reference_data.known_at`."""
    return Profile(patron=patron, static={f: int(getattr(row, f)) for f in STATIC},
                   known={f: int(getattr(row, f)) for f in TIME_VARYING})


def backtest(fit: HazardFit, *, old_model: dict[str, float] | None = None,
             refit: bool = True) -> HazardBacktest:
    """As-of-origin, leave-one-shock-out backtest of ``fit``.

    Parameters
    ----------
    fit
        From :func:`forecast.hazard.fit_hazard`.
    old_model
        Case id -> the old episode-coded model's leave-one-out P(retained 5 years)
        (from :func:`forecast.reference_backtest.backtest`); scored on the same cases where given.
    refit
        Refit exactly, without the shock, where the Pareto k is above the threshold;
        False keeps the PSIS value and marks it (for quick looks and tests).
    """
    import pandas as pd

    bt = fit.settings.backtest
    ll, shocks = _shock_loglik(fit)
    weights, khat = {}, {}
    for j, s in enumerate(shocks):
        lw, k = psislw(-ll[:, j])
        weights[s], khat[s] = np.exp(lw - lw.max()), float(k)
    refitted: dict[str, HazardFit] = {}
    records: list[dict] = []
    if refit:
        high = [s for s in shocks if not khat[s] <= bt.khat_max]
        refitted, records = _refit_without(fit, high)
    patrons = dict(zip(fit.cases["case_id"], fit.cases["patron"], strict=True))
    rows = []
    for origin in bt.origins:
        k = known_at(fit.cases, origin, outcome=fit.settings.outcome,
                     window_years=bt.window_years)
        eligible = k[k["at_risk"] & k["kept"].notna()]
        for r in eligible.itertuples(index=False):
            without = frozenset([r.shock])
            source = refitted.get(r.shock, fit)
            p = survival(source, profile_of(r, patrons[r.case_id]), origin=origin,
                         horizons=[bt.window_years], without=without)[:, 0]
            if r.shock in refitted or r.shock not in weights:
                p_hat, method = float(p.mean()), "refit" if r.shock in refitted else "new"
            else:
                w = weights[r.shock]
                p_hat, method = float(np.sum(w * p) / w.sum()), "psis"
            others = eligible[eligible["shock"] != r.shock]["kept"]
            rows.append({"origin": origin, "case_id": r.case_id, "shock": r.shock,
                         "y": int(r.kept), "p_hazard": p_hat,
                         "p_base_rate": float(laplace_rate(others.sum(), len(others))),
                         "p_old_model": (old_model or {}).get(r.case_id, np.nan),
                         "pareto_k": khat.get(r.shock, np.nan), "method": method})
    pointwise = pd.DataFrame(rows)
    return HazardBacktest(pointwise, score_by_origin(pointwise),
                          calibration_by_origin(pointwise, bins=bt.calibration_bins,
                                                mass=fit.settings.credible_mass), records)


def score_by_origin(pointwise: pd.DataFrame) -> pd.DataFrame:
    """Brier and log score per origin and forecaster. The old model is scored only on
    the cases it has; every forecaster's ``n_cases`` says how many."""
    import pandas as pd

    rows = []
    for origin, g in pointwise.groupby("origin"):
        for name, label in FORECASTERS.items():
            col = g[f"p_{name}"].to_numpy(dtype=float)
            ok = ~np.isnan(col)
            if not ok.any():
                continue
            p, y = np.clip(col[ok], 1e-12, 1 - 1e-12), g["y"].to_numpy()[ok]
            rows.append({"origin": int(origin), "forecaster": name, "label": label,
                         "brier": brier_score(p, y), "log_score": log_score(p, y),
                         "n_cases": int(ok.sum())})
    return pd.DataFrame(rows)


def calibration_by_origin(pointwise: pd.DataFrame, *, bins: int = 5, mass: float = 0.9
                          ) -> pd.DataFrame:
    """:func:`forecast.skill.calibration_table` of the hazard model, per origin."""
    import pandas as pd

    tables = []
    for origin, g in pointwise.groupby("origin"):
        t = calibration_table(g["p_hazard"], g["y"], bins=bins, mass=mass)
        t.insert(0, "origin", int(origin))
        tables.append(t)
    return pd.concat(tables, ignore_index=True)


def _refit_without(fit: HazardFit, shocks: list[str]) -> tuple[dict[str, HazardFit], list[dict]]:
    """Exact refits leaving each shock's case-years out (one compiled model, weights changed)."""
    if not shocks:
        return {}, []
    import nutpie

    s = fit.settings.sampler
    compiled = nutpie.compile_pymc_model(build_hazard_model(fit.data, fit.settings,
                                                            weighted=True))
    out, records = {}, []
    for i, shock in enumerate(shocks):
        w = (fit.data["shock"] != shock).to_numpy(dtype=float)
        bt = fit.settings.backtest
        tree = nutpie.sample(compiled.with_data(weight=w), draws=bt.refit_draws, tune=s.tune,
                             chains=bt.refit_chains, seed=s.seed + 1 + i, progress_bar=False,
                             target_accept=s.target_accept)
        diag = diagnose(tree, fit.settings.gate, names=("baseline", "sigma_patron",
                                                        "sigma_shock", "beta"))
        out[shock] = HazardFit(tree, diag, fit.cases, fit.data, fit.settings)
        records.append({"shock": shock, "passed": diag["passed"],
                        "r_hat_max": diag["r_hat_max"], "failures": diag["failures"]})
    return out, records
