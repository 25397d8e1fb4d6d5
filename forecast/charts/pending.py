"""The value of a pending report: where each probability goes if it arrives, or its opposite."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast import fmt
from forecast.charts import theme
from forecast.charts.theme import DOWN_COLOR, PALETTE, UP_COLOR


def plot_pending(table: pd.DataFrame, *, ax=None, title: str | None = None,
                 footer_text: str | None = None, xlabel: str = "Probability") -> Figure:
    """One row per outcome: the forecast now, if the report arrives, if its opposite does.

    Parameters
    ----------
    table
        :func:`forecast.information.pending_report`.
    ax
        Axes to draw on (a new figure when None).
    title, footer_text
        Chart title and provenance footer.
    xlabel
        The x-axis label (the question's ``wording.axis``).

    Returns
    -------
    matplotlib.figure.Figure
        A row per outcome, from the opposite's arrow to the report's.
    """
    wide = table.pivot(index="label", columns="scenario", values="p")
    words = table.pivot(index="label", columns="scenario", values="word")
    order = list(dict.fromkeys(table["label"]))
    with theme.style():
        fig, ax = theme.new_axes(ax, figsize=(9.0, 1.9 + 0.62 * len(order)))
        y = theme.label_rows(ax, order)
        for yi, label in zip(y, order, strict=True):
            row = wide.loc[label]
            ax.plot([row["if its opposite arrives"], row["if it arrives"]], [yi, yi],
                    color=PALETTE["grey"], lw=2, zorder=1)
            for scenario, color, marker in (("if its opposite arrives", DOWN_COLOR, "<"),
                                            ("if it arrives", UP_COLOR, ">"),
                                            ("now", PALETTE["black"], "o")):
                ax.scatter(row[scenario], yi, color=color, marker=marker, s=70, zorder=3,
                           label=scenario if yi == y[0] else None)
            for scenario, side in (("if its opposite arrives", -1), ("if it arrives", 1)):
                if words.loc[label, scenario] != words.loc[label, "now"]:
                    ax.annotate(f"{fmt.pct(row[scenario], whole=True)} "
                                f"{words.loc[label, scenario]}", (row[scenario], yi),
                                xytext=(6 * side, 9), textcoords="offset points", fontsize=9,
                                ha="left" if side > 0 else "right",
                                color=UP_COLOR if side > 0 else DOWN_COLOR)
        ax.set_xlim(0, 1)
        ticks = np.linspace(0, 1, 5)
        ax.set_xticks(ticks, [f"{t:.0%}" for t in ticks])
        ax.set_xlabel(xlabel)
        ax.set_title(title or "What a pending report would do (a changed word is named)",
                     loc="left")
        theme.legend_below(ax, ncols=3)
        theme.footer(fig, footer_text)
    return fig
