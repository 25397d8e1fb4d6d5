"""The outside view: a historical reference class of foreign bases, fitted and backtested.

One job: from the cases in ``priors/reference_class/cases.csv`` (did a patron keep
its bases in a host country for five years after a shock?), fit a Bayesian
logistic regression with a partially pooled intercept, check it by honest
leave-one-out cross-validation against the base rate and a 50% forecast, and
give the history-based probability for new cases, the Syria question among them.

The model and its priors are data, in ``priors/reference_class/model.yaml``
(validated by :class:`ReferenceSettings`); each question's coding as a case is
data too, in its own ``reference_case.yaml``. The cases CSV's reader is
:mod:`forecast.reference_cases` and the scoring rules :mod:`forecast.skill`; both are
re-exported here.
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from scipy.special import expit

from forecast.config import (
    ConfigError,
    DistSpec,
    Sampler,
    Text,
    format_validation_error,
    read_yaml,
    repo_path,
)
from forecast.errors import ConvergenceWarning

# The cases CSV and the scoring rules live in their own modules; imported from here too.
from forecast.reference_cases import (  # noqa: F401
    COLUMNS,
    FEATURES,
    FIRST_YEAR,
    LAST_YEAR,
    OUTCOME,
    PREDICT_COLUMNS,
    WINDOW_YEARS,
    Binary,
    CaseRow,
    Cell,
    NewCaseRow,
    _records,
    case_summary,
    load_cases,
    patron_table,
)
from forecast.skill import (  # noqa: F401
    brier_score,
    calibration_table,
    log_score,
    loo_base_rate,
    score_table,
)

if TYPE_CHECKING:
    import pandas as pd

REFERENCE_DIR = Path("priors") / "reference_class"


def default_path(name: str) -> Path:
    """``priors/reference_class/<name>`` under the working directory, else under the repository."""
    return repo_path(REFERENCE_DIR / name)


# --------------------------------------------------------------------------------------
# The settings (priors/reference_class/model.yaml)
# --------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PriorSpec(_Strict):
    """A prior in pymc-extras ``Prior.to_dict()`` shape, with its one-line rationale."""

    dist: DistSpec
    rationale: Text


def _family(spec: PriorSpec, family: str) -> PriorSpec:
    if spec.dist.dist != family:
        raise ValueError(f"needs a {family} prior (got {spec.dist.dist})")
    return spec


class ReferencePriors(_Strict):
    """The reference model's priors: intercept, group scale, one per feature."""

    intercept: PriorSpec
    group_sd: PriorSpec
    coefficients: dict[str, PriorSpec]

    @field_validator("intercept")
    @classmethod
    def _normal(cls, v: PriorSpec) -> PriorSpec:
        return _family(v, "Normal")

    @field_validator("group_sd")
    @classmethod
    def _half(cls, v: PriorSpec) -> PriorSpec:
        return _family(v, "HalfNormal")

    @field_validator("coefficients")
    @classmethod
    def _each(cls, v: dict[str, PriorSpec]) -> dict[str, PriorSpec]:
        missing, unknown = sorted(set(FEATURES) - set(v)), sorted(set(v) - set(FEATURES))
        if missing or unknown:
            raise ValueError(f"give a prior for exactly the features {list(FEATURES)} "
                             f"(missing {missing}, unknown {unknown})")
        for spec in v.values():
            _family(spec, "Normal")
        return v


class Hierarchy(_Strict):
    """Which intercept is partially pooled: by patron, or by era of the case's start."""

    group: Literal["patron", "era"]
    #: Start years at which a new era begins (used when ``group: era``).
    era_breaks: list[int] = Field(default_factory=list)
    rationale: Text

    @model_validator(mode="after")
    def _check(self) -> Hierarchy:
        if self.era_breaks != sorted(set(self.era_breaks)):
            raise ValueError("era_breaks must be strictly increasing")
        if any(not FIRST_YEAR < y <= LAST_YEAR for y in self.era_breaks):
            raise ValueError(f"era_breaks must lie in {FIRST_YEAR + 1}..{LAST_YEAR}")
        if self.group == "era" and not self.era_breaks:
            raise ValueError("group: era needs at least one year in era_breaks")
        return self


