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
from scipy.special import expit, logit

from forecast.config import (
    PRIOR_SOURCES,
    Interval,
    ProbabilityInterval,
    ProbabilityPrior,
    QuestionConfig,
)
from forecast.elicit import (
    POOL_LABELS,
    is_mixture,
    prior_interval,
    prior_logpdf,
    prior_mean,
    prior_origins,
    prior_quantiles,
    probability_prior,
    resolved_priors,
)
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
        for i, base in enumerate(config.bases):
            lo, hi = prior_quantiles(pri["p_base"], i, [tail, 1 - tail])
            rows.append({"parameter": f"p_base[{base}]",
                         "label": f"Base rate: {config.question.outcomes[i].name}",
                         "scale": "probability", "source": source,
                         "mean": prior_mean(pri["p_base"], i), "lower": lo, "upper": hi})
        for k, var in enumerate(config.variables):
            if var not in config.linked.effects:
                continue
            lo, hi = prior_quantiles(pri["effect_mu"], k, [tail, 1 - tail])
            rows.append({"parameter": f"effect_mu[{var}]",
                         "label": f"Effect: {config.evidence.variables[k].label}",
                         "scale": "log odds ratio", "source": source,
                         "mean": prior_mean(pri["effect_mu"], k), "lower": lo, "upper": hi})
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
    """Every prior's parameters as arrays (the shape of :func:`forecast.elicit.resolved_priors`).

    A base rate or effect may be a linear pool (``prior_pool.method: linear``): the
    mixture ``(1 - w) f + w f_ref`` of the main parameters and the ``*_ref`` ones with
    ``w`` the entry's ``*_weight``; a weight of 0 (the default) is no mixture.
    """

    state_alpha: np.ndarray
    state_beta: np.ndarray
    base_alpha: np.ndarray
    base_beta: np.ndarray
    effect_mu: np.ndarray
    effect_sigma: np.ndarray
    pooling_sigma: float
    base_alpha_ref: np.ndarray | None = None
    base_beta_ref: np.ndarray | None = None
    base_weight: np.ndarray | None = None
    effect_mu_ref: np.ndarray | None = None
    effect_sigma_ref: np.ndarray | None = None
    effect_weight: np.ndarray | None = None

    def __post_init__(self) -> None:
        for main, ref in (("base_alpha", "base_alpha_ref"), ("base_beta", "base_beta_ref"),
                          ("effect_mu", "effect_mu_ref"), ("effect_sigma", "effect_sigma_ref")):
            if getattr(self, ref) is None:
                object.__setattr__(self, ref, np.array(getattr(self, main), dtype=float))
        for name, like in (("base_weight", "base_alpha"), ("effect_weight", "effect_mu")):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros(np.shape(getattr(self, like))))

    @classmethod
    def from_priors(cls, p: dict[str, Any]) -> PriorSpec:
        """From priors in the shape of :func:`forecast.elicit.resolved_priors`."""
        def arr(x) -> np.ndarray:
            return np.asarray(x, dtype=float)

        def slot(group: str, names: tuple[str, str]):
            kw = p[group]["kwargs"]
            if not is_mixture(p[group]):
                return arr(kw[names[0]]), arr(kw[names[1]]), None, None, None
            e, r = kw["elicited"], kw["reference"]
            return (arr(e[names[0]]), arr(e[names[1]]), arr(r[names[0]]), arr(r[names[1]]),
                    arr(kw["weight"]))

        ba, bb, bar, bbr, bw = slot("p_base", ("alpha", "beta"))
        em, es, emr, esr, ew = slot("effect_mu", ("mu", "sigma"))
        return cls(
            arr(p["p_state"]["kwargs"]["alpha"]), arr(p["p_state"]["kwargs"]["beta"]),
            ba, bb, em, es, float(p["effect_sd"]["kwargs"]["sigma"]),
            base_alpha_ref=bar, base_beta_ref=bbr, base_weight=bw,
            effect_mu_ref=emr, effect_sigma_ref=esr, effect_weight=ew,
        )

    @classmethod
    def from_config(cls, config: QuestionConfig) -> PriorSpec:
        """The question's priors as used by the model (after ``prior_source``)."""
        return cls.from_priors(resolved_priors(config))

    def mixed(self, slot: str) -> np.ndarray:
        """Which entries of ``base`` or ``effect`` are a mixture of two different priors."""
        if slot == "base":
            w, pairs = self.base_weight, ((self.base_alpha, self.base_alpha_ref),
                                          (self.base_beta, self.base_beta_ref))
        else:
            w, pairs = self.effect_weight, ((self.effect_mu, self.effect_mu_ref),
                                            (self.effect_sigma, self.effect_sigma_ref))
        differ = np.zeros(np.shape(w), dtype=bool)
        for a, b in pairs:
            differ |= a != b
        return (w > 0) & (w < 1) & differ

    def to_priors(self) -> dict[str, Any]:
        """These priors in the shape of :func:`forecast.elicit.resolved_priors`."""
        def vec(x: np.ndarray) -> list[float]:
            return [float(v) for v in x]

        def slot(dist: str, names: tuple[str, str], main, ref, w) -> dict[str, Any]:
            if np.all(w == 0):
                return {"dist": dist, "kwargs": {names[0]: vec(main[0]), names[1]: vec(main[1])}}
            if np.all(w == 1):
                return {"dist": dist, "kwargs": {names[0]: vec(ref[0]), names[1]: vec(ref[1])}}
            return {"dist": "Mixture", "family": dist, "kwargs": {
                "weight": vec(w),
                "elicited": {names[0]: vec(main[0]), names[1]: vec(main[1])},
                "reference": {names[0]: vec(ref[0]), names[1]: vec(ref[1])}}}

        return {
            "p_state": {"dist": "Beta", "kwargs": {"alpha": vec(self.state_alpha),
                                                   "beta": vec(self.state_beta)}},
            "p_base": slot("Beta", ("alpha", "beta"), (self.base_alpha, self.base_beta),
                           (self.base_alpha_ref, self.base_beta_ref), self.base_weight),
            "effect_mu": slot("Normal", ("mu", "sigma"), (self.effect_mu, self.effect_sigma),
                              (self.effect_mu_ref, self.effect_sigma_ref), self.effect_weight),
            "effect_sd": {"dist": "HalfNormal", "kwargs": {"sigma": self.pooling_sigma}},
        }

    def replace(self, **changes: Any) -> PriorSpec:
        """A copy with some prior parameters replaced (for a sensitivity case)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name, value in changes.items():
            fields[name] = value
        return PriorSpec(**fields)

    def effect_density(self, beta: np.ndarray) -> np.ndarray:
        """:func:`_log_effect_density` of ``beta`` under these priors."""
        mix = None
        if np.any(self.effect_weight > 0):
            mix = (self.effect_mu_ref, self.effect_sigma_ref, self.effect_weight)
        return _log_effect_density(beta, self.effect_mu, self.effect_sigma, self.pooling_sigma,
                                   mixture=mix)

    def _effect_key(self) -> tuple:
        return (tuple(self.effect_mu), tuple(self.effect_sigma), self.pooling_sigma,
                tuple(self.effect_mu_ref), tuple(self.effect_sigma_ref),
                tuple(self.effect_weight))


def _mix_logpdf(log1: np.ndarray, log2: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``log((1 - w) e^log1 + w e^log2)``, exact at ``w`` 0 and 1."""
    w = np.broadcast_to(np.asarray(w, dtype=float), np.broadcast(log1, log2, w).shape)
    with np.errstate(divide="ignore"):
        out = np.logaddexp(np.log1p(-w) + log1, np.log(w) + log2)
    return np.where(w == 0, log1, np.where(w == 1, log2, out))


