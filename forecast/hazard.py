"""The outside view as an event history: a discrete-time hazard model of losing a base.

One job: fit, in PyMC, the yearly hazard that a patron loses its presence (or its
main facility) in a host after a shock, from the dated reference class
(:mod:`forecast.reference_data`), and turn it into P(kept) to any horizon from
any origin.

::

    logit h[i, k] = baseline[band(k)]            piecewise-constant in episode year k
                  + sigma_patron * z_patron[p(i)]  partial pooling by patron
                  + sigma_shock * z_shock[s(i)]    ... and by the shared shock
                  + x[i, k] . beta                 features known at the start of year k
    lost[i, k]    ~ Bernoulli(h[i, k])

This is the discrete-time survival model of Allison (1982, "Discrete-time methods
for the analysis of event histories", *Sociological Methodology* 13) and Singer &
Willett (2003, *Applied Longitudinal Data Analysis*, ch. 10-12): a case leaves
the data in the year it is lost, and censored cases contribute the years they
were seen. A positive ``beta`` raises the hazard of loss.

**From an origin to a horizon** (:func:`survival`). A feature not yet on may
still switch on later: each does so in a year with probability ``q_f``, its
historical onset rate (Jeffreys Beta posterior of onsets per case-year at
risk). P(kept) is computed exactly by a forward pass over the ``2**5`` states of
the time-varying features for every posterior draw. A feature left blank at the
origin (not yet known) starts as a mixture: 1 with its probability among the
training cases at risk at that origin with the same start features
(:func:`blank_probability`), so the prediction is exactly that mixture of the
predictions with the feature set to 0 and to 1. A feature can be *forced* (the
question's evidence variables decide it) from a given year.

The settings (``hazard.yaml``) are :mod:`forecast.hazard_settings`, whose names are
importable from here too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit

from forecast.hazard_settings import (  # noqa: F401  (importable from here too)
    FEATURES,
    HazardBacktestSettings,
    HazardPriors,
    HazardSettings,
    OnsetPrior,
    load_settings,
)
from forecast.reference_data import STATIC, TIME_VARYING, case_years
from forecast.reference_gate import diagnose, report_gate

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    import pandas as pd

    from forecast.reference_settings import OutsideViewPrior

_N_TV = len(TIME_VARYING)
#: bits[s, j]: whether time-varying feature j is on in state s.
BITS = ((np.arange(2**_N_TV)[:, None] >> np.arange(_N_TV)[None, :]) & 1).astype(float)


def _prior(spec: OutsideViewPrior, name: str, **kw):
    from pymc_extras.prior import Prior

    d = spec.dist.model_dump()
    return Prior(d["dist"], **d["kwargs"], **kw).create_variable(name)


def build_hazard_model(data: pd.DataFrame, settings: HazardSettings, *, weighted: bool = False):
    """The PyMC model of :mod:`forecast.hazard` on case-year rows ``data``.

    With ``weighted=True`` the likelihood is a Potential weighted by the data
    container ``weight`` (one per row), so one compiled model serves every
    exact leave-one-shock-out refit.
    """
    import pymc as pm

    patrons = [settings.group(p) for p in data["patron"]]
    p_levels, s_levels = list(dict.fromkeys(patrons)), list(dict.fromkeys(data["shock"]))
    n_bands = len(settings.duration_breaks) + 1
    coords = {"row": np.arange(len(data)), "feature": list(FEATURES), "patron": p_levels,
              "shock": s_levels, "band": np.arange(n_bands)}
    pr = settings.priors
    mu = np.array([pr.coefficients[f].dist.kwargs.get("mu", 0.0) for f in FEATURES])
    sd = np.array([pr.coefficients[f].dist.kwargs["sigma"] for f in FEATURES])
    with pm.Model(coords=coords) as model:
        x = pm.Data("X", data[list(FEATURES)].to_numpy(dtype=float), dims=("row", "feature"))
        pi = pm.Data("patron_index", np.array([p_levels.index(p) for p in patrons]), dims="row")
        si = pm.Data("shock_index", np.array([s_levels.index(s) for s in data["shock"]]),
                     dims="row")
        band = pm.Data("band_index", settings.band(data["year"].to_numpy()), dims="row")
        baseline = _prior(pr.baseline, "baseline", dims="band")
        sigma_p = _prior(pr.patron_sd, "sigma_patron")
        sigma_s = _prior(pr.shock_sd, "sigma_shock")
        z_p = pm.Normal("z_patron", 0.0, 1.0, dims="patron")
        z_s = pm.Normal("z_shock", 0.0, 1.0, dims="shock")
        from pymc_extras.prior import Prior

        beta = Prior("Normal", mu=mu, sigma=sd, dims="feature").create_variable("beta")
        eta = baseline[band] + sigma_p * z_p[pi] + sigma_s * z_s[si] + pm.math.dot(x, beta)
        y = data["lost"].to_numpy(dtype="int64")
        if weighted:
            w = pm.Data("weight", np.ones(len(data)), dims="row")
            pm.Potential("weighted_loglik", (w * pm.logp(pm.Bernoulli.dist(logit_p=eta), y)).sum())
        else:
            pm.Bernoulli("lost", logit_p=eta, observed=y, dims="row")
    return model


@dataclass
class HazardFit:
    """A fitted hazard model: the DataTree, its diagnostics, and what it was fitted on."""

    tree: Any
    diagnostics: dict
    cases: pd.DataFrame  # from load_reference
    data: pd.DataFrame  # case-years
    settings: HazardSettings
    #: The ``out`` folder the fit is stored under (:mod:`forecast.reference_store`), if any.
    stored_under: Path | None = None
    _onset_counts: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def known_at(self) -> dt.date | None:
        """The date the class was truncated at (:func:`forecast.reference_data.class_as_of`);
        None: the class as entered, with everything known since."""
        import datetime as dt

        text = self.cases.attrs.get("known_at")
        return dt.date.fromisoformat(text) if text else None

    @property
    def converged(self) -> bool:
        return bool(self.diagnostics["passed"])

    def draws(self) -> dict[str, np.ndarray]:
        """Posterior draws flattened over chains (S leading)."""
        post = self.tree["posterior"]
        out = {}
        for name in ("baseline", "sigma_patron", "sigma_shock", "z_patron", "z_shock", "beta"):
            a = np.asarray(post[name].values, dtype=float)
            out[name] = a.reshape(-1, *a.shape[2:])
        return out

    @property
    def patrons(self) -> list[str]:
        return [str(p) for p in self.tree["posterior"]["z_patron"].coords["patron"].values]

    def onset_rates(self, rng: np.random.Generator, n: int, *,
                    without: frozenset[str] = frozenset()) -> np.ndarray:
        """(n, 5) draws of each time-varying feature's yearly onset probability,
        from the case-years of every shock but those in ``without``."""
        alpha, beta = self.settings.onset_prior.alpha, self.settings.onset_prior.beta
        if without not in self._onset_counts:  # counted once: survival asks on every call
            data = self.data[~self.data["shock"].isin(without)] if without else self.data
            self._onset_counts[without] = onset_counts(data)
        counts = self._onset_counts[without]
        return np.stack([rng.beta(alpha + counts[f][0], beta + counts[f][1] - counts[f][0], n)
                         for f in TIME_VARYING], axis=1)

    def coefficients(self) -> pd.DataFrame:
        """Per feature: the hazard ratio (median) of loss with its interval."""
        import pandas as pd

        beta = self.draws()["beta"]
        tail = (1 - self.settings.credible_mass) / 2
        lo, med, hi = np.quantile(beta, [tail, 0.5, 1 - tail], axis=0)
        return pd.DataFrame({"feature": list(FEATURES), "log_odds_mean": beta.mean(axis=0),
                             "hazard_odds_ratio": np.exp(med), "lower": np.exp(lo),
                             "upper": np.exp(hi), "p_raises_loss": (beta > 0).mean(axis=0),
                             "known_at": ["start" if f in STATIC else "dated" for f in FEATURES],
                             "mass": self.settings.credible_mass})


def onset_counts(data: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Per time-varying feature: (onsets seen, case-years at risk of onset).

    A case-year with the feature off is at risk when the next year of the same
    case is observed; the onset is seen when the feature is on in that next year.
    """
    out = {}
    nxt = data.groupby("case_id", sort=False).shift(-1)
    observed = nxt["year"].notna().to_numpy()
    for f in TIME_VARYING:
        off = (data[f].to_numpy() == 0) & observed
        on_next = nxt[f].to_numpy(dtype=float) == 1
        out[f] = (int((off & on_next).sum()), int(off.sum()))
    return out


