"""The forecast under each prior source, and the linked priors side by side.

The base rates and linked effects from the elicited intervals, the reference class,
or both pooled (``prior_source``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from forecast.analysis._common import _estimate_row, _per_draw
from forecast.config import PRIOR_SOURCES, QuestionConfig
from forecast.elicit import prior_origins, resolved_priors
from forecast.engine import NeedsRefitError, compute, importance_forecast, prior_forecast
from forecast.ledger import NewsItem
from forecast.tables import outcome_labels

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
            lo, hi = pri.p_base.quantiles(i, [tail, 1 - tail])
            rows.append({"parameter": f"p_base[{base}]",
                         "label": f"Base rate: {config.question.outcomes[i].name}",
                         "scale": "probability", "source": source,
                         "mean": pri.p_base.mean(i), "lower": lo, "upper": hi})
        for k, var in enumerate(config.variables):
            if var not in config.linked.effects:
                continue
            lo, hi = pri.effect_mu.quantiles(k, [tail, 1 - tail])
            rows.append({"parameter": f"effect_mu[{var}]",
                         "label": f"Effect: {config.evidence.variables[k].label}",
                         "scale": "log odds ratio", "source": source,
                         "mean": pri.effect_mu.mean(k), "lower": lo, "upper": hi})
    table = pd.DataFrame(rows)
    table["used"] = table["source"] == config.prior_source
    return table
