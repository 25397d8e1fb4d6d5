"""Derive a question's base-rate and effect priors from the event-history model.

One job: turn the outside view (:mod:`forecast.hazard`, fitted on the dated
reference class) into priors the question's model can use, and write them to
``reference_priors.yaml`` in the question directory, where ``prior_source`` in
``model.yaml`` selects them (``elicited | reference_class | both``; see
:func:`forecast.elicit.resolved_priors`).

The link, for each posterior draw of the hazard fit:

1. **As of the question's creation.** The question's priors state what was known
   when it was created (its ``evidence.yaml`` says so); later events enter
   through the news ledger, once. So the hazard model is fitted on the reference
   class *as known at the creation date* (:func:`link_fit`,
   :func:`forecast.reference_data.class_as_of`: no exit, onset or case from
   later), and the case is forecast from origin 0 with its start features
   (``reference_case.yaml: start``) and no time-varying feature on: the case's
   own events dated since are *not* used here (they are in the ledger).
2. **Horizon.** P(kept) is computed to the question's own horizon
   (:func:`forecast.hazard.survival`), year by year, with no constant-hazard
   conversion of a five-year rate.
3. **Base rate.** ``p_base`` is P(keep | every evidence state false): each
   linked feature held at the value its variable's *false* state implies for the
   whole horizon (for a negated link, on: no extradition means the red line stays
   refused), and every unlinked feature (a demand to leave, inducements) free to
   switch on at its historical onset rate.
4. **Effects.** For each linked variable, the log odds ratio of P(kept) between
   the variable true and the base case, the switch happening in a year drawn
   uniformly over the horizon (the variable says only that it happens by then).
5. The draws are summarised by moment-matched priors: a Beta for the base rate,
   a Normal for each log odds ratio.

Both bases get the same base rate: the class codes the main facility (or the
presence), not an air base apart from a naval one. Variables with no feature (a
new basing agreement, integration of armed groups) keep their elicited effects.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
from scipy.special import logit

from forecast.config import (
    CASE_FILE,
    LINK_FILE,
    ConfigError,
    LinkedPriors,
    QuestionConfig,
    horizon_years,
    read_linked,
)
from forecast.files import atomic_write, sha256
from forecast.hazard import TIME_VARYING, HazardFit, Profile, survival
from forecast.reference_data import REFERENCE_DIR, default_path

#: Probabilities are kept this far from 0 and 1 before taking logits.
_EPS = 1e-12

METHOD = (
    "Posterior draws of the discrete-time hazard model (forecast/hazard.py) fitted on the "
    "reference class as known on {known_at} (the question's creation: cases begun and events "
    "dated in the months before it; later exits, onsets and cases left out, episodes still "
    "running censored there), for the question coded as a case (reference_case.yaml) as of "
    "its creation; P(kept) to "
    "the question's horizon year by year; the base rate holds every linked feature at its "
    "variable's false value and lets the unlinked ones switch on at their historical onset "
    "rates; each linked effect is the log odds ratio of the variable true (its switch in a "
    "year uniform over the horizon) against the base; summarised by moment-matched Beta (base "
    "rate) and Normal (log odds ratio) priors. Written by `forecast reference link`; do not "
    "edit by hand."
)


def case_coding(config: QuestionConfig):
    """The question's ``reference_case.yaml`` (validated with the question), or a clear error."""
    if config.reference_case is None:
        raise ConfigError([
            f"{config.directory / CASE_FILE}: not found: the question is not coded as a "
            "reference-class case; write it (case_id, patron, host, start_date, the start "
            "features, dated events, checked_through and links to evidence variables; see "
            "priors/russia_syria_bases/reference_case.yaml)"])
    return config.reference_case


def beta_from_moments(x: np.ndarray) -> dict[str, float]:
    """The Beta with the mean and variance of the draws ``x`` (in (0, 1))."""
    m, v = float(np.mean(x)), float(np.var(x, ddof=1))
    if not 0.0 < v < m * (1.0 - m):
        raise ValueError(f"draws with mean {m:.4g} and variance {v:.4g} fit no Beta")
    c = m * (1.0 - m) / v - 1.0
    return {"alpha": m * c, "beta": (1.0 - m) * c}


