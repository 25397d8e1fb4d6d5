"""Scenarios, sensitivity, value of information and news contributions, as tidy tables.

One job: the "what if" analyses of a :class:`~forecast.engine.Forecast`, each
computed exactly per parameter draw by :func:`forecast.exact.enumerate_states`
and summarised with the forecast's own estimator (so PSIS weights are honoured):

``scenarios``
    P(keep) when evidence variables are set to true or false (``do(S_k = x)``).
``sensitivity``
    A tornado table: each prior pushed to the ends of its elicited interval and
    each news item's likelihood ratio to the ends of its interval, by importance
    reweighting of the existing draws, with the Pareto k-hat of every row.
``power_scaling``
    ArviZ's power-scaling prior/likelihood sensitivity (``psense``) of a stored fit.
``value_of_information``
    The expected absolute change in P(keep) from learning each variable's state.
``contributions``
    Each news item's Shapley credit (order-free), as a waterfall from no news.
``compare_prior_sources``
    The forecast with its base rates and linked effects from the elicited
    intervals, the reference class, or both pooled (``prior_source``).

Every function returns a pandas DataFrame with one row per (row label, outcome).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from forecast.config import (
    PRIOR_SOURCES,
    ProbabilityInterval,
    ProbabilityPrior,
    QuestionConfig,
)
from forecast.elicit import prior_origins, probability_prior, resolved_priors
from forecast.engine import (
    Estimate,
    Forecast,
    NeedsRefitError,
    compute,
    estimate,
    fewer_draws,
    importance_forecast,
    prior_forecast,
    psis,
    reweight,
)
from forecast.exact import Enumerated, Params, enumerate_states, log_likelihood, quantity_name
from forecast.ledger import LR_BOUNDS, LRInterval, NewsItem, evidence_from, items_as_of
from forecast.tables import estimative_word, outcome_labels

#: An intervention: ``{variable id: 0 or 1}``.
Intervention = Mapping[str, int]

#: Grid size of the quadrature over the pooling scale (marginal effect prior).
_SD_GRID = 240


# --------------------------------------------------------------------------- helpers


def _outcomes(forecast: Forecast) -> list[str]:
    return forecast.config.headline_outcomes


def _per_draw(values: Enumerated, config: QuestionConfig) -> dict[str, np.ndarray]:
    """The per-draw headline quantities (``config.headline_outcomes``)."""
    out = {b: values.p_keep[:, i] for i, b in enumerate(config.bases)}
    out["all"] = values.p_all
    out["any"] = values.p_any
    return {k: out[k] for k in config.headline_outcomes}


def _estimate_row(est: Estimate) -> dict[str, float]:
    return {"p": est.mean, "lower": est.lower, "upper": est.upper, "mcse": est.mcse,
            "ess": est.ess}


def _fix_indices(config: QuestionConfig, intervention: Intervention) -> dict[int, int]:
    variables = config.variables
    fix = {}
    for var, value in intervention.items():
        if var not in variables:
            raise ValueError(f"unknown evidence variable {var!r}; allowed: {', '.join(variables)}")
        if value not in (0, 1):
            raise ValueError(f"{var}: an intervention sets a variable to 0 or 1 (got {value!r})")
        fix[variables.index(var)] = int(value)
    return fix


def _describe(intervention: Intervention) -> str:
    return ", ".join(f"{k}={v}" for k, v in intervention.items()) or "none"


# --------------------------------------------------------------------------- scenarios


def one_at_a_time(config: QuestionConfig) -> dict[str, dict[str, int]]:
    """Every evidence variable set to true, then to false, one at a time.

    Returns
    -------
    dict
        ``{"<label>: yes": {var: 1}, "<label>: no": {var: 0}, ...}`` in the order of
        ``evidence.yaml``.
    """
    out: dict[str, dict[str, int]] = {}
    for v in config.evidence.variables:
        out[f"{v.label}: yes"] = {v.id: 1}
        out[f"{v.label}: no"] = {v.id: 0}
    return out


def scenarios(
    forecast: Forecast,
    interventions: Mapping[str, Intervention] | None = None,
    *,
    include_one_at_a_time: bool = True,
) -> pd.DataFrame:
    """P(keep) for each base, all and any under interventions on evidence variables.

    The baseline (no intervention) comes first, then the named ``interventions``
    (combinations), then every variable set to 1 and to 0 one at a time. Each
    value is exact per draw (:func:`forecast.exact.enumerate_states` with ``fix``,
    under the forecast's news) and summarised by :meth:`Forecast.estimate`, so
    PSIS weights of a reweighted forecast are honoured. The parameters'
    posterior is kept: a scenario is ``do(S_k = x)``, a hypothetical, not news.

    Parameters
    ----------
    forecast
        The forecast to explore.
    interventions
        Named combinations, e.g. ``{"Russia extradites Assad": {"assad_extradition": 1}}``.
    include_one_at_a_time
        Add every variable set to 1 and to 0 on its own (:func:`one_at_a_time`).

    Returns
    -------
    pandas.DataFrame
        One row per (scenario, outcome): ``scenario, kind, intervention, outcome,
        label, p, lower, upper, mcse, ess, change_pp, word``; ``change_pp`` is the
        difference from the baseline in percentage points.
    """
    config = forecast.config
    plan: list[tuple[str, str, Intervention]] = [("Baseline (no intervention)", "baseline", {})]
    plan += [(name, "combination", dict(fix)) for name, fix in (interventions or {}).items()]
    if include_one_at_a_time:
        plan += [(name, "one at a time", fix) for name, fix in one_at_a_time(config).items()]
    labels = outcome_labels(forecast)
    ev = forecast.evidence
    rows = []
    baseline: dict[str, float] = {}
    for name, kind, intervention in plan:
        fix = _fix_indices(config, intervention)
        values = (forecast.values if not fix else
                  enumerate_states(forecast.fit.params, *ev.per_draw(forecast.fit.params.n),
                                   fix=fix))
        for outcome, draws in _per_draw(values, config).items():
            est = forecast.estimate(draws)
            if kind == "baseline":
                baseline[outcome] = est.mean
            rows.append({
                "scenario": name,
                "kind": kind,
                "intervention": _describe(intervention),
                "outcome": outcome,
                "label": labels[outcome],
                **_estimate_row(est),
                "change_pp": 100 * (est.mean - baseline[outcome]),
                "word": estimative_word(min(max(est.mean, 0.0), 1.0)),
            })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- prior sources

#: How each prior source is named in tables and charts.
SOURCE_LABELS = {"elicited": "Elicited (analysts)", "reference_class": "Reference class (history)",
                 "both": "Both, pooled"}


def compare_prior_sources(
    config: QuestionConfig,
    items: Sequence[NewsItem],
    *,
    as_of: Any = None,
    sources: Sequence[str] = PRIOR_SOURCES,
    n: int = 20_000,
    seed: int | None = None,
    out: Any = "out",
    allow_fit: bool = True,
) -> pd.DataFrame:
    """The forecast under each prior source, before and after the news.

    Each source changes where the base rates and the linked evidence effects
    come from (``prior_source`` in ``model.yaml``; see
    :func:`forecast.elicit.resolved_priors`); everything else is held fixed.
    The prior is plain Monte Carlo; the posterior is importance sampling from
    those draws (:func:`forecast.engine.importance_forecast`), and where its
    Pareto k-hat exceeds ``fast_path.khat_max`` the posterior is computed by
    :func:`forecast.engine.compute` instead (a stored fit, or MCMC).

    Parameters
    ----------
    config
        The question; it needs a current ``reference_priors.yaml`` for any source
        but ``elicited``.
    items
        The news ledger (items after ``as_of`` are ignored).
    n
        Independent prior draws per source.
    out
        Where :func:`compute` stores fits, if it is needed.

    Returns
    -------
    pandas.DataFrame
        One row per (source, stage, outcome): ``source, source_label, stage``
        (``prior`` or ``posterior``), ``outcome, label, p, lower, upper, mcse,
        ess, path, khat, linked`` (how many priors the source changed).
    """
    rows = []
    for source in sources:
        cfg = config.with_prior_source(source)
        origins = prior_origins(cfg)
        linked = sum(o != "elicited" for slot in origins.values() for o in slot)
        prior = prior_forecast(cfg, seed=seed, n=n)
        post = importance_forecast(cfg, list(items), as_of=as_of, seed=seed, n=n)
        if post.khat > cfg.model.fast_path.khat_max:
            if not allow_fit:
                raise NeedsRefitError(f"{source}: importance sampling not trusted "
                                      f"(k-hat {post.khat:.2f}) and fitting not allowed")
            post = compute(cfg, list(items), out=out, as_of=post.as_of, seed=seed)
        labels = outcome_labels(post)
        for stage, fc in (("prior", prior), ("posterior", post)):
            for outcome, draws in _per_draw(fc.values, cfg).items():
                rows.append({
                    "source": source,
                    "source_label": SOURCE_LABELS[source],
                    "stage": stage,
                    "outcome": outcome,
                    "label": labels[outcome],
                    **_estimate_row(fc.estimate(draws)),
                    "path": fc.path,
                    "khat": fc.khat,
                    "linked": linked,
                })
    return pd.DataFrame(rows)


def linked_prior_table(config: QuestionConfig) -> pd.DataFrame:
    """Each base rate and linked effect: elicited, reference class and pooled, side by side.

    Returns
    -------
    pandas.DataFrame
        One row per (parameter, source): ``parameter, label, scale`` (``probability``
        or ``log odds ratio``), ``source, mean, lower, upper`` (the prior's
        central ``credible_mass`` interval), ``used`` (whether the question's own
        ``prior_source`` uses it).
    """
    if config.linked is None:
        raise ValueError("the question has no current reference_priors.yaml "
                         f"({'; '.join(config.link_problems) or 'missing'})")
    mass = config.model.credible_mass
    tail = (1 - mass) / 2
    rows = []
    for source in PRIOR_SOURCES:
        pri = resolved_priors(config.with_prior_source(source))
        ab = pri["p_base"]["kwargs"]
        for i, base in enumerate(config.bases):
            d = stats.beta(ab["alpha"][i], ab["beta"][i])
            rows.append({"parameter": f"p_base[{base}]",
                         "label": f"Base rate: {config.question.outcomes[i].name}",
                         "scale": "probability", "source": source, "mean": d.mean(),
                         "lower": d.ppf(tail), "upper": d.ppf(1 - tail)})
        mu = pri["effect_mu"]["kwargs"]
        for k, var in enumerate(config.variables):
            if var not in config.linked.effects:
                continue
            d = stats.norm(mu["mu"][k], mu["sigma"][k])
            rows.append({"parameter": f"effect_mu[{var}]",
                         "label": f"Effect: {config.evidence.variables[k].label}",
                         "scale": "log odds ratio", "source": source, "mean": d.mean(),
                         "lower": d.ppf(tail), "upper": d.ppf(1 - tail)})
    table = pd.DataFrame(rows)
    table["used"] = table["source"] == config.prior_source
    return table


# --------------------------------------------------------------------------- value of information


def value_of_information(forecast: Forecast) -> pd.DataFrame:
    """What learning each evidence variable's state would be worth, three ways.

    ``voi_pp``, the **expected absolute shift** of P(keep), per draw ``theta``
    (preposterior analysis) and averaged over the posterior::

        shift_k(theta) = P(S_k=1) |P(keep|S_k=1) - P(keep)| + P(S_k=0) |P(keep|S_k=0) - P(keep)|

    ``mutual_information_bits``: the mutual information between the state and the
    outcome under the forecast's joint distribution (Netica's "sensitivity to
    findings"): how many bits learning the state tells about the outcome.
    ``brier_reduction``: the expected fall in the forecast's Brier score (scored on
    the outcome, expected under the forecast's own beliefs) from learning the state,
    ``P(S=1) (p1 - p)^2 + P(S=0) (p0 - p)^2`` with ``p1, p0, p`` the forecast's
    P(keep) given the state true, false and unknown. Every probability is given the
    news, computed exactly by enumeration; ``p_if_true``/``p_if_false`` are the
    scenario probabilities of the two answers (``do(S = x)``, averaged over the draws)
    and ``p_given_true``/``p_given_false`` the forecast were the state learnt to be
    true or false (conditioning, which also reweights the draws: what learning means).

    Returns
    -------
    pandas.DataFrame
        One row per (variable, outcome): ``variable, label, outcome, outcome_label,
        p_state, p_if_true, p_if_false, voi_pp, voi_lower_pp, voi_upper_pp, voi_mcse_pp,
        p_given_true, p_given_false, mutual_information_bits, brier_reduction``.
    """
    config = forecast.config
    ev = forecast.evidence
    params = forecast.fit.params
    now = _per_draw(forecast.values, config)
    labels = outcome_labels(forecast)
    rows = []
    for k, spec in enumerate(config.evidence.variables):
        q = forecast.values.p_state[:, k]
        yes = _per_draw(enumerate_states(params, *ev.per_draw(params.n), fix={k: 1}),
                        config)
        no = _per_draw(enumerate_states(params, *ev.per_draw(params.n), fix={k: 0}),
                       config)
        w = forecast.weights
        w = np.full(q.size, 1.0 / q.size) if w is None else w / w.sum()
        q_bar = float(w @ q)
        for outcome, p in now.items():
            voi = q * np.abs(yes[outcome] - p) + (1 - q) * np.abs(no[outcome] - p)
            est = forecast.estimate(voi)
            # the forecast's joint of (state, outcome): posterior means of the draws' joints
            both = float(w @ (q * yes[outcome]))
            kept = float(w @ p)
            p1 = both / q_bar if q_bar > 0 else np.nan
            p0 = (kept - both) / (1 - q_bar) if q_bar < 1 else np.nan
            rows_mi = _mutual_information(q_bar, p1, p0)
            brier = (q_bar * (p1 - kept) ** 2 + (1 - q_bar) * (p0 - kept) ** 2
                     if np.isfinite(p1) and np.isfinite(p0) else 0.0)
            rows.append({
                "variable": spec.id,
                "label": spec.label,
                "outcome": outcome,
                "outcome_label": labels[outcome],
                "p_state": forecast.estimate(q).mean,
                "p_if_true": forecast.estimate(yes[outcome]).mean,
                "p_if_false": forecast.estimate(no[outcome]).mean,
                "voi_pp": 100 * est.mean,
                "voi_lower_pp": 100 * est.lower,
                "voi_upper_pp": 100 * est.upper,
                "voi_mcse_pp": 100 * est.mcse,
                "p_given_true": float(p1), "p_given_false": float(p0),
                "mutual_information_bits": rows_mi,
                "brier_reduction": float(brier),
            })
    return pd.DataFrame(rows)


def _entropy(p: float) -> float:
    """Binary entropy in bits (0 at 0 and 1)."""
    if not 0 < p < 1:
        return 0.0
    return float(-(p * math.log2(p) + (1 - p) * math.log2(1 - p)))


def _mutual_information(q: float, p1: float, p0: float) -> float:
    """I(S; keep) in bits for P(S=1) = q, P(keep|S=1) = p1, P(keep|S=0) = p0."""
    if not (np.isfinite(p1) and np.isfinite(p0)):
        return 0.0
    p = q * p1 + (1 - q) * p0
    return max(0.0, _entropy(p) - q * _entropy(p1) - (1 - q) * _entropy(p0))


# --------------------------------------------------------------------------- contributions


def contributions(forecast: Forecast, items: Sequence[NewsItem], *,
                  credit: pd.DataFrame | None = None) -> pd.DataFrame:
    """The news credited by Shapley values (:mod:`forecast.attribution`), as a waterfall.

    Step 0 is the forecast with no news; then one step per item, grouped by
    thread (or by the variable it bears on), groups in order of the size of
    their credit, each step's move its Shapley credit. The steps add up exactly
    to the forecast given all the news, and no item's credit depends on its
    date or the order of recording (the date-ordered waterfall this replaces
    did: the same evidence got different credit when dates changed).

    Returns
    -------
    pandas.DataFrame
        One row per (step, outcome): ``step, item, date, headline, bears_on, group,
        group_label, outcome, label, before, after, change_pp, lower, upper, khat,
        trusted``. Step 0 has ``item="prior"``; its ``before`` equals its ``after``;
        ``lower``/``upper`` are given for step 0 and the last step. ``credit`` is
        :func:`forecast.attribution.shapley` of this forecast, when already computed.
    """
    from forecast.attribution import shapley

    config = forecast.config
    table = shapley(forecast, items) if credit is None else credit
    labels = outcome_labels(forecast)
    khat = forecast.khat
    trusted = bool(khat is None or khat <= config.model.fast_path.khat_max)
    shown = [o for o in config.headline_outcomes]
    none = reweight(config, forecast.fit, evidence_from(config, []), forecast.as_of)
    start = {k: e for k, e in none.probabilities().items()}
    final = forecast.probabilities()
    order: list[str] = []
    if not table.empty:
        size = table.assign(a=table["item_pp"].abs(), g=table["group_pp"].abs())
        groups = size.groupby("group")["g"].sum().sort_values(ascending=False).index
        for group in groups:
            members = size[size["group"] == group].groupby("item")["a"].sum()
            order += list(members.sort_values(ascending=False, kind="stable").index)
    rows = []
    running = {o: start[o].mean for o in shown}
    for o in shown:
        rows.append({"step": 0, "item": "prior", "date": None, "headline": "Before any news",
                     "bears_on": "", "group": "", "group_label": "", "outcome": o,
                     "label": labels[o], "before": running[o], "after": running[o],
                     "change_pp": 0.0, "lower": start[o].lower, "upper": start[o].upper,
                     "khat": khat, "trusted": trusted})
    by_item = table.set_index(["item", "outcome"]) if not table.empty else None
    for step, item_id in enumerate(order, start=1):
        for o in shown:
            r = by_item.loc[(item_id, o)]
            before = running[o]
            after = before + r["item_pp"] / 100
            last = step == len(order)
            rows.append({"step": step, "item": item_id, "date": r["date"],
                         "headline": r["headline"], "bears_on": r["bears_on"],
                         "group": r["group"], "group_label": r["group_label"], "outcome": o,
                         "label": labels[o], "before": before,
                         "after": final[o].mean if last else after,
                         "change_pp": r["item_pp"],
                         "lower": final[o].lower if last else np.nan,
                         "upper": final[o].upper if last else np.nan,
                         "khat": khat, "trusted": trusted})
            running[o] = after
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- sensitivity


@dataclass(frozen=True)
class PriorSpec:
    """Every prior's parameters as arrays (the shape of :func:`forecast.elicit.resolved_priors`)."""

    state_alpha: np.ndarray
    state_beta: np.ndarray
    base_alpha: np.ndarray
    base_beta: np.ndarray
    effect_mu: np.ndarray
    effect_sigma: np.ndarray
    pooling_sigma: float

    @classmethod
    def from_config(cls, config: QuestionConfig) -> PriorSpec:
        """The question's priors as used by the model (after ``prior_source``)."""
        p = resolved_priors(config)

        def arr(group: str, name: str) -> np.ndarray:
            return np.asarray(p[group]["kwargs"][name], dtype=float)

        return cls(
            arr("p_state", "alpha"), arr("p_state", "beta"),
            arr("p_base", "alpha"), arr("p_base", "beta"),
            arr("effect_mu", "mu"), arr("effect_mu", "sigma"),
            float(p["effect_sd"]["kwargs"]["sigma"]),
        )

    def to_priors(self) -> dict[str, Any]:
        """These priors in the shape of :func:`forecast.elicit.resolved_priors`."""
        def vec(x: np.ndarray) -> list[float]:
            return [float(v) for v in x]

        return {
            "p_state": {"dist": "Beta", "kwargs": {"alpha": vec(self.state_alpha),
                                                   "beta": vec(self.state_beta)}},
            "p_base": {"dist": "Beta", "kwargs": {"alpha": vec(self.base_alpha),
                                                  "beta": vec(self.base_beta)}},
            "effect_mu": {"dist": "Normal", "kwargs": {"mu": vec(self.effect_mu),
                                                       "sigma": vec(self.effect_sigma)}},
            "effect_sd": {"dist": "HalfNormal", "kwargs": {"sigma": self.pooling_sigma}},
        }

    def replace(self, **changes: Any) -> PriorSpec:
        """A copy with some prior parameters replaced (for a sensitivity case)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name, value in changes.items():
            fields[name] = value
        return PriorSpec(**fields)


def _log_effect_density(beta: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                        pooling_sigma: float, chunk: int = 500) -> np.ndarray:
    """Log prior density of ``beta`` (n, B, K), the pooling scale integrated out.

    Under the model ``beta[b, k] = mu_k + sd z[b, k]`` with ``mu_k ~ Normal(m_k, s_k)``,
    ``z ~ Normal(0, 1)`` and ``sd ~ HalfNormal(pooling_sigma)``, the column
    ``beta[:, k]`` is, given ``sd``, multivariate normal with mean ``m_k 1`` and
    covariance ``s_k^2 11' + sd^2 I``. The integral over ``sd`` is a quadrature on
    a log-spaced grid (the marginal of the parameters the forecast depends on, so
    it is the right density for importance weights; ``mu`` and ``sd`` are not needed).
    """
    n, b, _ = beta.shape
    t = np.linspace(math.log(pooling_sigma * 1e-5), math.log(pooling_sigma * 7.0), _SD_GRID)
    d = np.exp(t)
    logw = stats.halfnorm.logpdf(d, scale=pooling_sigma) + t  # d(sd) = sd d(log sd)
    logw -= logw.max() + np.log(np.exp(logw - logw.max()).sum())
    d2 = d**2
    var_par = d2[:, None] + b * sigma[None, :] ** 2  # (G, K)
    out = np.empty(n)
    for start in range(0, n, chunk):
        x = beta[start:start + chunk] - mu[None, None, :]
        sx2 = x.sum(axis=1) ** 2 / b  # (c, K)
        perp = np.maximum((x**2).sum(axis=1) - sx2, 0.0)
        quad = perp[:, None, :] / d2[None, :, None] + sx2[:, None, :] / var_par[None]
        logdet = (b - 1) * np.log(d2)[None, :, None] + np.log(var_par)[None]
        ll = -0.5 * (b * math.log(2 * math.pi) + logdet + quad).sum(axis=2)  # (c, G)
        ll += logw[None, :]
        top = ll.max(axis=1, keepdims=True)
        out[start:start + chunk] = top[:, 0] + np.log(np.exp(ll - top).sum(axis=1))
    return out


def log_prior_ratio(params: Params, old: PriorSpec, new: PriorSpec,
                    old_effect: np.ndarray | None = None) -> np.ndarray:
    """``log p_new(theta) - log p_old(theta)`` per draw, for the parameters of :class:`Params`.

    Only the factors that differ are evaluated: Beta densities of the changed
    probabilities and, if an effect or the pooling scale changed, the marginal
    effect density of :func:`_log_effect_density` (``old_effect`` may pass the old
    one, which is the same for every perturbation of a forecast).
    """
    out = np.zeros(params.n)
    for x, (a0, b0), (a1, b1) in (
        (params.p_state, (old.state_alpha, old.state_beta), (new.state_alpha, new.state_beta)),
        (params.p_base, (old.base_alpha, old.base_beta), (new.base_alpha, new.base_beta)),
    ):
        changed = (a0 != a1) | (b0 != b1)
        for j in np.flatnonzero(changed):
            out += stats.beta.logpdf(x[:, j], a1[j], b1[j]) - stats.beta.logpdf(x[:, j], a0[j],
                                                                                  b0[j])
    if (np.any(old.effect_mu != new.effect_mu) or np.any(old.effect_sigma != new.effect_sigma)
            or old.pooling_sigma != new.pooling_sigma):
        out += _log_effect_density(params.beta, new.effect_mu, new.effect_sigma,
                                   new.pooling_sigma)
        if old_effect is None:
            old_effect = _log_effect_density(params.beta, old.effect_mu, old.effect_sigma,
                                             old.pooling_sigma)
        out -= old_effect
    return out


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _shifted_beta(prior: ProbabilityPrior, alpha: float, beta: float, mass: float,
                  end: str) -> tuple[float, float, str]:
    """A Beta centred (on the logit scale) at one end of the prior's interval, same width."""
    if prior.elicited is not None:
        lo, hi, mass = prior.elicited.lower, prior.elicited.upper, prior.elicited.mass
    else:
        lo, hi = stats.beta.ppf([(1 - mass) / 2, (1 + mass) / 2], alpha, beta)
    a, b = _logit(lo), _logit(hi)
    half = (b - a) / 2
    centre = a if end == "low" else b
    interval = ProbabilityInterval(lower=_expit(centre - half), upper=_expit(centre + half),
                                   mass=mass)
    shifted = probability_prior(ProbabilityPrior(elicited=interval, rationale="sensitivity"))
    kw = shifted["kwargs"]
    return kw["alpha"], kw["beta"], f"centred at {lo if end == 'low' else hi:.3g}"


def shifted_priors(config: QuestionConfig) -> list[dict[str, Any]]:
    """Every prior pushed to the low and to the high end of its interval.

    A probability's prior (a Beta) is re-elicited with its interval moved, on the
    logit scale, so that its centre sits at the old interval's lower (upper) end,
    its width unchanged; an effect's Normal on the log odds ratio gets its mean
    moved to the lower (upper) end of its interval, its sd unchanged. The pooling
    scale has no elicited interval: its HalfNormal sigma is halved and doubled.
    A prior given directly as ``dist`` uses its central ``credible_mass`` interval.

    Returns
    -------
    list of dict
        ``parameter, kind, label, end, setting, spec`` (a :class:`PriorSpec`) and
        ``prior`` (the changed prior in ``Prior.to_dict()`` shape).
    """
    old = PriorSpec.from_config(config)
    mass = config.model.credible_mass
    out = []
    for j, o in enumerate(config.question.outcomes):
        for end in ("low", "high"):
            a, b, text = _shifted_beta(o.baseline, old.base_alpha[j], old.base_beta[j], mass, end)
            spec = old.replace(base_alpha=_with(old.base_alpha, j, a),
                               base_beta=_with(old.base_beta, j, b))
            out.append({"parameter": f"p_base[{o.id}]", "kind": "baseline P(keep)",
                        "label": f"Baseline: {o.name}", "end": end, "setting": text,
                        "spec": spec, "prior": _beta(a, b)})
    for k, v in enumerate(config.evidence.variables):
        for end in ("low", "high"):
            a, b, text = _shifted_beta(v.prior, old.state_alpha[k], old.state_beta[k], mass, end)
            spec = old.replace(state_alpha=_with(old.state_alpha, k, a),
                               state_beta=_with(old.state_beta, k, b))
            out.append({"parameter": f"p_state[{v.id}]", "kind": "P(state true)",
                        "label": f"P: {v.label}", "end": end, "setting": text, "spec": spec,
                        "prior": _beta(a, b)})
        m = v.effect.elicited.mass if v.effect.elicited is not None else mass
        z = stats.norm.ppf(0.5 + m / 2)
        for end in ("low", "high"):
            mu = old.effect_mu[k] + (-z if end == "low" else z) * old.effect_sigma[k]
            spec = old.replace(effect_mu=_with(old.effect_mu, k, mu))
            out.append({"parameter": f"effect[{v.id}]", "kind": "odds ratio on keeping",
                        "label": f"Effect: {v.label}", "end": end,
                        "setting": f"odds ratio centred at {math.exp(mu):.3g}", "spec": spec,
                        "prior": {"dist": "Normal",
                                  "kwargs": {"mu": float(mu),
                                             "sigma": float(old.effect_sigma[k])}}})
    f = config.model.sensitivity.pooling_scale_factor
    for end, factor in (("low", 1 / f), ("high", f)):
        sigma = old.pooling_sigma * factor
        out.append({"parameter": "effect_sd", "kind": "pooling scale",
                    "label": "Effect differs between bases", "end": end,
                    "setting": f"HalfNormal sigma {sigma:.3g}",
                    "spec": old.replace(pooling_sigma=sigma),
                    "prior": {"dist": "HalfNormal", "kwargs": {"sigma": sigma}}})
    return out


def _beta(a: float, b: float) -> dict[str, Any]:
    return {"dist": "Beta", "kwargs": {"alpha": float(a), "beta": float(b)}}


def _with(array: np.ndarray, index: int, value: float) -> np.ndarray:
    out = np.array(array, dtype=float)
    out[index] = value
    return out


def _item_variants(item: NewsItem, factor: float) -> list[tuple[str, float, str]]:
    """The ratios an item is pushed to: its interval's ends, or its value divided and
    multiplied by ``factor`` (``sensitivity.point_lr_factor`` of ``model.yaml``)."""
    lo, hi = LR_BOUNDS
    if isinstance(item.lr, LRInterval):
        return [("low", item.lr.lower, f"LR {item.lr.lower:g} (interval end)"),
                ("high", item.lr.upper, f"LR {item.lr.upper:g} (interval end)")]
    return [("low", max(item.lr / factor, lo), f"LR {item.lr:g} / {factor:g}"),
            ("high", min(item.lr * factor, hi), f"LR {item.lr:g} x {factor:g}")]


def _thread_variants(config: QuestionConfig, known: list[NewsItem]):
    """Sensitivity cases per thread: its dependence at 0 and 1, all its items at their ends.

    Yields ``(case, evidence, items)``; a dependence case changes the question's
    threads, not its items, so it yields ``None`` for them (no fresh-draw fallback).
    """
    threads = sorted({i.thread for i in known if i.thread})
    factor = config.model.sensitivity.point_lr_factor
    for thread in threads:
        spec = config.threads.get(thread) if config.threads is not None else None
        name = spec.label if spec is not None else thread
        now = config.threads.dependence(thread)
        for end, rho in (("low", 0.0), ("high", 1.0)):
            if rho == now:
                continue
            pushed = config.with_dependence({thread: rho})
            yield ({"parameter": f"dependence[{thread}]", "kind": "thread dependence",
                    "label": f"Dependence: {name}", "end": end,
                    "setting": f"rho {rho:g} (elicited {now:g})"},
                   evidence_from(pushed, known), None)
        members = [i for i in known if i.thread == thread]
        for end in ("low", "high"):
            pick = 0 if end == "low" else 1
            changed = [item.model_copy(update={"lr": _item_variants(item, factor)[pick][1]})
                       if item.thread == thread else item for item in known]
            yield ({"parameter": f"thread[{thread}]", "kind": "thread as a whole",
                    "label": f"Thread: {name} ({len(members)} items)", "end": end,
                    "setting": f"every item at the {end} end of its ratio"},
                   evidence_from(config, changed), changed)


def sensitivity(
    config: QuestionConfig,
    items: Sequence[NewsItem],
    *,
    forecast: Forecast | None = None,
    out: str = "out",
    include_items: bool = True,
    khat_max: float | None = None,
    fallback_draws: int = 20_000,
    fallback_seed: int | None = None,
    draws: int = 12_000,
) -> pd.DataFrame:
    """Tornado table: how far each headline probability moves when each input is pushed.

    Each prior is pushed to the low and high end of its interval
    (:func:`shifted_priors`), and each news item's likelihood ratio to the ends
    of its interval (or halved and doubled for a single value). Nothing is
    refitted: the draws of the forecast's fit are importance-reweighted with the
    log ratio ``[log p(news' | theta) - log p(news_fit | theta)] + [log p'(theta) -
    log p(theta)]``, both exact per draw, and Pareto-smoothed (:func:`forecast.engine.psis`)
    (``method == "reweighted"``). Where that reweighting's k-hat exceeds ``khat_max``
    (default ``fast_path.khat_max``) -- typically a tight prior pushed to the end of
    its interval, where the fit has few draws -- the case is computed afresh:
    ``fallback_draws`` independent draws from the changed prior, weighted by the
    exact likelihood of the changed news (:func:`forecast.engine.importance_forecast`,
    ``method == "importance"``). A row that neither path can carry (k-hat still above
    ``khat_max``) is flagged ``trusted=False`` and its ``p`` and ``change_pp`` are
    NaN; the untrusted estimate is kept in ``p_untrusted`` for the record only.

    Parameters
    ----------
    config, items
        The question and its ledger (items after ``forecast.as_of`` are ignored).
    forecast
        The forecast to perturb (default: :func:`forecast.engine.compute` of the items).
    out
        Where fits are stored, when ``forecast`` is not given.
    include_items
        Add rows for the news items' likelihood ratios.
    khat_max
        The trust threshold for the Pareto k-hat.
    fallback_draws, fallback_seed
        Prior draws (0: no fallback) and their seed (default ``sampler.seed``) for
        the cases the reweighting cannot carry.
    draws
        For a forecast of the exact engine with more draws: recompute it on this
        many (the baseline and every row on the same draws).

    Returns
    -------
    pandas.DataFrame
        One row per (parameter, end, outcome): ``parameter, kind, label, end,
        setting, outcome, baseline, p, lower, upper, mcse, change_pp, p_untrusted,
        khat`` (of the path used), ``khat_reweighted, method, ess, trusted``.
    """
    fc = forecast if forecast is not None else compute(config, list(items), out=out)
    # Each row is a difference against the baseline on the same draws (common random
    # numbers), so fewer draws keep its error small: 80-odd rows at 40,000 draws cost
    # most of a minute.
    fc = fewer_draws(fc, items, draws)
    khat_max = config.model.fast_path.khat_max if khat_max is None else khat_max
    fit = fc.fit
    params = fit.params
    base_loglik = log_likelihood(params, fit.state_loglr, fit.outcome_loglr)
    now_loglik = fc.values.loglik
    baseline = {k: e.mean for k, e in fc.probabilities().items()}
    old = PriorSpec.from_config(config)
    old_effect = _log_effect_density(params.beta, old.effect_mu, old.effect_sigma,
                                     old.pooling_sigma)
    mass = config.model.credible_mass
    known = sorted(items_as_of(list(items), fc.as_of), key=lambda i: (i.date, i.id))
    seed = config.model.sampler.seed if fallback_seed is None else fallback_seed

    # Each case: its description, the log importance ratio from the fit's draws, the
    # per-draw values under the case's news, and the (news, changed PriorSpec or None) to
    # redo it from fresh prior draws if the fit's draws cannot carry it.
    cases: list[tuple[dict[str, Any], np.ndarray, Enumerated, tuple]] = []
    for case in shifted_priors(config):
        log_ratio = now_loglik - base_loglik + log_prior_ratio(params, old, case["spec"],
                                                                   old_effect)
        cases.append((case, log_ratio, fc.values, (known, case["spec"])))
    if include_items:
        for i, item in enumerate(known):
            for end, lr, text in _item_variants(item, config.model.sensitivity.point_lr_factor):
                changed = [*known[:i], item.model_copy(update={"lr": lr}), *known[i + 1:]]
                ev = evidence_from(config, changed)
                values = enumerate_states(params, *ev.per_draw(params.n))
                case = {"parameter": f"news[{item.id}]", "kind": "news item likelihood ratio",
                        "label": f"News: {item.headline}", "end": end, "setting": text}
                cases.append((case, values.loglik - base_loglik, values, (changed, None)))
        for case, ev, changed in _thread_variants(config, known):
            values = enumerate_states(params, *ev.per_draw(params.n))
            cases.append((case, values.loglik - base_loglik, values, (changed, None)))
    now_dep = config.model.outcome_dependence.value
    if len(config.bases) > 1:
        ev_now = evidence_from(config, known)
        for end, lam in (("low", 0.0), ("high", 1.0)):
            if lam == now_dep:
                continue
            values = enumerate_states(dataclasses.replace(params, coupling=lam),
                                      *ev_now.per_draw(params.n))
            case = {"parameter": "outcome_dependence", "kind": "outcome dependence",
                    "label": "Outcome dependence (one bargain decides both)", "end": end,
                    "setting": f"lambda {lam:g} (elicited {now_dep:g})"}
            cases.append((case, values.loglik - base_loglik, values, (None, None)))

    labels = outcome_labels(fc)
    rows = []
    for case, log_ratio, values, redo in cases:
        log_weights, khat = psis(log_ratio)
        method, khat_reweighted = "reweighted", khat
        weights, shape, ess = np.exp(log_weights), fit.shape, fit.ess_mean
        if khat > khat_max and fallback_draws > 0 and redo[0] is not None:
            # The fit's draws cannot carry this change: draw afresh from the changed prior
            # and weight by the changed news instead (its own k-hat decides trust again).
            news, spec = redo
            alt = importance_forecast(config, news, as_of=fc.as_of, seed=seed, n=fallback_draws,
                                      priors=None if spec is None else spec.to_priors())
            if alt.khat < khat:
                method, khat, values = "importance", alt.khat, alt.values
                weights, shape, ess = alt.weights, alt.fit.shape, alt.fit.ess_mean
        trusted = bool(khat <= khat_max)
        for outcome, draws in _per_draw(values, config).items():
            est = estimate(draws, weights, shape, mass,
                           ess=ess.get(_quantity(outcome, config)))
            rows.append({
                "parameter": case["parameter"],
                "kind": case["kind"],
                "label": case["label"],
                "end": case["end"],
                "setting": case["setting"],
                "outcome": outcome,
                "outcome_label": labels[outcome],
                "baseline": baseline[outcome],
                "p": est.mean if trusted else np.nan,
                "lower": est.lower if trusted else np.nan,
                "upper": est.upper if trusted else np.nan,
                "mcse": est.mcse if trusted else np.nan,
                "change_pp": 100 * (est.mean - baseline[outcome]) if trusted else np.nan,
                "p_untrusted": np.nan if trusted else est.mean,
                "khat": khat,
                "khat_reweighted": khat_reweighted,
                "method": method,
                "ess": est.ess,
                "trusted": trusted,
            })
    return pd.DataFrame(rows)


def _quantity(outcome: str, config: QuestionConfig) -> str:
    if outcome in ("all", "any"):
        return f"p_{outcome}"
    return quantity_name("p_keep", outcome)


def tornado_table(table: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """One row per input for one outcome: the low and high ends side by side, by swing.

    Returns
    -------
    pandas.DataFrame
        ``parameter, label, kind, baseline, low_pp, high_pp, low_setting,
        high_setting, swing_pp, khat, trusted, method`` (of the two ends, e.g.
        ``reweighted/importance``), largest swing first; untrusted rows (either end) last.
    """
    sub = table[table["outcome"] == outcome]
    rows = []
    for parameter, group in sub.groupby("parameter", sort=False):
        ends = group.set_index("end")
        low, high = ends.loc["low"], ends.loc["high"]
        trusted = bool(low["trusted"] and high["trusted"])
        swing = abs(high["change_pp"] - low["change_pp"]) if trusted else np.nan
        rows.append({
            "parameter": parameter, "label": low["label"], "kind": low["kind"],
            "baseline": low["baseline"], "low_pp": low["change_pp"], "high_pp": high["change_pp"],
            "low_setting": low["setting"], "high_setting": high["setting"],
            "swing_pp": swing, "khat": max(low["khat"], high["khat"]), "trusted": trusted,
            "method": "/".join(dict.fromkeys((low["method"], high["method"]))),
        })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    return out.sort_values(["trusted", "swing_pp"], ascending=[False, False],
                           na_position="last").reset_index(drop=True)


# --------------------------------------------------------------------------- power scaling


def _log_prior_tree(tree, config: QuestionConfig):
    """A DataTree with the fit's posterior plus ``log_prior`` and ``log_likelihood`` groups."""
    import xarray as xr

    post = tree["posterior"].to_dataset()
    priors = resolved_priors(config)
    ps, pb = priors["p_state"]["kwargs"], priors["p_base"]["kwargs"]
    em = priors["effect_mu"]["kwargs"]
    sd_sigma = priors["effect_sd"]["kwargs"]["sigma"]

    log_prior = xr.Dataset({
        "p_state": xr.apply_ufunc(stats.beta.logpdf, post["p_state"],
                                  xr.DataArray(ps["alpha"], dims="evidence"),
                                  xr.DataArray(ps["beta"], dims="evidence")),
        "p_base": xr.apply_ufunc(stats.beta.logpdf, post["p_base"],
                                 xr.DataArray(pb["alpha"], dims="base"),
                                 xr.DataArray(pb["beta"], dims="base")),
        "effect_mu": xr.apply_ufunc(stats.norm.logpdf, post["effect_mu"],
                                    xr.DataArray(em["mu"], dims="evidence"),
                                    xr.DataArray(em["sigma"], dims="evidence")),
        "effect_sd": xr.apply_ufunc(stats.halfnorm.logpdf, post["effect_sd"], 0.0, sd_sigma),
        "effect_z": xr.apply_ufunc(stats.norm.logpdf, post["effect_z"]),
    })
    shape = post.sizes["chain"], post.sizes["draw"]
    attrs = tree.attrs
    params = Params(*(np.asarray(post[n].values, float).reshape(-1, *post[n].shape[2:])
                      for n in ("p_state", "p_base", "beta")),
                    coupling=float(attrs.get("forecast_outcome_dependence", 0.0)))
    u = np.asarray(json.loads(attrs["forecast_state_loglr"]), float)
    v = np.asarray(json.loads(attrs["forecast_outcome_loglr"]), float)
    loglik = log_likelihood(params, u, v).reshape(shape)
    log_lik = xr.Dataset({"news": (("chain", "draw"), loglik)},
                         coords={"chain": post["chain"], "draw": post["draw"]})
    return xr.DataTree.from_dict({"posterior": post, "log_prior": log_prior,
                                  "log_likelihood": log_lik})


def power_scaling(forecast: Forecast, *, threshold: float = 0.05,
                  alphas: tuple[float, float] = (0.99, 1.01)) -> pd.DataFrame:
    """ArviZ power-scaling sensitivity of the headline probabilities, prior by prior.

    The stored fit is opened (:func:`forecast.store.open_tree`) and given a
    ``log_prior`` group (each prior's log density per draw, from
    :func:`forecast.elicit.resolved_priors` with scipy) and a ``log_likelihood``
    group (the exact log likelihood of the fit's news from
    :func:`forecast.exact.log_likelihood`). ``arviz_stats.psense`` then
    power-scales one prior at a time (``group_var_names``/``group_coords``), all
    priors together, and the likelihood (Kallioinen et al., 2024). A value at or
    above ``threshold`` (0.05, the paper's) flags a prior that dominates.

    The diagnostic concerns the stored fit, i.e. the news the fit was made from;
    for a reweighted forecast that may differ from ``forecast.evidence``.

    Returns
    -------
    pandas.DataFrame
        One row per (component, outcome): ``component, kind, label, outcome,
        sensitivity, threshold, flagged``; ``component`` is ``p_state[<var>]``,
        ``p_base[<base>]``, ``effect[<var>]``, ``effect_sd``, ``all priors`` or
        ``likelihood``.

    Raises
    ------
    ValueError
        If the forecast was not made from a stored fit (e.g. prior draws).
    """
    from arviz_stats import psense

    from forecast.store import open_tree

    path = forecast.fit.path
    if not path.is_file():
        raise ValueError(f"power scaling needs a stored fit; {path} is not one")
    config = forecast.config
    tree = _log_prior_tree(open_tree(path), config)
    components: list[tuple[str, str, str, dict[str, Any]]] = []
    for o in config.question.outcomes:
        components.append((f"p_base[{o.id}]", "baseline P(keep)", f"Baseline: {o.name}",
                           {"group": "prior", "group_var_names": "p_base",
                            "group_coords": {"base": o.id}}))
    for v in config.evidence.variables:
        components.append((f"p_state[{v.id}]", "P(state true)", f"P: {v.label}",
                           {"group": "prior", "group_var_names": "p_state",
                            "group_coords": {"evidence": v.id}}))
        components.append((f"effect[{v.id}]", "odds ratio on keeping", f"Effect: {v.label}",
                           {"group": "prior", "group_var_names": "effect_mu",
                            "group_coords": {"evidence": v.id}}))
    components.append(("effect_sd", "pooling scale", "Effect differs between bases",
                       {"group": "prior", "group_var_names": "effect_sd"}))
    components.append(("all priors", "all priors", "Every prior together", {"group": "prior"}))
    components.append(("likelihood", "likelihood", "The news (likelihood)",
                       {"group": "likelihood"}))
    labels = outcome_labels(forecast)
    rows = []
    flat = float(np.ptp(tree["log_likelihood"]["news"].values)) < 1e-12
    for name, kind, label, kwargs in components:
        if name == "likelihood" and flat:
            # No news (or only neutral items): scaling a constant likelihood changes
            # nothing, exactly; ArviZ cannot fit its tails to a constant.
            values = dict.fromkeys([*config.bases, "all", "any"], 0.0)
        else:
            ds = psense(tree, var_names=["p_keep", "p_all", "p_any"], alphas=alphas, **kwargs)
            values = {b: float(ds["p_keep"].sel(base=b)) for b in config.bases}
            values["all"] = float(ds["p_all"])
            values["any"] = float(ds["p_any"])
        for outcome, value in values.items():
            if outcome not in config.headline_outcomes:
                continue
            rows.append({"component": name, "kind": kind, "label": label, "outcome": outcome,
                         "outcome_label": labels[outcome], "sensitivity": value,
                         "threshold": threshold, "flagged": bool(value >= threshold)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- prior densities


def prior_densities(config: QuestionConfig, points: int = 241) -> pd.DataFrame:
    """Each prior's density on a grid, for the priors chart.

    Probabilities (evidence states and baselines) on ``[0, 1]``; effects as the
    density of the log odds ratio, reported against the odds ratio.

    Returns
    -------
    pandas.DataFrame
        ``parameter, kind, label, x, density, lower, upper, mass`` with ``lower,
        upper`` the elicited (or central ``credible_mass``) interval.
    """
    spec = PriorSpec.from_config(config)
    mass = config.model.credible_mass
    rows = []

    def interval(prior, dist) -> tuple[float, float, float]:
        if prior.elicited is not None:
            return prior.elicited.lower, prior.elicited.upper, prior.elicited.mass
        lo, hi = dist.ppf([(1 - mass) / 2, (1 + mass) / 2])
        return float(lo), float(hi), mass

    def add(parameter, kind, label, x, dens, bounds):
        lo, hi, m = bounds
        rows.extend({"parameter": parameter, "kind": kind, "label": label, "x": xi,
                     "density": di, "lower": lo, "upper": hi, "mass": m}
                    for xi, di in zip(x, dens, strict=True))

    x = np.linspace(0.0005, 0.9995, points)
    for j, o in enumerate(config.question.outcomes):
        dist = stats.beta(spec.base_alpha[j], spec.base_beta[j])
        add(f"p_base[{o.id}]", "baseline P(keep)", o.name, x, dist.pdf(x),
            interval(o.baseline, dist))
    for k, v in enumerate(config.evidence.variables):
        dist = stats.beta(spec.state_alpha[k], spec.state_beta[k])
        add(f"p_state[{v.id}]", "P(state true)", v.label, x, dist.pdf(x), interval(v.prior, dist))
    for k, v in enumerate(config.evidence.variables):
        dist = stats.norm(spec.effect_mu[k], spec.effect_sigma[k])
        lo, hi = dist.ppf([0.0005, 0.9995])
        t = np.linspace(lo, hi, points)
        if v.effect.elicited is not None:
            bounds = (v.effect.elicited.lower, v.effect.elicited.upper, v.effect.elicited.mass)
        else:
            a, b = dist.ppf([(1 - mass) / 2, (1 + mass) / 2])
            bounds = (math.exp(a), math.exp(b), mass)
        add(f"effect[{v.id}]", "odds ratio on keeping", v.label, np.exp(t), dist.pdf(t), bounds)
    return pd.DataFrame(rows)
