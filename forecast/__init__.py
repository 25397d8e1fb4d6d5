"""forecast: Bayesian forecasts of geopolitical questions, updated as news arrives."""

__version__ = "0.1.0"
