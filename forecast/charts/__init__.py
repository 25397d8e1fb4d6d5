"""Charts: one function per chart, each taking a tidy table and returning a Figure."""

from forecast.charts.headline import plot_headline
from forecast.charts.theme import FORMATS, save, style

__all__ = ["FORMATS", "plot_headline", "save", "style"]