def _log_effect_density(beta: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                        pooling_sigma: float, chunk: int = 500, *,
                        mixture: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                        ) -> np.ndarray:
    """Log prior density of ``beta`` (n, B, K), the pooling scale integrated out.

    Under the model ``beta[b, k] = mu_k + sd z[b, k]`` with ``mu_k ~ Normal(m_k, s_k)``,
    ``z ~ Normal(0, 1)`` and ``sd ~ HalfNormal(pooling_sigma)``, the column
    ``beta[:, k]`` is, given ``sd``, multivariate normal with mean ``m_k 1`` and
    covariance ``s_k^2 11' + sd^2 I``. The integral over ``sd`` is a quadrature on
    a log-spaced grid (the marginal of the parameters the forecast depends on, so
    it is the right density for importance weights; ``mu`` and ``sd`` are not needed).
    With ``mixture = (m_ref, s_ref, w)`` (a linear pool) ``mu_k`` is the mixture
    ``(1 - w_k) Normal(m_k, s_k) + w_k Normal(m_ref_k, s_ref_k)``, so given ``sd`` the
    column is the same mixture of two multivariate normals.
    """
    n, b, _ = beta.shape
    t = np.linspace(math.log(pooling_sigma * 1e-5), math.log(pooling_sigma * 7.0), _SD_GRID)
    d = np.exp(t)
    logw = stats.halfnorm.logpdf(d, scale=pooling_sigma) + t  # d(sd) = sd d(log sd)
    logw -= logw.max() + np.log(np.exp(logw - logw.max()).sum())
    d2 = d**2
    parts = [(mu, sigma)] if mixture is None else [(mu, sigma), mixture[:2]]
    out = np.empty(n)
    for start in range(0, n, chunk):
        per_k = []
        for m, s in parts:
            var_par = d2[:, None] + b * s[None, :] ** 2  # (G, K)
            x = beta[start:start + chunk] - m[None, None, :]
            sx2 = x.sum(axis=1) ** 2 / b  # (c, K)
            perp = np.maximum((x**2).sum(axis=1) - sx2, 0.0)
            quad = perp[:, None, :] / d2[None, :, None] + sx2[:, None, :] / var_par[None]
            logdet = (b - 1) * np.log(d2)[None, :, None] + np.log(var_par)[None]
            per_k.append(-0.5 * (b * math.log(2 * math.pi) + logdet + quad))  # (c, G, K)
        ll_k = per_k[0] if mixture is None else _mix_logpdf(per_k[0], per_k[1],
                                                             mixture[2][None, None, :])
        ll = ll_k.sum(axis=2) + logw[None, :]  # (c, G)
        top = ll.max(axis=1, keepdims=True)
        out[start:start + chunk] = top[:, 0] + np.log(np.exp(ll - top).sum(axis=1))
    return out


