"""Helpers shared by the analyses: the per-draw headline quantities and an estimate's row."""

from __future__ import annotations

import numpy as np

from forecast.config import QuestionConfig
from forecast.exact import Enumerated
from forecast.posterior import Estimate


def _per_draw(values: Enumerated, config: QuestionConfig) -> dict[str, np.ndarray]:
    """The per-draw headline quantities (``config.headline_outcomes``)."""
    out = {b: values.p_keep[:, i] for i, b in enumerate(config.bases)}
    out["all"] = values.p_all
    out["any"] = values.p_any
    return {k: out[k] for k in config.headline_outcomes}


def _estimate_row(est: Estimate) -> dict[str, float]:
    return {"p": est.mean, "lower": est.lower, "upper": est.upper, "mcse": est.mcse,
            "ess": est.ess}
