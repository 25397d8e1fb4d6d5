"""forecast: Bayesian forecasts of geopolitical questions, updated as news arrives.

The public API, imported lazily so that the command line stays fast::

    import forecast
    config = forecast.load_question("priors/russia_syria_bases")
    result = forecast.update(config, {...news item...})
    table = forecast.history(config)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API = {
    "load_question": "forecast.config",
    "load_ledger": "forecast.ledger",
    "compute": "forecast.engine",
    "prior_forecast": "forecast.engine",
    "update": "forecast.news",
    "history": "forecast.news",
}
__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")