def _beta_logpdf(x: np.ndarray, spec: PriorSpec, slot: str, j: int) -> np.ndarray:
    """Log prior density of column ``j`` of ``p_state`` or ``p_base`` (mixtures included)."""
    if slot == "state":
        return stats.beta.logpdf(x, spec.state_alpha[j], spec.state_beta[j])
    main = stats.beta.logpdf(x, spec.base_alpha[j], spec.base_beta[j])
    w = spec.base_weight[j]
    if w == 0:
        return main
    return _mix_logpdf(main, stats.beta.logpdf(x, spec.base_alpha_ref[j], spec.base_beta_ref[j]),
                       w)


def log_prior_ratio(params: Params, old: PriorSpec, new: PriorSpec,
                    old_effect: np.ndarray | None = None) -> np.ndarray:
    """``log p_new(theta) - log p_old(theta)`` per draw, for the parameters of :class:`Params`.

    Only the factors that differ are evaluated: Beta (or Beta-mixture) densities of the
    changed probabilities and, if an effect or the pooling scale changed, the marginal
    effect density of :func:`_log_effect_density` (``old_effect`` may pass the old
    one, which is the same for every perturbation of a forecast).
    """
    out = np.zeros(params.n)
    checks = (
        (params.p_state, "state", (old.state_alpha, old.state_beta),
         (new.state_alpha, new.state_beta)),
        (params.p_base, "base",
         (old.base_alpha, old.base_beta, old.base_alpha_ref, old.base_beta_ref,
          old.base_weight),
         (new.base_alpha, new.base_beta, new.base_alpha_ref, new.base_beta_ref,
          new.base_weight)),
    )
    for x, slot, before, after in checks:
        changed = np.zeros(np.shape(before[0]), dtype=bool)
        for a0, a1 in zip(before, after, strict=True):
            changed |= a0 != a1
        for j in np.flatnonzero(changed):
            out += _beta_logpdf(x[:, j], new, slot, j) - _beta_logpdf(x[:, j], old, slot, j)
    if old._effect_key() != new._effect_key():
        out += new.effect_density(params.beta)
        if old_effect is None:
            old_effect = old.effect_density(params.beta)
        out -= old_effect
    return out


