"""The old outside view: a logistic model of the episode-coded reference class.

One job: from the cases coded over each episode (``retained_5y`` and seven 0/1
features; :mod:`forecast.reference_cases`), fit a Bayesian logistic regression with
a partially pooled intercept and give its probability for new cases. It is kept
only as a comparison (its features were coded with hindsight); the outside view
that informs the question is the event-history model, :mod:`forecast.hazard`.

Its settings are :mod:`forecast.reference_settings` (``model.yaml``), its
convergence gate :mod:`forecast.reference_gate`, its leave-one-out backtest and
briefing tables :mod:`forecast.reference_backtest`; their names are importable
from here too.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit

# The cases CSV, the settings, the gate and the scoring rules live in their own modules;
# their names are imported from here too.
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
from forecast.reference_data import REFERENCE_DIR, default_path  # noqa: F401
from forecast.reference_gate import diagnose, report_gate
from forecast.reference_settings import (  # noqa: F401
    BacktestSettings,
    Hierarchy,
    OutsideViewPrior,
    ReferenceGate,
    ReferencePriors,
    ReferenceSettings,
    load_settings,
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

#: Names of :mod:`forecast.reference_backtest`, importable from here (loaded on first use:
#: that module imports this one).
_BACKTEST = ("Backtest", "backtest", "OutsideView", "outside_view")


def __getattr__(name: str):
    if name in _BACKTEST:
        from forecast import reference_backtest

        return getattr(reference_backtest, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


def build_logistic_model(cases: pd.DataFrame, settings: ReferenceSettings, *,
                         weighted: bool = False):
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
        A failed gate is also warned (:class:`forecast.errors.ConvergenceWarning`).
    """
    import pymc as pm

    s = settings.sampler
    model = build_logistic_model(cases, settings)
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