class ReferenceGate(_Strict):
    """The convergence gate of the reference-class fit."""

    r_hat_max: float = Field(gt=1.0, le=1.1)
    divergences_max: int = Field(ge=0)
    ess_bulk_min: float = Field(ge=50)


class BacktestSettings(_Strict):
    #: PSIS-LOO is trusted for a case while its Pareto k stays at or below this.
    """Leave-one-out settings: the Pareto k threshold and calibration bins."""

    khat_max: float = Field(gt=0, le=1.0)
    calibration_bins: int = Field(ge=2, le=20)


class ReferenceSettings(_Strict):
    """``priors/reference_class/model.yaml``, validated."""

    schema_version: Literal[1]
    hierarchy: Hierarchy
    priors: ReferencePriors
    credible_mass: float = Field(gt=0.5, lt=1.0)
    sampler: Sampler
    gate: ReferenceGate
    backtest: BacktestSettings

    def with_sampler(self, **changes: int | float | None) -> ReferenceSettings:
        """A copy with some sampler settings changed (``draws``, ``seed``, ...), validated."""
        sampler = self.sampler.changed(**changes)
        return self if sampler == self.sampler else self.model_copy(update={"sampler": sampler})


def load_settings(path: str | Path | None = None) -> ReferenceSettings:
    """Read and validate ``priors/reference_class/model.yaml`` (or another file).

    Raises
    ------
    ConfigError
        Naming the file and the field of every problem.
    """
    path = Path(path) if path is not None else default_path("model.yaml")
    data, _ = read_yaml(path)
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ConfigError([f"{path}: (top level): expected a mapping of fields, got {kind}"])
    try:
        return ReferenceSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None


# --------------------------------------------------------------------------------------
# The fit
# --------------------------------------------------------------------------------------


def group_labels(cases: pd.DataFrame, hierarchy: Hierarchy) -> list[str]:
    """The label of each case's pooled intercept: its patron, or its era (e.g. ``1992-2025``)."""
    if hierarchy.group == "patron":
        if "patron" not in cases or cases["patron"].isna().any():
            return [str(p) if isinstance(p, str) else "(unknown patron)"
                    for p in cases.get("patron", [None] * len(cases))]
        return [str(p) for p in cases["patron"]]
    edges = [FIRST_YEAR, *hierarchy.era_breaks, LAST_YEAR + 1]
    names = [f"{lo}-{hi - 1}" for lo, hi in itertools.pairwise(edges)]
    out = []
    for year in cases.get("start_year", [None] * len(cases)):
        if year is None or (isinstance(year, float) and math.isnan(year)):
            out.append("(unknown era)")
            continue
        k = int(np.searchsorted(edges, int(year), side="right")) - 1
        out.append(names[min(max(k, 0), len(names) - 1)])
    return out