def _shifted_beta(elicited: Interval | None, alpha: float, beta: float, mass: float,
                  end: str) -> tuple[float, float, str]:
    """A Beta centred (on the logit scale) at one end of an interval, same width.

    The interval is ``elicited`` when the prior in force is the elicited one, else the
    central ``mass`` interval of ``Beta(alpha, beta)`` (a reference-class or pooled prior).
    """
    if elicited is not None:
        lo, hi, mass = elicited.lower, elicited.upper, elicited.mass
    else:
        lo, hi = stats.beta.ppf([(1 - mass) / 2, (1 + mass) / 2], alpha, beta)
    a, b = float(logit(lo)), float(logit(hi))
    half = (b - a) / 2
    centre = a if end == "low" else b
    interval = ProbabilityInterval(lower=float(expit(centre - half)),
                                   upper=float(expit(centre + half)), mass=mass)
    shifted = probability_prior(ProbabilityPrior(elicited=interval, rationale="sensitivity"))
    kw = shifted["kwargs"]
    return kw["alpha"], kw["beta"], f"centred at {lo if end == 'low' else hi:.3g}"


def _shifted_mu(mu: float, sigma: float, mass: float, end: str) -> float:
    """A Normal's mean moved to one end of its central ``mass`` interval."""
    z = stats.norm.ppf(0.5 + mass / 2)
    return float(mu + (-z if end == "low" else z) * sigma)