def fit_hazard(cases: pd.DataFrame, settings: HazardSettings, *, progressbar: bool = False
               ) -> HazardFit:
    """Fit the hazard model to the dated cases (nutpie), with the convergence gate.

    The pointwise log-likelihood (one per case-year) is kept for the
    leave-one-shock-out backtest.
    """
    import pymc as pm

    data = case_years(cases, outcome=settings.outcome, max_years=settings.max_years)
    model = build_hazard_model(data, settings)
    s = settings.sampler
    tree = pm.sample(draws=s.draws, tune=s.tune, chains=s.chains, target_accept=s.target_accept,
                     random_seed=s.seed, progressbar=progressbar, nuts_sampler="nutpie",
                     model=model)
    tree = pm.compute_log_likelihood(tree, model=model, progressbar=False)
    diagnostics = diagnose(tree, settings.gate, names=("baseline", "sigma_patron",
                                                       "sigma_shock", "z_patron", "z_shock",
                                                       "beta"))
    tree.attrs["forecast_reference_sha256"] = cases.attrs.get("sha256", "")
    fit = HazardFit(tree, diagnostics, cases.reset_index(drop=True), data, settings)
    report_gate(diagnostics, "the reference-class hazard fit")
    return fit


def blank_probability(fit: HazardFit, feature: str, origin: int, static: dict[str, int], *,
                      without: frozenset[str] = frozenset()) -> float:
    """P(``feature`` on at ``origin`` | at risk then, same start features), from the cases.

    The Jeffreys estimate ``(k + 1/2) / (n + 1)`` among the training cases still at
    risk ``origin`` years in whose start features equal ``static``; with fewer
    than 5 such cases, among all cases at risk then.
    """
    from forecast.reference_data import known_at

    k = known_at(fit.cases, origin, outcome=fit.settings.outcome)
    k = k[k["at_risk"] & ~k["shock"].isin(without)]
    same = np.ones(len(k), dtype=bool)
    for f, v in static.items():
        same &= k[f].to_numpy() == v
    pool = k[same] if same.sum() >= 5 else k
    return float((pool[feature].sum() + 0.5) / (len(pool) + 1.0))