@dataclass
class ReferenceFit:
    """A fitted reference class: the DataTree, its diagnostics and what it was fitted on."""

    tree: Any  # xarray.DataTree with posterior, sample_stats, log_likelihood, observed_data
    diagnostics: dict
    cases: pd.DataFrame
    settings: ReferenceSettings
    groups: list[str]

    @property
    def converged(self) -> bool:
        """Whether the fit passed its convergence gate."""
        return bool(self.diagnostics["passed"])

    def draws(self) -> dict[str, np.ndarray]:
        """Posterior draws flattened over chains: ``alpha`` (S,), ``sigma_group`` (S,),
        ``alpha_group`` (S, G), ``beta`` (S, F)."""
        post = self.tree["posterior"]
        out = {}
        for name in ("alpha", "sigma_group", "alpha_group", "beta"):
            a = np.asarray(post[name].values, dtype=float)
            out[name] = a.reshape(-1, *a.shape[2:])
        return out

    def coefficients(self) -> pd.DataFrame:
        """Per feature: posterior mean log odds ratio, odds ratio (median) and its interval."""
        import pandas as pd

        beta = self.draws()["beta"]
        tail = (1 - self.settings.credible_mass) / 2
        lo, med, hi = np.quantile(beta, [tail, 0.5, 1 - tail], axis=0)
        return pd.DataFrame({
            "feature": list(FEATURES),
            "log_or_mean": beta.mean(axis=0),
            "log_or_sd": beta.std(axis=0, ddof=1),
            "odds_ratio": np.exp(med),
            "or_lower": np.exp(lo),
            "or_upper": np.exp(hi),
            "p_positive": (beta > 0).mean(axis=0),
            "mass": self.settings.credible_mass,
        })

    def intercepts(self) -> pd.DataFrame:
        """Per group: number of cases, observed rate and the pooled baseline P(retained)."""
        import pandas as pd

        d = self.draws()
        tail = (1 - self.settings.credible_mass) / 2
        p = expit(d["alpha_group"])
        labels = list(self.tree["posterior"]["alpha_group"].coords["group"].values)
        y = self.cases[OUTCOME].to_numpy()
        groups = np.array(self.groups)
        return pd.DataFrame({
            "group": labels,
            "n_cases": [int((groups == g).sum()) for g in labels],
            "observed_rate": [float(y[groups == g].mean()) for g in labels],
            "p_baseline": p.mean(axis=0),
            "lower": np.quantile(p, tail, axis=0),
            "upper": np.quantile(p, 1 - tail, axis=0),
        })


def design(cases: pd.DataFrame) -> np.ndarray:
    """The (n, 7) 0/1 feature matrix of :data:`FEATURES`."""
    return cases[list(FEATURES)].to_numpy(dtype=float)


def build_model(cases: pd.DataFrame, settings: ReferenceSettings, *, weighted: bool = False):
    """The PyMC logistic regression with a partially pooled intercept.

    ::

        alpha          ~ Normal(priors.intercept)          global log odds of retention
        sigma_group    ~ HalfNormal(priors.group_sd)        spread of the groups' intercepts
        z_group[g]     ~ Normal(0, 1)                       (non-centred)
        alpha_group[g] = alpha + sigma_group * z_group[g]
        beta[f]        ~ Normal(priors.coefficients[f])     log odds ratio of feature f
        retained_5y[i] ~ Bernoulli(logit_p = alpha_group[group[i]] + X[i] . beta)

    With ``weighted=True`` the likelihood is a Potential weighted by the data
    container ``weight`` (1 = in, 0 = left out), so one compiled model serves
    every exact leave-one-out refit.
    """
    import pymc as pm
    from pymc_extras.prior import Prior

    groups = group_labels(cases, settings.hierarchy)
    levels = list(dict.fromkeys(groups))
    index = np.array([levels.index(g) for g in groups])
    priors = settings.priors
    coords = {"case": list(cases["case_id"]), "feature": list(FEATURES), "group": levels}
    mu = np.array([priors.coefficients[f].dist.kwargs["mu"] for f in FEATURES])
    sd = np.array([priors.coefficients[f].dist.kwargs["sigma"] for f in FEATURES])
    with pm.Model(coords=coords) as model:
        x = pm.Data("X", design(cases), dims=("case", "feature"))
        g = pm.Data("group_index", index, dims="case")
        y = cases[OUTCOME].to_numpy(dtype="int64")
        alpha = Prior.from_dict(priors.intercept.dist.model_dump()).create_variable("alpha")
        sigma = Prior.from_dict(priors.group_sd.dist.model_dump()).create_variable("sigma_group")
        z = pm.Normal("z_group", 0.0, 1.0, dims="group")
        alpha_group = pm.Deterministic("alpha_group", alpha + sigma * z, dims="group")
        beta = Prior("Normal", mu=mu, sigma=sd, dims="feature").create_variable("beta")
        eta = alpha_group[g] + pm.math.dot(x, beta)
        if weighted:
            w = pm.Data("weight", np.ones(len(cases)), dims="case")
            logp = pm.logp(pm.Bernoulli.dist(logit_p=eta), y)
            pm.Potential("weighted_loglik", (w * logp).sum())
        else:
            pm.Bernoulli(OUTCOME, logit_p=eta, observed=y, dims="case")
    return model