def shifted_priors(config: QuestionConfig) -> list[dict[str, Any]]:
    """Every prior in force pushed to the low and to the high end of its interval.

    The prior in force is the one ``prior_source`` gives (:func:`forecast.elicit.resolved_priors`):
    its interval is the elicited one where the prior is elicited, else (reference
    class, log-linear pool) the central ``credible_mass`` interval of its distribution.
    A probability's prior (a Beta) is re-elicited with its interval moved, on the
    logit scale, so that its centre sits at the old interval's lower (upper) end,
    its width unchanged; an effect's Normal on the log odds ratio gets its mean
    moved to the lower (upper) end of its interval, its sd unchanged. A linear pool
    (``prior_pool.method: linear``) is pushed component by component: the analysts'
    component to the end of its interval and history's to the end of its own, the
    weight kept; the weight itself is a row of its own (``pool_weight``, pushed to 0,
    the analysts alone, and 1, history alone), under either pooling rule. The pooling
    scale has no elicited interval: its HalfNormal sigma is halved and doubled. A prior
    given directly as ``dist`` uses its central ``credible_mass`` interval.

    Returns
    -------
    list of dict
        ``parameter, kind, label, end, setting, spec`` (a :class:`PriorSpec`) and
        ``prior`` (the changed prior in ``Prior.to_dict()`` shape; a mixture's as
        ``{"dist": "Mixture", "family", "kwargs": {"weight", "elicited", "reference"}}``).
    """
    old = PriorSpec.from_config(config)
    mass = config.model.credible_mass
    origins = prior_origins(config)
    mixed_base, mixed_effect = old.mixed("base"), old.mixed("effect")
    out = []
    for j, o in enumerate(config.question.outcomes):
        own = o.baseline.elicited if origins["p_base"][j] == "elicited" else None
        for end in ("low", "high"):
            a, b, text = _shifted_beta(o.baseline.elicited if mixed_base[j] else own,
                                       old.base_alpha[j], old.base_beta[j], mass, end)
            ar, br = a, b
            if mixed_base[j]:
                ar, br, text_ref = _shifted_beta(None, old.base_alpha_ref[j],
                                                 old.base_beta_ref[j], mass, end)
                text = f"analysts' {text}, history's {text_ref}"
            spec = old.replace(base_alpha=_with(old.base_alpha, j, a),
                               base_beta=_with(old.base_beta, j, b),
                               base_alpha_ref=_with(old.base_alpha_ref, j, ar),
                               base_beta_ref=_with(old.base_beta_ref, j, br))
            prior = (_mixture("Beta", old.base_weight[j], {"alpha": a, "beta": b},
                              {"alpha": ar, "beta": br}) if mixed_base[j] else _beta(a, b))
            out.append({"parameter": f"p_base[{o.id}]", "kind": "baseline P(keep)",
                        "label": f"Baseline: {o.name}", "end": end, "setting": text,
                        "spec": spec, "prior": prior})
    for k, v in enumerate(config.evidence.variables):
        for end in ("low", "high"):
            a, b, text = _shifted_beta(v.prior.elicited, old.state_alpha[k], old.state_beta[k],
                                       mass, end)
            spec = old.replace(state_alpha=_with(old.state_alpha, k, a),
                               state_beta=_with(old.state_beta, k, b))
            out.append({"parameter": f"p_state[{v.id}]", "kind": "P(state true)",
                        "label": f"P: {v.label}", "end": end, "setting": text, "spec": spec,
                        "prior": _beta(a, b)})
        elicited_mass = v.effect.elicited.mass if v.effect.elicited is not None else mass
        own_mass = elicited_mass if origins["effect_mu"][k] == "elicited" else mass
        for end in ("low", "high"):
            mu = _shifted_mu(old.effect_mu[k], old.effect_sigma[k],
                             elicited_mass if mixed_effect[k] else own_mass, end)
            mu_ref, sigma_ref = mu, float(old.effect_sigma[k])
            text = f"odds ratio centred at {math.exp(mu):.3g}"
            if mixed_effect[k]:
                sigma_ref = float(old.effect_sigma_ref[k])
                mu_ref = _shifted_mu(old.effect_mu_ref[k], sigma_ref, mass, end)
                text = (f"odds ratio centred at {math.exp(mu):.3g} (analysts), "
                        f"{math.exp(mu_ref):.3g} (history)")
            else:
                sigma_ref = float(old.effect_sigma[k])
            spec = old.replace(effect_mu=_with(old.effect_mu, k, mu),
                               effect_mu_ref=_with(old.effect_mu_ref, k, mu_ref),
                               effect_sigma_ref=_with(old.effect_sigma_ref, k, sigma_ref))
            own = {"mu": float(mu), "sigma": float(old.effect_sigma[k])}
            prior = (_mixture("Normal", old.effect_weight[k], own,
                              {"mu": mu_ref, "sigma": sigma_ref}) if mixed_effect[k]
                     else {"dist": "Normal", "kwargs": own})
            out.append({"parameter": f"effect[{v.id}]", "kind": "odds ratio on keeping",
                        "label": f"Effect: {v.label}", "end": end, "setting": text,
                        "spec": spec, "prior": prior})
    f = config.model.sensitivity.pooling_scale_factor
    for end, factor in (("low", 1 / f), ("high", f)):
        sigma = old.pooling_sigma * factor
        out.append({"parameter": "effect_sd", "kind": "pooling scale",
                    "label": "Effect differs between bases", "end": end,
                    "setting": f"HalfNormal sigma {sigma:.3g}",
                    "spec": old.replace(pooling_sigma=sigma),
                    "prior": {"dist": "HalfNormal", "kwargs": {"sigma": sigma}}})
    if config.prior_source == "both":
        pool = config.model.prior_pool
        for end, source, weight, who in (("low", "elicited", 0.0, "the analysts alone"),
                                         ("high", "reference_class", 1.0, "history alone")):
            out.append({"parameter": "pool_weight", "kind": "pool weight",
                        "label": f"Weight on history ({POOL_LABELS[pool.method]})",
                        "end": end,
                        "setting": f"w {weight:g}, {who} (model.yaml: {pool.weight:g})",
                        "spec": PriorSpec.from_config(config.with_prior_source(source)),
                        "prior": {"weight": weight}})
    return out