@dataclass(frozen=True)
class Profile:
    """A case as known at an origin: start features, known (0/1) or blank (None) features,
    and features forced from an episode year: ``{feature: (value, from_year)}``."""

    patron: str
    static: dict[str, int]
    known: dict[str, int | None]
    forced: dict[str, tuple[int, int]] | None = None


def survival(fit: HazardFit, profile: Profile, *, origin: float, horizons,
             seed: int | None = None, blank: dict[str, float] | None = None,
             without: frozenset[str] = frozenset()) -> np.ndarray:
    """(S, H) posterior draws of P(kept to each horizon | kept to the origin).

    ``origin`` and ``horizons`` are years since the episode's start, either may be
    fractional: a part-year keeps with ``(1 - h) ** fraction`` and a feature switches on
    in it with ``1 - (1 - q) ** fraction``. The patron's
    fitted effect is used when its group is known, else a new group's effect is
    drawn; the shock is always a new one, drawn from the population (the case is
    not one of the training shocks). Blank features start at ``blank`` (default:
    :func:`blank_probability`). ``without``: shocks whose cases must not inform the
    onset rates and blank probabilities (a backtest's left-out shock).
    """
    horizons = np.atleast_1d(np.asarray(horizons, dtype=float))
    if np.any(horizons < origin):
        raise ValueError(f"horizons must be at or after the origin ({origin} years)")
    rng = np.random.default_rng(fit.settings.sampler.seed if seed is None else seed)
    d = fit.draws()
    n = d["beta"].shape[0]
    group = fit.settings.group(profile.patron)
    z_p = (d["z_patron"][:, fit.patrons.index(group)] if group in fit.patrons
           else rng.standard_normal(n))
    z_s = rng.standard_normal(n)
    q = fit.onset_rates(rng, n, without=without)
    beta = d["beta"]
    fixed = (d["sigma_patron"] * z_p + d["sigma_shock"] * z_s
             + sum(beta[:, FEATURES.index(f)] * profile.static[f] for f in STATIC))
    beta_tv = beta[:, len(STATIC):]
    # the initial distribution over feature states: known bits, blank ones mixed
    p_on = np.empty(_N_TV)
    for j, f in enumerate(TIME_VARYING):
        v = profile.known.get(f)
        if v is None:
            v = (blank or {}).get(f)
            if v is None:
                v = blank_probability(fit, f, origin, profile.static, without=without)
        p_on[j] = v
    init = np.prod(np.where(BITS == 1, p_on, 1.0 - p_on), axis=1)
    pi = np.broadcast_to(init, (n, init.size)).copy()
    forced = profile.forced or {}
    out = np.empty((n, horizons.size))
    out[:, horizons == origin] = 1.0
    last = math.ceil(horizons.max())
    for k in range(math.floor(origin) + 1, last + 1):
        begin = max(k - 1.0, float(origin))  # a fractional origin starts part-way into year k
        for f, (value, start) in forced.items():
            if k >= start:
                pi = _set(pi, TIME_VARYING.index(f), value)
        eta = (fixed + d["baseline"][:, int(fit.settings.band(k))])[:, None] + beta_tv @ BITS.T
        keep = 1.0 - expit(eta)
        inside = (horizons > begin) & (horizons <= k)
        for h in np.flatnonzero(inside):
            out[:, h] = (pi * keep ** (horizons[h] - begin)).sum(axis=1)
        pi = pi * keep ** (k - begin)
        for j, f in enumerate(TIME_VARYING):
            if f not in forced:
                pi = _onset(pi, j, 1.0 - (1.0 - q[:, j]) ** (k - begin))
    return out


def _split(j: int) -> tuple[np.ndarray, np.ndarray]:
    on = BITS[:, j] == 1
    return np.flatnonzero(~on), np.flatnonzero(on)


def _onset(pi: np.ndarray, j: int, q: np.ndarray) -> np.ndarray:
    off, on = _split(j)  # state off[i] and on[i] differ only in bit j
    moved = pi[:, off] * q[:, None]
    pi = pi.copy()
    pi[:, off] -= moved
    pi[:, on] += moved
    return pi


def _set(pi: np.ndarray, j: int, value: int) -> np.ndarray:
    off, on = _split(j)
    pi = pi.copy()
    src, dst = (off, on) if value == 1 else (on, off)
    pi[:, dst] += pi[:, src]
    pi[:, src] = 0.0
    return pi