def linked_survival(config: QuestionConfig, fit: HazardFit, *, horizons=None,
                    seed: int | None = None) -> dict[str, np.ndarray]:
    """(S, H) draws of P(kept) as of the question's creation: ``"base"`` (every linked
    variable false) and, per linked variable, with it true (switch year uniform over
    the horizon). ``horizons`` in years (default: the question's)."""
    coding = case_coding(config)
    years = horizon_years(config.question)
    horizons = np.atleast_1d(years if horizons is None else horizons).astype(float)
    static = {f: c.value for f, c in coding.start.items()}
    known = {f: 0 for f in TIME_VARYING}
    off = {f: (1 if u.negate else 0) for f, u in coding.links.items()}  # variable false
    known.update(off)
    base = Profile(coding.patron, static, known, {f: (v, 1) for f, v in off.items()})
    out = {"base": survival(fit, base, origin=0, horizons=horizons, seed=seed)}
    last = max(1, math.ceil(years))
    for f, u in coding.links.items():
        runs = []
        for switch in range(1, last + 1):
            forced = {g: (v, 1) for g, v in off.items()}
            forced[f] = (1 - off[f], switch)
            runs.append(survival(fit, Profile(coding.patron, static, known, forced), origin=0,
                                 horizons=horizons, seed=seed))
        out[u.variable] = np.mean(runs, axis=0)
    return out


def link_fit(config: QuestionConfig, out: str | Path = "out", *, refit: bool = False
             ) -> tuple[HazardFit, str]:
    """The hazard fit of the reference class as known at the question's ``created`` date,
    stored under ``out`` like the full fit (its key holds the date); ``"cached"`` or
    ``"fit"`` says how it was had."""
    from forecast.reference_store import cached_hazard_fit

    return cached_hazard_fit(out, known_at=config.question.created, refit=refit)


def as_of_creation(config: QuestionConfig, fit: HazardFit) -> HazardFit:
    """``fit`` if it is of the class as known at the question's creation, else that fit
    (from the store ``fit`` came from, with its settings; fitted there if not stored).

    Raises
    ------
    ConfigError
        If ``fit`` is of another date and was not stored (nothing to refit from), or
        the fit as of the creation failed its convergence gate.
    """
    from forecast.reference_store import cached_hazard_fit

    created = config.question.created
    if fit.known_at == created:
        return fit
    if fit.stored_under is None:
        raise ConfigError([
            f"{LINK_FILE}: the hazard fit is of the class as known at "
            f"{fit.known_at or 'its entry (2026)'}, not at the question's creation {created}; "
            "fit it with forecast.reference_priors.link_fit (the link must not use what was "
            "learnt after the creation)"])
    as_of, _ = cached_hazard_fit(fit.stored_under, directory=fit.cases.attrs.get("path"),
                                 settings=fit.settings, known_at=created)
    if not as_of.converged:
        raise ConfigError([f"{LINK_FILE}: the hazard fit of the class as known at {created} "
                           "FAILED its convergence gate (" + "; ".join(
                               as_of.diagnostics["failures"]) + "); nothing derived"])
    return as_of


