"""The convergence gate: one check of a sampled fit, for the question and both outside views.

One job: R-hat, bulk and tail ESS and the MCSE of the mean of a fit's variables (ArviZ's
``arviz_stats``: rank-normalised split R-hat and ESS, Vehtari et al. 2021), its divergent
transitions, and the failures against a gate's thresholds. A gate gives the thresholds
it has (``r_hat_max``, ``ess_bulk_min``, ``divergences_max``; the question's model also
``ess_tail_min`` and ``mcse_max``), so each model is held to its own settings by the one
rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def variable_diagnostics(values: np.ndarray, *, mcse: bool = False) -> dict[str, Any]:
    """R-hat, bulk ESS, tail ESS (5% and 95% quantiles) of one variable's draws.

    ``values`` is ``(chain, draw, ...)``; the worst element is reported. With ``mcse``
    also the largest MCSE of the mean and the ESS of each element's mean (``ess_mean``).
    """
    from arviz_stats.base import array_stats

    x = np.asarray(values, dtype=float)
    x = np.moveaxis(x.reshape(*x.shape[:2], -1), -1, 0)  # (elements, chain, draw)
    out: dict[str, Any] = {
        "r_hat_max": float(np.nanmax(array_stats.rhat(x))),
        "ess_bulk_min": float(np.nanmin(array_stats.ess(x, method="bulk"))),
        "ess_tail_min": float(np.nanmin(array_stats.ess(x, method="tail", prob=(0.05, 0.95)))),
    }
    if mcse:
        out["mcse_max"] = float(np.nanmax(array_stats.mcse(x, method="mean")))
        out["ess_mean"] = [float(e) for e in array_stats.ess(x, method="mean")]
    return out


def divergences(tree) -> int:
    """The number of divergent transitions of a sampled DataTree."""
    return int(np.asarray(tree["sample_stats"]["diverging"].values).sum())


def failures(result: dict[str, float], gate: Any) -> list[str]:
    """What ``result`` fails of ``gate``'s thresholds, each as a line naming the number.

    A NaN fails every threshold (a diagnostic that could not be computed is no pass).
    """
    checks: Iterable[tuple[str, str, str, str]] = (
        ("r_hat_max", "r_hat_max", "R-hat {:.4f} > {}", "max"),
        ("ess_bulk_min", "ess_bulk_min", "bulk ESS {:.0f} < {:.0f}", "min"),
        ("ess_tail_min", "ess_tail_min", "tail ESS {:.0f} < {:.0f}", "min"),
        ("divergences", "divergences_max", "{} divergent transitions > {}", "max"),
        ("mcse_max", "mcse_max", "MCSE {:.4f} > {}", "max"),
    )
    out = []
    for key, limit_name, text, kind in checks:
        limit = getattr(gate, limit_name, None)
        if limit is None or key not in result:
            continue
        value = result[key]
        ok = value <= limit if kind == "max" else value >= limit
        if not ok:
            out.append(text.format(value, limit))
    return out
