"""News-item contribution waterfall: how many percentage points each item moved P(keep)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast.charts.theme import (
    DOWN_COLOR,
    PALETTE,
    PRIOR_COLOR,
    UP_COLOR,
    footer,
    pct,
    style,
    subplots,
)
from forecast.tables import estimative_word


def plot_contributions(table: pd.DataFrame, *, outcomes: list[str] | None = None, ax=None,
                       title: str | None = None, footer_text: str | None = None,
                       xlabel: str = "Probability") -> Figure:
    """Waterfall of :func:`forecast.analysis.contributions`, one panel per outcome.

    The first bar is the forecast before any news, each following bar the move
    of one item (blue up, vermillion down, in points), the last bar the forecast
    after every item. A step whose reweighting is not trusted is hatched.

    Parameters
    ----------
    table
        Rows ``step, item, date, headline, outcome, label, before, after, change_pp,
        trusted``.
    outcomes
        Which outcomes to draw (default: every base; ``all`` if there is one base).
    ax
        Axes to draw on (then only the first outcome is drawn).
    title, footer_text
        Chart title and provenance footer.
    xlabel
        The x-axis label (the question's ``wording.probability``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if outcomes is None:
        outcomes = [o for o in dict.fromkeys(table["outcome"]) if o not in ("all", "any")]
    steps = table.drop_duplicates("step").sort_values("step")
    names = ["Before any news"] + [
        _label(r) for r in steps.iloc[1:].itertuples()] + ["After all news"]
    with style():
        if ax is None:
            fig, axes = subplots(1, len(outcomes), sharey=True,
                                 figsize=(4.2 * len(outcomes) + 3.0, 1.6 + 0.5 * len(names)))
            axes = np.atleast_1d(axes)
        else:
            fig, axes = ax.figure, np.array([ax])
            outcomes = outcomes[:1]
        for a, outcome in zip(axes, outcomes, strict=True):
            _panel(a, table[table["outcome"] == outcome].sort_values("step"), names, xlabel)
        axes[0].set_yticks(np.arange(len(names))[::-1], names)
        fig.suptitle(title or "What each news item did to the forecast", x=0.0, ha="left",
                     fontsize=14, fontweight="bold")
        if footer_text:
            footer(fig, footer_text)
    return fig


def _label(r) -> str:
    text = f"{r.date} {r.headline}" if r.date is not None else str(r.headline)
    return text if len(text) <= 42 else text[:40] + "…"


def _panel(ax, rows: pd.DataFrame, names: list[str], xlabel: str) -> None:
    n = len(names)
    y = np.arange(n)[::-1]
    first, last = rows.iloc[0], rows.iloc[-1]
    ax.barh(y[0], first["after"], color=PRIOR_COLOR, height=0.6)
    ax.barh(y[-1], last["after"], color=PALETTE["black"], height=0.6, alpha=0.8)
    for yi, value in ((y[0], first["after"]), (y[-1], last["after"])):
        ax.annotate(f"{pct(value)} {estimative_word(value)}", (value, yi), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=10, fontweight="bold")
    for i, r in enumerate(rows.iloc[1:].itertuples(), start=1):
        left, width = min(r.before, r.after), abs(r.after - r.before)
        color = UP_COLOR if r.after >= r.before else DOWN_COLOR
        ax.barh(y[i], max(width, 0.002), left=left, color=color, height=0.6,
                hatch=None if r.trusted else "//", alpha=1.0 if r.trusted else 0.5)
        ax.plot([r.before, r.before], [y[i - 1] - 0.3, y[i] + 0.3], color=PALETTE["grey"], lw=0.8)
        note = f"{r.change_pp:+.1f} pp" + ("" if r.trusted else " (k-hat high: not trusted)")
        ax.annotate(note, (max(r.before, r.after), y[i]), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=9.5, color=color)
    ax.set_xlim(0, 1.25)
    ticks = np.linspace(0, 1, 5)
    ax.set_xticks(ticks, [f"{t:.0%}" for t in ticks])
    ax.set_title(str(first["label"]), loc="left", fontsize=12)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
