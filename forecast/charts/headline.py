"""The headline chart: P(keep) per base with its credible interval, prior beside posterior."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast.charts.theme import (
    POSTERIOR_COLOR,
    PRIOR_COLOR,
    footer,
    label_rows,
    legend_below,
    new_axes,
    style,
)


def plot_headline(table: pd.DataFrame, *, ax=None, title: str | None = None,
                  footer_text: str | None = None, mass: float = 0.9,
                  xlabel: str = "Probability on the horizon date") -> Figure:
    """Dot-and-interval chart of :func:`forecast.tables.headline_table`.

    Parameters
    ----------
    table
        Rows with ``stage, label, p, lower, upper, word``.
    ax
        Axes to draw on (a new figure when None).
    title, footer_text
        Chart title and provenance footer.
    mass
        The credible mass of the intervals, for the legend.
    xlabel
        The x-axis label (the question's ``wording.axis``).

    Returns
    -------
    matplotlib.figure.Figure
        A row per outcome: its interval and mean, prior above posterior.
    """
    with style():
        fig, ax = new_axes(ax, figsize=(8.5, 1.6 + 0.75 * table["label"].nunique()))
        labels = list(dict.fromkeys(table["label"]))
        y = label_rows(ax, labels, pad=0.3)
        stages = [s for s in ("prior", "posterior") if s in set(table["stage"])]
        offsets = {"prior": 0.17, "posterior": -0.17} if len(stages) == 2 else {stages[0]: 0.0}
        colors = {"prior": PRIOR_COLOR, "posterior": POSTERIOR_COLOR}
        for stage in stages:
            rows = table[table["stage"] == stage].set_index("label").loc[labels]
            yy = y + offsets[stage]
            ax.hlines(yy, rows["lower"], rows["upper"], color=colors[stage], lw=3, alpha=0.8)
            ax.plot(rows["p"], yy, "o", color=colors[stage], ms=9,
                    label=f"{stage} mean, {mass:.0%} interval")
            if stage == "posterior" or len(stages) == 1:
                for yi, (_, r) in zip(yy, rows.iterrows(), strict=True):
                    ax.annotate(f"{r['p']:.0%} {r['word']}", (r["upper"], yi),
                                xytext=(8, 0), textcoords="offset points", va="center",
                                fontsize=11, fontweight="bold", color=colors[stage])
        ax.set_xlim(0, 1.18)
        ax.set_xticks(np.linspace(0, 1, 6), [f"{x:.0%}" for x in np.linspace(0, 1, 6)])
        ax.axvline(0.5, color="0.6", lw=1, ls=":")
        ax.set_xlabel(xlabel)
        legend_below(ax, ncols=2)
        if title:
            ax.set_title(title, loc="left")
        footer(fig, footer_text)
    return fig
