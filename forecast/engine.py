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
import warnings
from pathlib import Path

import numpy as np

from forecast.config import QuestionConfig
from forecast.errors import ConvergenceWarning, EngineFallbackWarning, NeedsRefitError
from forecast.exact import Params, enumerate_states, log_likelihood, quantity_name
from forecast.ledger import Evidence, NewsItem, evidence_from, items_as_of
from forecast.posterior import Forecast, psis
from forecast.prior import Priors
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
        # Loud, but the caller decides how: the CLI prints warnings as lines and exits 3.
        warnings.warn(ConvergenceWarning("the posterior FAILED the convergence gate: "
                                         + "; ".join(fit.diagnostics["failures"])),
                      stacklevel=2)
    return forecast


def params_prior(draws: dict[str, np.ndarray], coupling: float = 0.0) -> Params:
    """The exact-enumeration parameters of a dict of prior draws (and the outcomes' coupling)."""
    return Params(draws["p_state"], draws["p_base"], draws["beta"], coupling)


def _priors_hash(priors: Priors) -> str:
    """A short hash of replacement priors, so their draws are never mistaken for the question's."""
    import hashlib
    import json

    blob = json.dumps(priors.to_dict(), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:8]


def prior_forecast(config: QuestionConfig, *, seed: int | None = None,
                   n: int | None = None, enumerate: bool = True,
                   priors: Priors | None = None) -> Forecast:
    """The forecast before any news, from independent prior draws (plain Monte Carlo).

    As many draws as the exact engine uses (``engine.draws``), the same draws for
    the same seed, so that the priors and the exact forecast are the same draws
    with and without the news' weights; under ``engine.default: nuts``, as many
    as the sampler keeps (chains x draws), in its shape. ``n`` overrides; no MCMC
    is involved. ``enumerate=False`` leaves ``values`` as None (for callers that
    only need the draws). ``priors`` replaces the question's priors
    (:func:`forecast.elicit.resolved_priors`), e.g. one pushed to an end of its interval.
    """
    from forecast.elicit import resolved_priors

    s = config.model.sampler
    seed = s.seed if seed is None else seed
    if n is None and config.model.engine.default == "exact":
        n = config.model.engine.draws
    shape = (s.chains, s.draws) if n is None else (1, int(n))
    n = shape[0] * shape[1]
    draws = (resolved_priors(config) if priors is None else priors).draw(n, seed)
    params = params_prior(draws,
                          config.model.outcome_dependence.value)
    evidence = evidence_from(config, [])
    values = (enumerate_states(params, evidence.state_loglr, evidence.outcome_loglr)
              if enumerate else None)
    names = [quantity_name("p_keep", b) for b in config.bases] + ["p_all", "p_any"]
    names += [quantity_name("p_state_post", v) for v in config.variables]
    fit = StoredFit(
        file=Path("<prior draws>"),
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
                        n: int = 20_000, priors: Priors | None = None,
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
        if (fit.file == Path("<prior draws>") and fit.input_hash == config.input_hash()
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