def fit_reference(cases: pd.DataFrame, settings: ReferenceSettings, *,
                  progressbar: bool = False) -> ReferenceFit:
    """Fit the reference class: Bayesian logistic regression on the seven features.

    The intercept is partially pooled by the group that ``model.yaml`` names
    (``hierarchy.group``). The default is **patron**: retention depends first on
    who the patron is (its means, its habits of staying or leaving), the cases
    cluster by patron (the Soviet Union/Russia, the United States, Britain, France
    each contribute several), and a patron with one or two cases borrows strength
    from the global mean instead of getting an intercept of its own fitted to one
    outcome. Era (``group: era`` with ``era_breaks``) is the alternative when the
    patrons are too many and too thin; it is supported but not the default,
    because the era is largely captured by who the patrons were.

    Parameters
    ----------
    cases
        From :func:`load_cases`.
    settings
        From :func:`load_settings`; its ``sampler`` holds draws, chains and the seed.

    Returns
    -------
    ReferenceFit
        ``tree`` is the DataTree with groups ``posterior``, ``sample_stats``,
        ``observed_data`` and ``log_likelihood`` (pointwise, dim ``case``);
        ``diagnostics`` holds R-hat, ESS, divergences, ``passed`` and ``failures``.
        A failed gate is also printed to stderr and warned (:class:`ConvergenceWarning`).
    """
    import pymc as pm

    s = settings.sampler
    model = build_model(cases, settings)
    tree = pm.sample(
        draws=s.draws, tune=s.tune, chains=s.chains, target_accept=s.target_accept,
        random_seed=s.seed, progressbar=progressbar, nuts_sampler="nutpie", model=model,
    )
    tree = pm.compute_log_likelihood(tree, model=model, progressbar=False)
    diagnostics = diagnose(tree, settings.gate)
    tree.attrs["forecast_reference_cases_sha256"] = cases.attrs.get("sha256", "")
    tree.attrs["forecast_reference_seed"] = int(s.seed)
    fit = ReferenceFit(tree, diagnostics, cases.reset_index(drop=True), settings,
                       group_labels(cases, settings.hierarchy))
    report_gate(diagnostics, "the reference-class fit")
    return fit


def report_gate(diagnostics: dict, what: str) -> None:
    """Print and warn (:class:`ConvergenceWarning`) when a fit failed its gate."""
    if diagnostics["passed"]:
        return
    message = f"{what} FAILED the convergence gate: " + "; ".join(diagnostics["failures"])
    print(f"WARNING: {message}", file=sys.stderr)
    warnings.warn(message, ConvergenceWarning, stacklevel=3)


def diagnose(tree, gate: ReferenceGate,
             names: tuple[str, ...] = ("alpha", "sigma_group", "z_group", "beta")) -> dict:
    """R-hat, bulk ESS and divergences of the sampled parameters ``names``, against the gate."""
    from arviz_stats.base import array_stats

    post = tree["posterior"]
    per_var = {}
    for name in names:
        values = np.asarray(post[name].values, dtype=float)
        values = np.moveaxis(values.reshape(*values.shape[:2], -1), -1, 0)
        per_var[name] = {
            "r_hat_max": float(np.nanmax(array_stats.rhat(values))),
            "ess_bulk_min": float(np.nanmin(array_stats.ess(values, method="bulk"))),
        }
    divergences = int(np.asarray(tree["sample_stats"]["diverging"].values).sum())
    out = {
        "r_hat_max": max(v["r_hat_max"] for v in per_var.values()),
        "ess_bulk_min": min(v["ess_bulk_min"] for v in per_var.values()),
        "divergences": divergences,
        "chains": int(post.sizes["chain"]),
        "draws": int(post.sizes["draw"]),
        "per_variable": per_var,
    }
    failures = []
    if not out["r_hat_max"] <= gate.r_hat_max:
        failures.append(f"R-hat {out['r_hat_max']:.4f} > {gate.r_hat_max}")
    if divergences > gate.divergences_max:
        failures.append(f"{divergences} divergent transitions > {gate.divergences_max}")
    if not out["ess_bulk_min"] >= gate.ess_bulk_min:
        failures.append(f"bulk ESS {out['ess_bulk_min']:.0f} < {gate.ess_bulk_min:.0f}")
    out["passed"] = not failures
    out["failures"] = failures
    return out


