"""Scenario matrix: P(keep) per outcome under interventions on the evidence variables."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast import fmt
from forecast.charts.theme import diverging_cmap, footer, new_axes, pct, style, wrap


def plot_scenarios(table: pd.DataFrame, *, outcomes: list[str] | None = None, ax=None,
                   title: str | None = None, footer_text: str | None = None) -> Figure:
    """Heat-map of :func:`forecast.analysis.scenarios`: rows scenarios, columns outcomes.

    Each cell shows the probability with its ICD 203 word and the change from the
    baseline in points; the colour is that change (blue up, vermillion down).

    Parameters
    ----------
    table
        Rows ``scenario, outcome, label, p, change_pp, word``; the baseline first.
    outcomes
        Columns to show (default: every outcome in the table).
    ax
        Axes to draw on (a new figure when None).
    title, footer_text
        Chart title (default: scenarios as the settling of evidence variables) and
        provenance footer.

    Returns
    -------
    matplotlib.figure.Figure
        The matrix (scenarios down, outcomes across) and its colour bar.
    """
    outcomes = outcomes or list(dict.fromkeys(table["outcome"]))
    names = list(dict.fromkeys(table["scenario"]))
    labels = table.drop_duplicates("outcome").set_index("outcome")["label"]
    cell = table.set_index(["scenario", "outcome"])
    change = np.array([[cell.loc[(s, o), "change_pp"] for o in outcomes] for s in names])
    limit = max(10.0, float(np.nanmax(np.abs(change))))
    with style():
        # Room for the row labels first (about 0.085 in per character at this size), so
        # that a question with one outcome still gets a readable column.
        label_in = 0.085 * min(max(len(n) for n in names), 60)
        fig, ax = new_axes(ax, figsize=(2.0 + label_in + 2.1 * len(outcomes),
                                        1.5 + 0.55 * len(names)))
        image = ax.imshow(change, cmap=diverging_cmap(), vmin=-limit, vmax=limit, aspect="auto")
        for i, s in enumerate(names):
            for j, o in enumerate(outcomes):
                r = cell.loc[(s, o)]
                text = f"{pct(r['p'])} {r['word']}"
                if i > 0:
                    text += f"\n{fmt.pp(r['change_pp'], digits=0)}"
                strong = abs(r["change_pp"]) > 0.6 * limit
                ax.text(j, i, text, ha="center", va="center", fontsize=9.5,
                        color="white" if strong else "black",
                        fontweight="bold" if i == 0 else "normal")
        ax.set_xticks(np.arange(len(outcomes)),
                      [wrap(labels[o], 16, split_words=False) for o in outcomes])
        ax.xaxis.tick_top()
        ax.set_yticks(np.arange(len(names)), names)
        ax.tick_params(length=0)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xticks(np.arange(len(outcomes) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(names) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", lw=2)
        ax.tick_params(which="minor", length=0)
        if "kind" in table:
            # A dark rule between the groups: named combinations, then one at a time.
            kinds = table.drop_duplicates("scenario").set_index("scenario")["kind"]
            for i in range(1, len(names)):
                if kinds[names[i]] != kinds[names[i - 1]]:
                    ax.axhline(i - 0.5, color="0.25", lw=1.5)
        bar = fig.colorbar(image, ax=ax, shrink=0.6, pad=0.02)
        bar.set_label("change from now (pp)")
        ax.set_title(title or "Scenarios: if evidence variables were settled", loc="left")
        footer(fig, footer_text)
    return fig
