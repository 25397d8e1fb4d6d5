"""Compute a forecast for a set of news items, by the cheapest path that can be trusted.

One job: given a question and the items known on a date, return a
:class:`Forecast`: per-draw probabilities and their estimates. Two engines:

``exact`` (the default, ``engine`` in ``model.yaml``)
    Independent draws of the parameters from the question's prior, weighted by
    the news likelihood that :mod:`forecast.exact` computes exactly, the
    weights Pareto-smoothed and checked (k-hat, effective sample size, MCSE).
    The news bear on the parameters only through a bounded, smooth marginal
    likelihood, so the posterior stays close enough to the prior for this to be
    exact up to Monte Carlo error: no compile, no sampling, a fraction of a
    second. Where the weights fail the gate, NUTS takes over, and says so.
``nuts``
    The PyMC model sampled with NUTS (the cross-check and the fallback), by
    three paths: ``cached`` (a stored fit of exactly these inputs), ``reweighted``
    (a stored fit of the same priors with other news, PSIS-reweighted while the
    k-hat stays at or below ``fast_path.khat_max``) or ``fit`` (sampled and stored).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from forecast import fmt
from forecast.config import QuestionConfig
from forecast.errors import EngineFallbackWarning, NeedsRefitError
from forecast.exact import Enumerated, Params, enumerate_states, log_likelihood, quantity_name
from forecast.ledger import Evidence, NewsItem, evidence_from, items_as_of
from forecast.psis import psislw
from forecast.store import (
    StaleFitError,
    StoredFit,
    candidate_fits,
    fit_key,
    fit_path,
    load_fit,
    results_dir,
    save_fit,
)

#: The engines :func:`compute` offers.
ENGINES = ("exact", "nuts")


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


def reweight(config, fit: StoredFit, evidence: Evidence, as_of) -> Forecast:
    """Reweight a stored fit to other news, exactly in the likelihood, by PSIS."""
    target = enumerate_states(fit.params, *evidence.per_draw(fit.params.n))
    base = log_likelihood(fit.params, fit.state_loglr, fit.outcome_loglr)
    log_weights, khat = psis(target.loglik - base)
    return Forecast(config, as_of, evidence, "reweighted", fit, target, log_weights, khat)


def from_fit(config, fit: StoredFit, evidence: Evidence, as_of, path: str) -> Forecast:
    """The forecast of a stored fit under its own news.

    The sampler sees each ratio at its centre; where ratios are uncertain
    intervals, each draw's own ratios (:meth:`Evidence.per_draw`) enter by
    exact importance weights on top, checked by Pareto k-hat.
    """
    if evidence.terms is not None and evidence.terms.uncertain:
        fc = reweight(config, fit, evidence, as_of)
        fc.path = path
        return fc
    values = enumerate_states(fit.params, evidence.state_loglr, evidence.outcome_loglr)
    return Forecast(config, as_of, evidence, path, fit, values)


def run_fit(config, evidence, *, out: Path, seed: int, progressbar: bool = False) -> StoredFit:
    """Sample, diagnose and store a fit; return it loaded back from disk."""
    from forecast.sampling import diagnose, sample

    results_dir(out, config, claim=True)  # refuses a folder of another question directory
    tree = sample(config, evidence, seed=seed, progressbar=progressbar)
    diagnostics = diagnose(tree, config)
    key = fit_key(config, evidence, seed)
    path = save_fit(tree, fit_path(out, config, key), config=config, evidence=evidence,
                    key=key, seed=seed, diagnostics=diagnostics)
    return load_fit(path, expected_key=key)


def compute(
    config: QuestionConfig,
    items: list[NewsItem],
    *,
    out: str | Path = "out",
    as_of: dt.date | None = None,
    seed: int | None = None,
    reweight_from: list[StoredFit] | None = None,
    allow_reweight: bool = True,
    allow_fit: bool = True,
    progressbar: bool = False,
    engine: str | None = None,
) -> Forecast:
    """The forecast given the items known on ``as_of`` (default: today).

    Parameters
    ----------
    config, items
        The validated question and its ledger.
    engine
        ``"exact"`` or ``"nuts"`` (default: ``engine.default`` in ``model.yaml``). The
        exact engine falls back to NUTS, with an :class:`EngineFallbackWarning`,
        when its weights fail the gate.
    out
        Where fits are stored (``<out>/<question>/fits``).
    seed
        Sampler seed; default ``sampler.seed`` of ``model.yaml``.
    reweight_from
        Fits to consider for the fast path (default: every stored fit of this question).
    allow_reweight, allow_fit
        Which paths may be taken; ``NeedsRefitError`` if none applies.
    """
    out = Path(out)
    as_of = as_of or dt.date.today()
    seed = config.model.sampler.seed if seed is None else seed
    engine = engine or config.model.engine.default
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    notes: list[str] = []
    if engine == "exact":
        fc = exact_forecast(config, items, as_of=as_of, seed=seed, reuse=reweight_from)
        if fc.fit.diagnostics["passed"]:
            return fc
        message = ("the exact engine's weights FAILED the gate ("
                   + "; ".join(fc.fit.diagnostics["failures"]) + "): falling back to NUTS")
        if not allow_fit and not allow_reweight:
            raise NeedsRefitError(message)
        warnings.warn(message, EngineFallbackWarning, stacklevel=2)
        notes.append(message)
    evidence = evidence_from(config, items_as_of(items, as_of))
    key = fit_key(config, evidence, seed)
    path = fit_path(out, config, key)
    if path.exists():
        try:
            return from_fit(config, load_fit(path, expected_key=key), evidence, as_of, "cached")
        except StaleFitError as exc:
            notes.append(f"ignored a stored fit: {exc}")
    if allow_reweight:
        fits = reweight_from if reweight_from is not None else candidate_fits(out, config)
        best: Forecast | None = None
        for fit in fits:
            if fit.seed != seed:
                continue
            candidate = reweight(config, fit, evidence, as_of)
            if best is None or candidate.khat < best.khat:
                best = candidate
        if best is not None and best.khat <= config.model.fast_path.khat_max:
            best.notes = notes
            return best
        if best is not None:
            notes.append(
                f"reweighting not trusted (Pareto k-hat {best.khat:.2f} > "
                f"{config.model.fast_path.khat_max}); refitting"
            )
    if not allow_fit:
        raise NeedsRefitError("; ".join(notes) or "no stored fit to reuse")
    fit = run_fit(config, evidence, out=out, seed=seed, progressbar=progressbar)
    forecast = from_fit(config, fit, evidence, as_of, "fit")
    forecast.notes = notes
    if not fit.diagnostics["passed"]:
        print(
            "WARNING: the posterior FAILED the convergence gate: "
            + "; ".join(fit.diagnostics["failures"]),
            file=sys.stderr,
        )
    return forecast


def params_prior(draws: dict[str, np.ndarray], coupling: float = 0.0) -> Params:
    """The exact-enumeration parameters of a dict of prior draws (and the outcomes' coupling)."""
    return Params(draws["p_state"], draws["p_base"], draws["beta"], coupling)


def _priors_hash(priors: dict) -> str:
    """A short hash of replacement priors, so their draws are never mistaken for the question's."""
    import hashlib
    import json

    blob = json.dumps(priors, sort_keys=True, default=lambda a: np.asarray(a).tolist())
    return hashlib.sha256(blob.encode()).hexdigest()[:8]


def prior_forecast(config: QuestionConfig, *, seed: int | None = None,
                   n: int | None = None, enumerate: bool = True,
                   priors: dict | None = None) -> Forecast:
    """The forecast before any news, from independent prior draws (plain Monte Carlo).

    As many draws as the exact engine uses (``engine.draws``), the same draws for
    the same seed, so that the priors and the exact forecast are the same draws
    with and without the news' weights; under ``engine.default: nuts``, as many
    as the sampler keeps (chains x draws), in its shape. ``n`` overrides; no MCMC
    is involved. ``enumerate=False`` leaves ``values`` as None (for callers that
    only need the draws). ``priors`` replaces the question's priors
    (:func:`forecast.elicit.prior_draws`).
    """
    from forecast.elicit import prior_draws

    s = config.model.sampler
    seed = s.seed if seed is None else seed
    if n is None and config.model.engine.default == "exact":
        n = config.model.engine.draws
    shape = (s.chains, s.draws) if n is None else (1, int(n))
    n = shape[0] * shape[1]
    params = params_prior(prior_draws(config, n, seed, priors),
                          config.model.outcome_dependence.value)
    evidence = evidence_from(config, [])
    values = (enumerate_states(params, evidence.state_loglr, evidence.outcome_loglr)
              if enumerate else None)
    names = [quantity_name("p_keep", b) for b in config.bases] + ["p_all", "p_any"]
    names += [quantity_name("p_state_post", v) for v in config.variables]
    fit = StoredFit(
        path=Path("<prior draws>"),
        key=f"prior-{config.input_hash()[:8]}-{seed}" + (
            "" if priors is None else "-" + _priors_hash(priors)),
        input_hash=config.input_hash(),
        params=params,
        state_loglr=evidence.state_loglr,
        outcome_loglr=evidence.outcome_loglr,
        item_ids=(),
        seed=seed,
        shape=shape,
        # Independent draws: no chains to converge, and the ESS is the number of draws.
        diagnostics={"r_hat_max": 1.0, "divergences": 0, "passed": True, "failures": [],
                     "ess_mean": dict.fromkeys(names, float(n)),
                     "method": "independent draws from the prior"},
        versions={},
    )
    return Forecast(config, config.question.created, evidence, "prior", fit, values)


def importance_forecast(config: QuestionConfig, items: list[NewsItem], *,
                        as_of: dt.date | None = None, seed: int | None = None,
                        n: int = 20_000, priors: dict | None = None,
                        reuse: list[StoredFit] | None = None) -> Forecast:
    """The forecast by importance sampling: prior draws weighted by the news likelihood.

    The news bear on the parameters only through the marginal likelihood of the
    evidence states, a bounded, smooth function of them, so the posterior is
    often close enough to the prior for plain importance sampling (weights
    Pareto-smoothed, checked by k-hat). It needs neither a compile nor a stored
    fit, which makes it the path for comparing many prior settings (e.g. prior
    sources); trust it only while ``khat`` stays at or below
    ``fast_path.khat_max`` (:func:`compare_prior_sources` in
    :mod:`forecast.analysis` falls back to :func:`compute` otherwise).

    Returns
    -------
    Forecast
        With ``path == "importance"`` and the k-hat of the weights.
    """
    as_of = as_of or dt.date.today()
    fit = _same_prior_draws(config, reuse or [], seed, n) if priors is None else None
    if fit is None:
        fit = prior_forecast(config, seed=seed, n=n, enumerate=False, priors=priors).fit
    evidence = evidence_from(config, items_as_of(items, as_of))
    values = enumerate_states(fit.params, *evidence.per_draw(fit.params.n))
    log_weights, khat = psis(values.loglik)  # the prior's own log likelihood of no news is 0
    return Forecast(config, as_of, evidence, "importance", fit, values, log_weights, khat)


def _same_prior_draws(config: QuestionConfig, fits: list[StoredFit], seed: int | None,
                      n: int) -> StoredFit | None:
    """A fit among ``fits`` holding exactly the prior draws ``prior_forecast`` would make."""
    seed = config.model.sampler.seed if seed is None else seed
    for fit in fits:
        if (fit.path == Path("<prior draws>") and fit.input_hash == config.input_hash()
                and fit.seed == seed and fit.params.n == n and not np.any(fit.state_loglr)
                and not np.any(fit.outcome_loglr)
                and fit.params.coupling == config.model.outcome_dependence.value):
            return fit
    return None


def fewer_draws(forecast: Forecast, items: list[NewsItem], n: int) -> Forecast:
    """The same forecast on ``n`` draws, for analyses that repeat it many times.

    An exact-engine forecast with more draws is recomputed by the exact engine on ``n``
    (same seed); any other forecast is returned as it is.
    """
    if forecast.engine != "exact" or forecast.fit.params.n <= n:
        return forecast
    return exact_forecast(forecast.config, list(items), as_of=forecast.as_of,
                          seed=forecast.fit.seed, n=n)


def exact_forecast(config: QuestionConfig, items: list[NewsItem], *,
                   as_of: dt.date | None = None, seed: int | None = None,
                   n: int | None = None, reuse: list[StoredFit] | None = None) -> Forecast:
    """The default engine: ``engine.draws`` prior draws weighted by the exact news likelihood.

    The weights' diagnostics are the gate: Pareto k-hat at most
    ``fast_path.khat_max``, an effective sample size (``n / (n sum w^2)`` of the
    draws) of at least ``gate.ess_bulk_min``, and each headline MCSE at most
    ``gate.mcse_max``. They are in ``forecast.fit.diagnostics`` (``passed``,
    ``failures``) and so in ``forecast run --json`` and the chart footers. ``reuse`` may
    offer fits whose prior draws are these (same priors, seed and number): a news update
    then weights the draws it already has instead of drawing them again.

    Returns
    -------
    Forecast
        With ``path == "exact"``.
    """
    n = config.model.engine.draws if n is None else int(n)
    fc = importance_forecast(config, items, as_of=as_of, seed=seed, n=n, reuse=reuse)
    gate = config.model.gate
    efficiency = float(1.0 / (n * np.sum(fc.weights**2)))
    ess = n * efficiency
    mcse = max(e.mcse for e in fc.probabilities().values())
    failures = []
    if not fc.khat <= config.model.fast_path.khat_max:
        failures.append(f"Pareto k-hat {fc.khat:.2f} > {config.model.fast_path.khat_max}")
    if ess < gate.ess_bulk_min:
        failures.append(f"effective sample size {ess:.0f} < {gate.ess_bulk_min}")
    if mcse > gate.mcse_max:
        failures.append(f"MCSE {mcse:.4f} > {gate.mcse_max}")
    diagnostics = dict(fc.fit.diagnostics)
    diagnostics.update({"passed": not failures, "failures": failures, "pareto_khat": fc.khat,
                        "ess_bulk_min": ess, "weight_efficiency": efficiency,
                        "mcse_max": mcse, "engine": "exact",
                        "method": "exact: independent prior draws weighted by the exact news "
                                  "likelihood (PSIS-smoothed)"})
    fit = dataclasses.replace(fc.fit, diagnostics=diagnostics,
                              key=f"exact-{config.input_hash()[:8]}-{fc.evidence.key()[:8]}"
                                  f"-{fc.fit.seed}-{n}")
    return Forecast(config, fc.as_of, fc.evidence, "exact", fit, fc.values, fc.log_weights,
                    fc.khat)
