"""The convergence gate of both outside-view fits (the old logistic and the hazard model).

One job: R-hat, bulk ESS and divergences of a fit's sampled parameters against the
``gate`` of its settings (:func:`diagnose`), and a :class:`ConvergenceWarning` when a
fit fails it (:func:`report_gate`).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from forecast.errors import ConvergenceWarning
from forecast.gate import divergences, failures, variable_diagnostics

if TYPE_CHECKING:
    from forecast.reference_settings import ReferenceGate


def report_gate(diagnostics: dict, what: str) -> None:
    """Warn (:class:`ConvergenceWarning`) when a fit failed its gate. Library code does
    not print: the warning is what a caller (the command line, a notebook) sees."""
    if diagnostics["passed"]:
        return
    message = f"{what} FAILED the convergence gate: " + "; ".join(diagnostics["failures"])
    warnings.warn(message, ConvergenceWarning, stacklevel=3)


def diagnose(tree, gate: ReferenceGate,
             names: tuple[str, ...] = ("alpha", "sigma_group", "z_group", "beta")) -> dict:
    """R-hat, bulk ESS and divergences of the sampled parameters ``names``, against the gate
    (the one rule of :mod:`forecast.gate`; this gate sets no tail-ESS or MCSE limit)."""
    post = tree["posterior"]
    per_var = {name: variable_diagnostics(post[name].values) for name in names}
    out = {
        "r_hat_max": max(v["r_hat_max"] for v in per_var.values()),
        "ess_bulk_min": min(v["ess_bulk_min"] for v in per_var.values()),
        "divergences": divergences(tree),
        "chains": int(post.sizes["chain"]),
        "draws": int(post.sizes["draw"]),
        "per_variable": per_var,
    }
    out["failures"] = failures(out, gate)
    out["passed"] = not out["failures"]
    return out