def derive(config: QuestionConfig, fit: HazardFit, *, seed: int | None = None,
           today: dt.date | None = None) -> LinkedPriors:
    """Priors for the question's base rates and linked effects, from the hazard fit of
    the class as known at the question's creation.

    A ``fit`` of another date (the class as entered, from
    :func:`forecast.reference_store.cached_hazard_fit`) is replaced by that one
    (:func:`as_of_creation`), so that nothing learnt after the creation enters.

    Returns
    -------
    LinkedPriors
        The content of ``reference_priors.yaml``, validated.
    """
    coding = case_coding(config)
    fit = as_of_creation(config, fit)
    years = horizon_years(config.question)
    draws = linked_survival(config, fit, seed=seed)
    mass = fit.settings.credible_mass
    tail = (1 - mass) / 2

    def summary(x: np.ndarray) -> dict[str, float]:
        lo, hi = np.quantile(x, [tail, 1 - tail])
        return {"mean": float(np.mean(x)), "lower": float(lo), "upper": float(hi)}

    base_draws = draws["base"][:, 0]
    start_text = ", ".join(f"{f}={c.value}" for f, c in coding.start.items())
    baseline = {
        "dist": {"dist": "Beta", "kwargs": beta_from_moments(base_draws)},
        **summary(base_draws),
        "rationale": (
            f"P(kept {years:.2f} years) of the main facility for {coding.patron} from the "
            f"reference class's hazard model as of the start ({start_text}; every evidence "
            f"state false; a demand to leave or inducements free to come at their historical "
            f"rates); both bases alike."),
    }
    effects = {}
    for feature, u in coding.links.items():
        lo, hi = _EPS, 1 - _EPS  # a draw of exactly 0 or 1 has no finite logit
        d = logit(np.clip(draws[u.variable][:, 0], lo, hi)) - logit(np.clip(base_draws, lo, hi))
        effects[u.variable] = {
            "dist": {"dist": "Normal", "kwargs": {"mu": float(np.mean(d)),
                                                  "sigma": float(np.std(d, ddof=1))}},
            **summary(d),
            "feature": feature,
            "negate": u.negate,
            "rationale": (
                f"Log odds ratio of keeping the bases {years:.2f} years with "
                f"{'NOT ' if u.negate else ''}{feature} (from a year uniform over the "
                f"horizon) against the base case, from the hazard model. {u.rationale}"),
        }
    directory = default_path("")
    content = {
        "schema_version": 2,
        "question": config.id,
        "generated": (today or dt.date.today()),
        "method": METHOD.format(known_at=fit.known_at.isoformat()),
        "reference": {
            "directory": REFERENCE_DIR.as_posix(),
            "cases_sha256": _sha256(directory / "cases.csv"),
            "events_sha256": _sha256(directory / "events.csv"),
            "settings_sha256": _sha256(directory / "hazard.yaml"),
            "case_sha256": _sha256(config.directory / CASE_FILE),
            "n_cases": int(fit.cases.shape[0]),
            "draws": int(base_draws.shape[0]),
            "seed": int(fit.settings.sampler.seed if seed is None else seed),
            "known_at": fit.known_at,
        },
        "window_years": float(years),
        "horizon_years": float(years),
        "fixed": {f: c.value for f, c in coding.start.items()},
        "baseline": baseline,
        "effects": effects,
    }
    return LinkedPriors.model_validate(content, strict=False)


def attach(config: QuestionConfig, linked: LinkedPriors) -> QuestionConfig:
    """The question with ``linked`` as its reference-class priors, in memory (nothing written).

    For exploring a derivation before writing it with :func:`write`; select a
    source with :meth:`QuestionConfig.with_prior_source`.
    """
    if linked.question != config.id:
        raise ConfigError([f"{LINK_FILE}: question: made for {linked.question!r}, "
                           f"not {config.id!r}"])
    return config.model_copy(update={"linked": linked, "link_problems": ()})


def _sha256(path: Path) -> str:
    return sha256(path)


def to_yaml(linked: LinkedPriors) -> str:
    """The file's text: a header saying what it is, then the fields in schema order."""
    import yaml

    header = (
        "# Priors derived from the reference class for this question. Written by\n"
        "# `forecast reference link`; do not edit by hand. Used when model.yaml sets\n"
        "# prior_source: reference_class or both. See forecast/reference_priors.py.\n"
    )
    data = linked.model_dump()  # python mode: the date stays a YAML date
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=92)


def write(config: QuestionConfig, linked: LinkedPriors) -> Path:
    """Write ``reference_priors.yaml`` into the question directory, atomically.

    The text is validated by reading it back before it replaces the old file,
    so a failure leaves the previous file (or none) in place.
    """
    target = config.directory / LINK_FILE

    def reads_back(tmp: Path) -> None:
        if read_linked(tmp) != linked:
            raise RuntimeError(f"{target}: did not read back as written; nothing written")

    return atomic_write(target, to_yaml(linked), check=reads_back)
