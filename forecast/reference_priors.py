"""Derive a question's base-rate and effect priors from the reference-class fit.

One job: turn the outside view (:mod:`forecast.reference`) into priors the
question's model can use, and write them to ``reference_priors.yaml`` in the
question directory, where ``prior_source`` in ``model.yaml`` can select them
(``elicited | reference_class | both``; see :func:`forecast.elicit.resolved_priors`).

The link, for each posterior draw of the reference fit:

1. The question is coded as a case (its ``reference_case.yaml``): fixed
   features with their values, and uncertain features tied to evidence
   variables (for Syria, ``escalation`` -> ``violence``, ...).
2. **Base rate.** The question's ``p_base`` is P(keep | every evidence state
   false); the matching case has every uncertain feature at the value its
   variable's *false* state implies (for a negated link, 1: no extradition
   means the red line stays refused).
3. **Horizon.** ``retained_5y`` is a five-year outcome; the question has its own
   horizon ``h`` years from its creation. Assuming a constant hazard of losing
   the bases, ``P(kept h years) = P(kept 5 years) ** (h / 5)``.
4. **Effects.** For each linked variable, the log odds ratio on the horizon
   scale between the case with that feature switched to the variable's *true*
   value and the base case. (With ``h = 5`` this is the feature's coefficient,
   sign-flipped for a negated link.)
5. The draws are summarised by moment-matched priors: a Beta for the base rate,
   a Normal for each log odds ratio.

Both bases get the same reference base rate: the reference class codes a
patron's presence in a host, not one facility. Variables with no feature (a new
basing agreement, integration of armed groups) keep their elicited effects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np

from forecast.config import (
    CASE_FILE,
    LINK_FILE,
    ConfigError,
    LinkedPriors,
    QuestionConfig,
    horizon_years,
    read_linked,
)
from forecast.reference import (
    FEATURES,
    REFERENCE_DIR,
    WINDOW_YEARS,
    ReferenceFit,
    case_coding,
    default_path,
    predict_draws,
)

#: Probabilities are kept this far from 0 and 1 before taking logits.
_EPS = 1e-12

METHOD = (
    "Posterior draws of the reference-class logistic regression for the question coded as a "
    "case (the question's reference_case.yaml); P(kept 5 years) converted to the "
    "question's horizon at a constant hazard, P_h = P_5 ** (h / 5); the base rate is the case "
    "with every evidence state false; each linked effect is the horizon-scale log odds ratio "
    "of switching its feature to the state's true value; summarised by moment-matched Beta "
    "(base rate) and Normal (log odds ratio) priors. Written by `forecast reference link`; "
    "do not edit by hand."
)


def beta_from_moments(x: np.ndarray) -> dict[str, float]:
    """The Beta with the mean and variance of the draws ``x`` (in (0, 1))."""
    m, v = float(np.mean(x)), float(np.var(x, ddof=1))
    if not 0.0 < v < m * (1.0 - m):
        raise ValueError(f"draws with mean {m:.4g} and variance {v:.4g} fit no Beta")
    c = m * (1.0 - m) / v - 1.0
    return {"alpha": m * c, "beta": (1.0 - m) * c}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return np.log(p) - np.log1p(-p)


def case_rows(config: QuestionConfig, fit: ReferenceFit):
    """The question as reference-class cases: the base case, then one per linked feature.

    Returns
    -------
    pandas.DataFrame
        ``case_id, patron, start_year`` and the features; row 0 has every
        evidence state false, row ``1 + j`` switches the ``j``-th uncertain
        feature to its variable's true value.
    """
    import pandas as pd

    coding = case_coding(config)
    base = {f: coding.fixed[f].value for f in coding.fixed}
    for f, u in coding.uncertain.items():
        base[f] = 1 if u.negate else 0  # the variable's state false
    rows = [{"case_id": f"{coding.case_id}:base", **base}]
    for f, u in coding.uncertain.items():
        rows.append({"case_id": f"{coding.case_id}:{u.variable}",
                     **base, f: 0 if u.negate else 1})
    frame = pd.DataFrame(rows)
    frame["patron"] = coding.patron
    frame["start_year"] = coding.start_year
    return frame[["case_id", "patron", "start_year", *FEATURES]]


def derive(config: QuestionConfig, fit: ReferenceFit, *, seed: int | None = None,
           today: dt.date | None = None) -> LinkedPriors:
    """Priors for the question's base rates and linked effects, from the reference fit.

    Parameters
    ----------
    config
        The validated question (its variables must include the coded ones).
    fit
        The reference-class fit (:func:`forecast.reference.fit_reference`).
    seed
        For the intercept of a patron the fit has not seen (default: the fit's seed).

    Returns
    -------
    LinkedPriors
        The content of ``reference_priors.yaml``, validated.
    """
    coding = case_coding(config)
    rows = case_rows(config, fit)
    p5 = predict_draws(fit, rows, seed=seed)  # (S, 1 + U), one intercept draw per row
    years = horizon_years(config.question)
    ph = np.clip(p5, _EPS, 1.0 - _EPS) ** (years / WINDOW_YEARS)
    eta = _logit(ph)
    mass = fit.settings.credible_mass
    tail = (1 - mass) / 2

    def summary(x: np.ndarray) -> dict[str, float]:
        lo, hi = np.quantile(x, [tail, 1 - tail])
        return {"mean": float(np.mean(x)), "lower": float(lo), "upper": float(hi)}

    fixed_text = ", ".join(f"{f}={coding.fixed[f].value}" for f in coding.fixed)
    base_draws = ph[:, 0]
    baseline = {
        "dist": {"dist": "Beta", "kwargs": beta_from_moments(base_draws)},
        **summary(base_draws),
        "rationale": (
            f"P(kept {years:.2f} years) for {coding.patron} in the reference class "
            f"({fixed_text}; every evidence state false), from P(kept {WINDOW_YEARS} years) at "
            f"a constant hazard; both bases alike (the cases code a patron's presence, not "
            f"one facility)."),
    }
    effects = {}
    for j, (feature, u) in enumerate(coding.uncertain.items(), start=1):
        d = eta[:, j] - eta[:, 0]
        effects[u.variable] = {
            "dist": {"dist": "Normal", "kwargs": {"mu": float(np.mean(d)),
                                                  "sigma": float(np.std(d, ddof=1))}},
            **summary(d),
            "feature": feature,
            "negate": u.negate,
            "rationale": (
                f"Log odds ratio of {'NOT ' if u.negate else ''}{feature} on keeping the "
                f"bases {years:.2f} years, from the reference-class coefficient at the base "
                f"case. {u.rationale}"),
        }
    cases_path, settings_path = default_path("cases.csv"), default_path("model.yaml")
    content = {
        "schema_version": 1,
        "question": config.id,
        "generated": (today or dt.date.today()),
        "method": METHOD,
        "reference": {
            "directory": REFERENCE_DIR.as_posix(),
            "cases_sha256": _sha256(cases_path),
            "settings_sha256": _sha256(settings_path),
            "case_sha256": _sha256(config.directory / CASE_FILE),
            "n_cases": int(fit.cases.shape[0]),
            "draws": int(p5.shape[0]),
            "seed": int(fit.settings.sampler.seed if seed is None else seed),
        },
        "window_years": float(WINDOW_YEARS),
        "horizon_years": float(years),
        "fixed": {f: coding.fixed[f].value for f in coding.fixed},
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
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


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
    import os
    import tempfile

    target = config.directory / LINK_FILE
    fd, tmp = tempfile.mkstemp(dir=config.directory, prefix=f".{LINK_FILE}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(to_yaml(linked))
            fh.flush()
            os.fsync(fh.fileno())
        if read_linked(Path(tmp)) != linked:
            raise RuntimeError(f"{target}: did not read back as written; nothing written")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
