"""The forecast under each prior source: elicited, reference class, both pooled."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from forecast.charts.theme import (
    PALETTE,
    PRIOR_COLOR,
    footer,
    legend_below,
    new_axes,
    pct,
    style,
)

#: One colour per source, the same in every chart.
SOURCE_COLORS = {"elicited": PALETTE["blue"], "reference_class": PALETTE["orange"],
                 "both": PALETTE["green"]}


def plot_prior_sources(table: pd.DataFrame, *, outcomes: list[str] | None = None, ax=None,
                       title: str | None = None, footer_text: str | None = None,
                       xlabel: str = "Probability on the horizon date",
                       mass: float = 0.9) -> Figure:
    """Dot-and-interval chart of :func:`forecast.analysis.compare_prior_sources`.

    One group of rows per outcome, one row per prior source; on each row the
    prior (grey, hollow) and the posterior given the news (the source's colour).

    Parameters
    ----------
    table
        Rows with ``source, source_label, stage, outcome, label, p, lower, upper``.
    outcomes
        Which outcomes to show, in order (default: every one but ``any``).
    ax
        Axes to draw on (a new figure when None).
    title, footer_text, xlabel
        Chart title, provenance footer and x-axis label.
    mass
        The credible mass of the intervals, for the legend.

    Returns
    -------
    matplotlib.figure.Figure
    """
    outcomes = outcomes or [o for o in dict.fromkeys(table["outcome"]) if o != "any"]
    sources = list(dict.fromkeys(table["source"]))
    labels = table.drop_duplicates("source").set_index("source")["source_label"]
    n_rows = len(outcomes) * (len(sources) + 1) - 1
    with style():
        fig, ax = new_axes(ax, figsize=(8.5, 1.8 + 0.42 * n_rows))
        yticks, yticklabels = [], []
        y = n_rows - 1
        for outcome in outcomes:
            rows = table[table["outcome"] == outcome]
            name = rows["label"].iloc[0]
            ax.text(-0.02, y + 0.55, name, transform=ax.get_yaxis_transform(), ha="right",
                    va="bottom", fontweight="bold", fontsize=11)
            for source in sources:
                for stage, dy in (("prior", 0.14), ("posterior", -0.14)):
                    r = rows[(rows["source"] == source) & (rows["stage"] == stage)]
                    if r.empty:
                        continue
                    r = r.iloc[0]
                    color = PRIOR_COLOR if stage == "prior" else SOURCE_COLORS.get(source, "k")
                    ax.hlines(y + dy, r["lower"], r["upper"], color=color, lw=2.5, alpha=0.85)
                    ax.plot(r["p"], y + dy, "o", ms=8, color=color,
                            mfc="white" if stage == "prior" else color)
                    if stage == "posterior":
                        ax.annotate(pct(r["p"]), (r["upper"], y + dy), xytext=(6, 0),
                                    textcoords="offset points", va="center", fontsize=10,
                                    fontweight="bold", color=color)
                yticks.append(y)
                yticklabels.append(labels[source])
                y -= 1
            y -= 1
        ax.set_yticks(yticks, yticklabels)
        ax.set_ylim(-0.7, n_rows + 0.2)
        ax.set_xlim(0, 1.1)
        ticks = np.linspace(0, 1, 6)
        ax.set_xticks(ticks, [f"{t:.0%}" for t in ticks])
        ax.axvline(0.5, color="0.6", lw=1, ls=":")
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
        handles = [
            Line2D([], [], color=PRIOR_COLOR, marker="o", mfc="white", lw=2.5,
                   label=f"prior, {mass:.0%} interval"),
            *[Line2D([], [], color=SOURCE_COLORS.get(s, "k"), marker="o", lw=2.5,
                     label=f"posterior: {labels[s]}") for s in sources],
        ]
        legend_below(ax, handles, [h.get_label() for h in handles], ncols=2)
        if title:
            ax.set_title(title, loc="left")
        footer(fig, footer_text)
    return fig