# --------------------------------------------------------------------------------------
# Prediction
# --------------------------------------------------------------------------------------


def _intercept_draws(fit: ReferenceFit, labels: list[str], rng: np.random.Generator
                     ) -> np.ndarray:
    """(S, n) intercepts: a known group's own, a new group's drawn from the population."""
    d = fit.draws()
    known = list(fit.tree["posterior"]["alpha_group"].coords["group"].values)
    new: dict[str, np.ndarray] = {}
    cols = []
    for label in labels:
        if label in known:
            cols.append(d["alpha_group"][:, known.index(label)])
        else:
            if label not in new:
                new[label] = d["alpha"] + d["sigma_group"] * rng.standard_normal(d["alpha"].size)
            cols.append(new[label])
    return np.stack(cols, axis=1)


def predict_draws(fit: ReferenceFit, cases: pd.DataFrame, *, seed: int | None = None
                  ) -> np.ndarray:
    """(S, n) posterior draws of P(retained_5y) for the cases' features and groups.

    A case whose group (patron or era) is not among the fitted ones gets a new
    group's intercept, drawn from the population distribution.
    """
    seed = fit.settings.sampler.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    labels = group_labels(cases, fit.settings.hierarchy)
    eta = _intercept_draws(fit, labels, rng) + fit.draws()["beta"] @ design(cases).T
    return expit(eta)


def predict(fit: ReferenceFit, cases_df: pd.DataFrame, *, seed: int | None = None
            ) -> pd.DataFrame:
    """P(retained_5y) with its credible interval for new cases.

    Parameters
    ----------
    fit
        From :func:`fit_reference`.
    cases_df
        Columns ``case_id`` and the seven features (0/1), and ``patron`` (or
        ``start_year`` for an era hierarchy) when known.

    Returns
    -------
    pandas.DataFrame
        ``case_id, group, known_group, p_retained, lower, upper, mass``.
    """
    import pandas as pd

    missing = [c for c in PREDICT_COLUMNS if c not in cases_df]
    if missing:
        raise ValueError(f"cases to predict lack the columns {missing}")
    bad = ~cases_df[list(FEATURES)].isin([0, 1]).all(axis=1)
    if bad.any():
        raise ValueError(f"features must be 0 or 1 (cases {list(cases_df.loc[bad, 'case_id'])})")
    p = predict_draws(fit, cases_df, seed=seed)
    tail = (1 - fit.settings.credible_mass) / 2
    labels = group_labels(cases_df, fit.settings.hierarchy)
    known = set(fit.groups)
    return pd.DataFrame({
        "case_id": list(cases_df["case_id"]),
        "group": labels,
        "known_group": [g in known for g in labels],
        "p_retained": p.mean(axis=0),
        "lower": np.quantile(p, tail, axis=0),
        "upper": np.quantile(p, 1 - tail, axis=0),
        "mass": fit.settings.credible_mass,
    })


# --------------------------------------------------------------------------------------
# Backtest: leave-one-out
# --------------------------------------------------------------------------------------


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
    model = build_model(fit.cases, fit.settings, weighted=True)
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
