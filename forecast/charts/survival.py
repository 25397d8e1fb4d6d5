"""The survival chart: P(kept) by years since the shock, for each source."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from forecast.charts.theme import PALETTE, footer, new_axes, style, wrap
from forecast.fmt import interval, pct

_CURVES = (PALETTE["grey"], PALETTE["blue"], PALETTE["sky"])
_POINTS = (PALETTE["vermillion"], PALETTE["purple"], PALETTE["black"], PALETTE["orange"])


def plot_survival(table: pd.DataFrame, *, ax=None, title: str | None = None,
                  footer_text: str | None = None, mass: float = 0.9) -> Figure:
    """History's survival curves with bands, and other models' points at the horizon.

    Parameters
    ----------
    table
        :func:`forecast.history_view.survival_table`: ``source, kind, year, p, lower,
        upper`` (and ``attrs["horizon_years"]``).
    ax
        Axes to draw on (a new figure when None).
    title, footer_text
        Chart title and provenance footer.
    mass
        The intervals' mass, for the legend.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_survival(survival_table(config, fit))  # doctest: +SKIP
    """
    horizon = table.attrs.get("horizon_years")
    with style():
        fig, ax = new_axes(ax, figsize=(8.5, 5.2))
        curves = [s for s in dict.fromkeys(table["source"]) if
                  (table.loc[table["source"] == s, "kind"] == "curve").all()]
        for color, source in zip(_CURVES, curves, strict=False):
            rows = table[table["source"] == source]
            label = source
            if horizon is not None:  # the value at the horizon goes in the key, not on the plot
                at = rows.iloc[(rows["year"] - horizon).abs().argmin()]
                label = f"{source}: {pct(at.p)} ({interval(at.lower, at.upper)}) at the horizon"
            ax.fill_between(rows["year"], rows["lower"], rows["upper"], color=color, alpha=0.18,
                            lw=0)
            ax.plot(rows["year"], rows["p"], color=color, lw=2.2, label=label)
        points = table[table["kind"] == "point"]
        for i, (color, r) in enumerate(zip(_POINTS, points.itertuples(), strict=False)):
            x = r.year + 0.07 * (i + 1)
            ax.errorbar([x], [r.p], yerr=[[r.p - r.lower], [r.upper - r.p]], fmt="o",
                        color=color, ms=7, capsize=4, lw=2, zorder=4,
                        label=f"{r.source}: {pct(r.p)} ({interval(r.lower, r.upper)})")
        if horizon is not None:
            ax.axvline(horizon, color=PALETTE["black"], lw=1, ls="--", alpha=0.6)
            ax.text(horizon, 0.02, " question's horizon", fontsize=9, color=PALETTE["black"],
                    va="bottom")
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0, float(table["year"].max()) + 0.3)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("Years since the shock (the fall of the host's government)")
        ax.set_ylabel(f"P(still kept): mean and {mass:.0%} interval")
        # below the axes: the bands fill the plot, and a key over them hides what it explains
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.13), fontsize=9, frameon=False)
        ax.set_title(wrap(title or "How long bases last after a shock: history and the analysts",
                          64), loc="left")
        footer(fig, footer_text)
    return fig
