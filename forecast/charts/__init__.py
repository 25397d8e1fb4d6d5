"""Charts: one function per chart, each taking a tidy table and returning a Figure."""

from forecast.charts import theme
from forecast.charts.contributions import plot_contributions
from forecast.charts.diagnostics import plot_diagnostics
from forecast.charts.headline import plot_headline
from forecast.charts.history import plot_history
from forecast.charts.outside_view import plot_coefficients, plot_reliability
from forecast.charts.pending import plot_pending
from forecast.charts.prior_sources import plot_prior_sources
from forecast.charts.priors import plot_priors
from forecast.charts.scenarios import plot_scenarios
from forecast.charts.theme import FORMATS, save, style
from forecast.charts.tornado import plot_tornado
from forecast.charts.voi import plot_voi

__all__ = [
    "FORMATS",
    "plot_coefficients",
    "plot_contributions",
    "plot_diagnostics",
    "plot_headline",
    "plot_history",
    "plot_pending",
    "plot_prior_sources",
    "plot_priors",
    "plot_reliability",
    "plot_scenarios",
    "plot_tornado",
    "plot_voi",
    "save",
    "style",
    "theme",
]