def _mixture(family: str, w: float, elicited: dict[str, float], reference: dict[str, float]
             ) -> dict[str, Any]:
    return {"dist": "Mixture", "family": family,
            "kwargs": {"weight": float(w), "elicited": {k: float(x) for k, x in elicited.items()},
                       "reference": {k: float(x) for k, x in reference.items()}}}


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
    old_effect = old.effect_density(params.beta)
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
                           ess=ess.get(_quantity(outcome)))
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


def _quantity(outcome: str) -> str:
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
    sd_sigma = priors["effect_sd"]["kwargs"]["sigma"]

    def logpdf(slot: str, dim: str):
        # entries on the last axis: a linear pool's mixture density included
        x = post[slot].transpose(..., dim)
        return xr.apply_ufunc(lambda v: prior_logpdf(priors[slot], v), x)

    log_prior = xr.Dataset({
        "p_state": logpdf("p_state", "evidence"),
        "p_base": logpdf("p_base", "base"),
        "effect_mu": logpdf("effect_mu", "evidence"),
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
    """Each prior in force (after ``prior_source``) as a density on a grid, for the priors chart.

    Probabilities (evidence states and baselines) on ``[0, 1]``; effects as the
    density of the log odds ratio, reported against the odds ratio.

    Returns
    -------
    pandas.DataFrame
        ``parameter, kind, label, origin, x, density, density_elicited,
        density_reference, lower, upper, mass``: ``origin`` says where the prior in force
        comes from (:func:`forecast.elicit.prior_origins`); ``lower, upper`` are its
        interval (:func:`forecast.elicit.prior_interval`: the elicited one where the
        prior is elicited, else its central ``credible_mass`` interval); for a linear
        pool ``density_elicited`` and ``density_reference`` are its two weighted
        components, which add up to ``density`` (NaN for any other prior).
    """
    priors = resolved_priors(config)
    origins = prior_origins(config)
    rows = []

    def add(parameter, kind, label, origin, slot, j, x, t, bounds):
        prior = priors[slot]
        dens = np.exp(prior_logpdf(prior, t[:, None]))[:, j]
        parts = [np.full(t.size, np.nan)] * 2
        if is_mixture(prior):
            kw = prior["kwargs"]
            if any(kw["elicited"][n][j] != kw["reference"][n][j] for n in kw["elicited"]):
                parts = [np.exp(np.log(w[j]) + prior_logpdf(
                    {"dist": family, "kwargs": {n: [c[n][j]] for n in c}}, t[:, None])[:, 0])
                    for w, c, family in zip((1 - np.asarray(kw["weight"]), kw["weight"]),
                                            (kw["elicited"], kw["reference"]),
                                            (prior["family"],) * 2, strict=True)]
        lo, hi, m = bounds
        rows.extend({"parameter": parameter, "kind": kind, "label": label, "origin": origin,
                     "x": xi, "density": di, "density_elicited": ei, "density_reference": ri,
                     "lower": lo, "upper": hi, "mass": m}
                    for xi, di, ei, ri in zip(x, dens, *parts, strict=True))

    x = np.linspace(0.0005, 0.9995, points)
    for j, o in enumerate(config.question.outcomes):
        add(f"p_base[{o.id}]", "baseline P(keep)", o.name, origins["p_base"][j], "p_base", j,
            x, x, prior_interval(config, "p_base", j, o.baseline.elicited))
    for k, v in enumerate(config.evidence.variables):
        add(f"p_state[{v.id}]", "P(state true)", v.label, "elicited", "p_state", k, x, x,
            prior_interval(config, "p_state", k, v.prior.elicited))
    for k, v in enumerate(config.evidence.variables):
        lo, hi = prior_quantiles(priors["effect_mu"], k, [0.0005, 0.9995])
        t = np.linspace(lo, hi, points)
        add(f"effect[{v.id}]", "odds ratio on keeping", v.label, origins["effect_mu"][k],
            "effect_mu", k, np.exp(t), t,
            prior_interval(config, "effect_mu", k, v.effect.elicited))
    return pd.DataFrame(rows)
