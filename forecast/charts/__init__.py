"""Charts: one function per chart, each taking a tidy table and returning a Figure.

The chart modules are imported when first used (PEP 562): ``forecast run`` draws one
chart and should not pay for importing all of them (about a second).
"""

from __future__ import annotations

import importlib

#: Where each public name lives.
_WHERE = {
    "FORMATS": "theme",
    "plot_coefficients": "outside_view",
    "plot_contributions": "contributions",
    "plot_diagnostics": "diagnostics",
    "plot_headline": "headline",
    "plot_history": "history",
    "plot_pending": "pending",
    "plot_prior_sources": "prior_sources",
    "plot_priors": "priors",
    "plot_ranks": "diagnostics",
    "plot_reliability": "outside_view",
    "plot_scenarios": "scenarios",
    "plot_tornado": "tornado",
    "plot_voi": "voi",
    "save": "theme",
    "style": "theme",
}

__all__ = sorted([*_WHERE, "theme"])


def __getattr__(name: str):
    if name == "theme":
        return importlib.import_module("forecast.charts.theme")
    if name in _WHERE:
        value = getattr(importlib.import_module(f"forecast.charts.{_WHERE[name]}"), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'forecast.charts' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
