"""Backtest the old outside view by leave-one-out, and summarise it for a briefing.

One job: score the old logistic model (:mod:`forecast.reference`) by honest
leave-one-out cross-validation (PSIS-LOO, refitted exactly where the Pareto k is
high) against the leave-one-out base rate and a 50% forecast, and gather its
coefficients, scores and calibration in an :class:`OutsideView` for charts and
reports.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit

from forecast.reference import ReferenceFit, build_logistic_model, design
from forecast.reference_cases import FEATURES, OUTCOME
from forecast.reference_gate import diagnose, report_gate
from forecast.skill import calibration_table, loo_base_rate, score_table

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Backtest:
    """Leave-one-out predictions, scores and calibration of a reference-class fit."""

    pointwise: pd.DataFrame
    scores: pd.DataFrame
    calibration: pd.DataFrame
    elpd_loo: float
    elpd_se: float
    refits: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        """Flat JSON-ready numbers (what ``forecast reference backtest`` prints)."""
        s = self.scores.set_index("forecaster")
        out: dict[str, Any] = {"n_cases": int(s["n_cases"].iloc[0])}
        for name in s.index:
            out[f"brier_{name}"] = float(s.loc[name, "brier"])
            out[f"log_score_{name}"] = float(s.loc[name, "log_score"])
        out["elpd_loo"] = self.elpd_loo
        out["elpd_loo_se"] = self.elpd_se
        out["max_pareto_k"] = float(self.pointwise["pareto_k"].max())
        out["n_exact_refits"] = len(self.refits)
        out["refits_converged"] = all(r["passed"] for r in self.refits)
        return out


def backtest(fit: ReferenceFit, *, khat_max: float | None = None, progressbar: bool = False
             ) -> Backtest:
    """Leave-one-out cross-validation of the fit, scored against the base rate and 50%.

    Each case's LOO predictive probability comes from PSIS-LOO (``arviz_stats.loo``
    with pointwise results): the importance-weighted mean of its per-draw
    probability. Cases whose Pareto k exceeds ``khat_max`` (default
    ``backtest.khat_max`` of ``model.yaml``, 0.7) are refitted exactly without
    them. The base rate is computed leave-one-out too (:func:`loo_base_rate`).

    Returns
    -------
    Backtest
        ``pointwise`` (case_id, group, y, p_loo, p_base_rate, p_in_sample, pareto_k,
        method), ``scores`` (forecaster, brier, log_score, n_cases), ``calibration``
        (see :func:`calibration_table`) and the PSIS elpd.
    """
    import pandas as pd
    from arviz_stats import loo

    khat_max = fit.settings.backtest.khat_max if khat_max is None else khat_max
    cases = fit.cases
    y = cases[OUTCOME].to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Pareto k.*")
        warnings.filterwarnings("ignore", message=".*pareto_k.*")
        result = loo(fit.tree, pointwise=True, var_name=OUTCOME)
    k = np.asarray(result.pareto_k.transpose("case").values, dtype=float)
    lw = result.log_weights.transpose("chain", "draw", "case").values
    lw = lw.reshape(-1, lw.shape[-1])
    lw = lw - np.logaddexp.reduce(lw, axis=0, keepdims=True)
    p_draws = expit(_in_sample_eta(fit))  # (S, n)
    p_loo = np.sum(np.exp(lw) * p_draws, axis=0)
    method = np.array(["psis"] * len(y), dtype=object)
    refits = []
    high = [i for i in range(len(y)) if not k[i] <= khat_max]
    if high:
        exact, refits = _exact_loo(fit, high, progressbar=progressbar)
        for i, p in exact.items():
            p_loo[i] = p
            method[i] = "refit"
    p_loo = np.clip(p_loo, 1e-12, 1 - 1e-12)
    base = loo_base_rate(y)
    pointwise = pd.DataFrame({
        "case_id": list(cases["case_id"]),
        "group": fit.groups,
        "y": y.astype(int),
        "p_loo": p_loo,
        "p_base_rate": base,
        "p_in_sample": p_draws.mean(axis=0),
        "pareto_k": k,
        "method": method,
    })
    scores = score_table(y, {"model": p_loo, "base_rate": base, "fifty": np.full(y.size, 0.5)})
    calibration = calibration_table(p_loo, y, bins=fit.settings.backtest.calibration_bins,
                                    mass=fit.settings.credible_mass)
    return Backtest(pointwise, scores, calibration, float(result.elpd), float(result.se), refits)


def _in_sample_eta(fit: ReferenceFit) -> np.ndarray:
    d = fit.draws()
    levels = list(fit.tree["posterior"]["alpha_group"].coords["group"].values)
    idx = np.array([levels.index(g) for g in fit.groups])
    return d["alpha_group"][:, idx] + d["beta"] @ design(fit.cases).T


def _exact_loo(fit: ReferenceFit, indices: list[int], *, progressbar: bool
               ) -> tuple[dict[int, float], list[dict]]:
    """Refit without each case in ``indices`` (one compiled model, the weight data changed)."""
    import nutpie

    s = fit.settings.sampler
    model = build_logistic_model(fit.cases, fit.settings, weighted=True)
    compiled = nutpie.compile_pymc_model(model)
    levels = list(fit.tree["posterior"]["alpha_group"].coords["group"].values)
    x = design(fit.cases)
    out: dict[int, float] = {}
    records = []
    for i in indices:
        w = np.ones(len(fit.cases))
        w[i] = 0.0
        tree = nutpie.sample(compiled.with_data(weight=w), draws=s.draws, tune=s.tune,
                             chains=s.chains, seed=s.seed + 1 + i, progress_bar=progressbar,
                             target_accept=s.target_accept)
        diag = diagnose(tree, fit.settings.gate)
        post = tree["posterior"]
        a = np.asarray(post["alpha_group"].values, dtype=float).reshape(-1, len(levels))
        b = np.asarray(post["beta"].values, dtype=float).reshape(-1, len(FEATURES))
        eta = a[:, levels.index(fit.groups[i])] + b @ x[i]
        out[i] = float(expit(eta).mean())
        records.append({"case_id": fit.cases["case_id"].iloc[i], "p_loo": out[i],
                        "r_hat_max": diag["r_hat_max"], "divergences": diag["divergences"],
                        "passed": diag["passed"], "failures": diag["failures"]})
        report_gate(diag, f"the exact LOO refit without {fit.cases['case_id'].iloc[i]!r}")
    return out, records


@dataclass
class OutsideView:
    """The outside view in tables, for a briefing: coefficients, backtest, calibration."""

    coefficients: pd.DataFrame  # :meth:`ReferenceFit.coefficients`
    scores: pd.DataFrame  # forecaster (model, base_rate, fifty), brier, log_score, n_cases
    calibration: pd.DataFrame  # :func:`calibration_table` of the leave-one-out forecasts
    base_rate: float
    n_cases: int
    diagnostics: dict
    mass: float
    cases_sha256: str = ""

    @property
    def converged(self) -> bool:
        """Whether the reference fit passed its convergence gate."""
        return bool(self.diagnostics.get("passed", False))

    def footer(self, title: str | None = None) -> str:
        """Provenance for an outside-view chart: the question it serves, the cases, the fit."""
        head = f"Outside view for: {title} | " if title else ""
        gate = "converged" if self.converged else "NOT CONVERGED"
        return (f"{head}reference class {self.n_cases} cases (cases.csv "
                f"{self.cases_sha256[:8] or 'in memory'}) | fit {gate}")


def outside_view(fit: ReferenceFit, bt: Backtest | None = None) -> OutsideView:
    """Summarise a reference fit and its leave-one-out backtest for charts and reports."""
    bt = bt if bt is not None else backtest(fit)
    y = fit.cases[OUTCOME].to_numpy(dtype=float)
    return OutsideView(
        coefficients=fit.coefficients(),
        scores=bt.scores,
        calibration=bt.calibration,
        base_rate=float(y.mean()),
        n_cases=int(y.size),
        diagnostics=dict(fit.diagnostics),
        mass=fit.settings.credible_mass,
        cases_sha256=str(fit.cases.attrs.get("sha256", "")),
    )
