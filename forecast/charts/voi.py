"""Value of information: how much learning each evidence variable would move P(keep)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast.charts.theme import OUTCOME_COLORS, PALETTE, footer, new_axes, style


def plot_voi(table: pd.DataFrame, *, outcomes: list[str] | None = None, ax=None,
             title: str | None = None, footer_text: str | None = None,
             mass: float = 0.9, probability: str = "P(yes)") -> Figure:
    """Bars of :func:`forecast.analysis.value_of_information`, variables by their value.

    Parameters
    ----------
    table
        Rows ``variable, label, outcome, outcome_label, voi_pp, voi_lower_pp, voi_upper_pp``.
    outcomes
        Which outcomes (default: every base).
    ax
        Axes to draw on (a new figure when None).
    title, footer_text
        Chart title and provenance footer.
    probability
        How the question names its probability (``wording.probability``).
    mass
        Credible mass of the whiskers, for the legend.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if outcomes is None:
        outcomes = [o for o in dict.fromkeys(table["outcome"]) if o not in ("all", "any")]
    order = (table[table["outcome"].isin(outcomes)].groupby("variable", sort=False)["voi_pp"]
             .max().sort_values(ascending=True).index.tolist())
    labels = table.drop_duplicates("variable").set_index("variable")["label"]
    height = 0.8 / len(outcomes)
    with style():
        fig, ax = new_axes(ax, figsize=(9.0, 1.8 + 0.6 * len(order) * max(1, len(outcomes) / 2)))
        y = np.arange(len(order))
        for j, outcome in enumerate(outcomes):
            rows = table[table["outcome"] == outcome].set_index("variable").loc[order]
            yy = y + (j - (len(outcomes) - 1) / 2) * height
            color = OUTCOME_COLORS[j % len(OUTCOME_COLORS)]
            ax.barh(yy, rows["voi_pp"], height=height * 0.9, color=color,
                    label=str(rows["outcome_label"].iloc[0]))
            ax.errorbar(rows["voi_pp"], yy, xerr=[rows["voi_pp"] - rows["voi_lower_pp"],
                                                  rows["voi_upper_pp"] - rows["voi_pp"]],
                        fmt="none", ecolor=PALETTE["black"], elinewidth=1, capsize=2, alpha=0.6)
            for yi, v, hi in zip(yy, rows["voi_pp"], rows["voi_upper_pp"], strict=True):
                ax.annotate(f"{v:.1f}", (hi, yi), xytext=(4, 0), textcoords="offset points",
                            va="center", fontsize=9, color=color)
        ax.set_yticks(y, [labels[v] for v in order])
        ax.set_xlim(0, float(table["voi_upper_pp"].max()) * 1.15 + 0.5)
        ax.set_xlabel(f"Expected change in {probability} from learning the answer "
                      "(percentage points)")
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right", title=f"mean; whiskers {mass:.0%} interval over draws",
                  title_fontsize=9, frameon=True, framealpha=0.9)
        ax.set_title(title or "What is worth finding out", loc="left")
        footer(fig, footer_text)
    return fig
