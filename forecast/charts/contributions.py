"""Shapley credit waterfall: how many percentage points each thread of news moved P(keep)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast import fmt
from forecast.charts.theme import (
    DOWN_COLOR,
    PALETTE,
    PRIOR_COLOR,
    UP_COLOR,
    footer,
    style,
    subplots,
    wrap,
)
from forecast.tables import estimative_word

#: The default title: the credits are Shapley values, so the news's order does not matter.
TITLE = ("What moved the forecast: Shapley credit by thread, independent of the order of "
         "the news")


def plot_contributions(table: pd.DataFrame, *, outcomes: list[str] | None = None, ax=None,
                       title: str | None = None, footer_text: str | None = None,
                       xlabel: str = "Probability") -> Figure:
    """Waterfall of :func:`forecast.analysis.contributions` by group, one panel per outcome.

    The first bar is the forecast before any news, each following bar the Shapley
    credit of one group of items (a thread, or the variable the items bear on; blue
    up, vermillion down, in points: the sum of its items' credits), the last bar
    the forecast given all the news. The credits do not depend on the order of the
    news; the groups come in the order of the table's steps. A group whose
    reweighting is not trusted is hatched.

    Parameters
    ----------
    table
        Rows ``step, item, date, headline, group, group_label, outcome, label,
        before, after, change_pp, trusted``; without ``group`` each item is its own bar.
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
    first = table[table["outcome"] == outcomes[0]]
    names = ["Before any news", *(g["name"] for g in _groups(first)), "After all news"]
    lines = sum(name.count("\n") for name in names)
    with style():
        if ax is None:
            fig, axes = subplots(1, len(outcomes), sharey=True,
                                 figsize=(3.8 * len(outcomes) + 2.8,
                                          2.0 + 0.48 * len(names) + 0.16 * lines))
            axes = np.atleast_1d(axes)
        else:
            fig, axes = ax.figure, np.array([ax])
            outcomes = outcomes[:1]
        for a, outcome in zip(axes, outcomes, strict=True):
            _panel(a, table[table["outcome"] == outcome], len(names), xlabel)
        axes[0].set_yticks(np.arange(len(names))[::-1], names)
        fig.suptitle(_balanced(title or TITLE, fig.get_figwidth()), x=0.0, ha="left",
                     fontsize=14, fontweight="bold")
        footer(fig, footer_text)
    return fig


def _balanced(text: str, width_in: float, size: float = 14) -> str:
    """``text`` in as few lines as fit ``width_in`` inches, of about equal length."""
    per_line = max(24, int(width_in * 72 / (size * 0.64)))
    lines = -(-len(text) // per_line)
    return wrap(text, min(per_line, -(-len(text) // lines) + 6), split_words=False)


def _groups(rows: pd.DataFrame) -> list[dict]:
    """The steps after the first of one outcome, merged into runs of the same group.

    Each run: ``name`` (its label and item count), ``before`` (the forecast before its
    first item), ``after`` (after its last), ``change_pp`` (the sum of its items'
    credits) and ``trusted`` (every item's reweighting trusted).
    """
    runs: list[dict] = []
    for r in rows.sort_values("step").iloc[1:].itertuples():
        group = str(getattr(r, "group", "") or "")
        key = group or f"item:{r.item}"
        if not runs or runs[-1]["key"] != key:
            label = str(getattr(r, "group_label", "") or "") or group
            runs.append({"key": key, "label": label, "headline": str(r.headline), "items": 0,
                         "before": r.before, "after": r.after, "change_pp": 0.0,
                         "trusted": True})
        run = runs[-1]
        run["items"] += 1
        run["after"] = r.after
        run["change_pp"] += float(r.change_pp)
        run["trusted"] = run["trusted"] and bool(r.trusted)
    for run in runs:
        if run["label"]:
            count = f"{run['items']} item{'' if run['items'] == 1 else 's'}"
            # the count stays whole on the label's last line (or a line of its own)
            name = wrap(run["label"], 30, split_words=False).split("\n")
            fits = len(name[-1]) + len(count) + 3 <= 30
            name = [*name[:-1], f"{name[-1]} ({count})"] if fits else [*name, f"({count})"]
            run["name"] = "\n".join(name)
        else:  # an item of its own (a table without groups)
            run["name"] = wrap(run["headline"], 30, split_words=False)
    return runs


def _panel(ax, rows: pd.DataFrame, n: int, xlabel: str) -> None:
    y = np.arange(n)[::-1]
    rows = rows.sort_values("step")
    start, end = float(rows.iloc[0]["after"]), float(rows.iloc[-1]["after"])
    ax.barh(y[0], start, color=PRIOR_COLOR, height=0.6)
    ax.barh(y[-1], end, color=PALETTE["black"], height=0.6, alpha=0.8)
    for yi, value in ((y[0], start), (y[-1], end)):
        ax.annotate(f"{fmt.pct(value, whole=True)} {estimative_word(value)}", (value, yi),
                    xytext=(4, 0), textcoords="offset points", va="center", fontsize=10,
                    fontweight="bold")
    for i, g in enumerate(_groups(rows), start=1):
        note = fmt.pp(g["change_pp"])
        zero = note == fmt.pp(0.0)
        color = PALETTE["grey"] if zero else UP_COLOR if g["change_pp"] > 0 else DOWN_COLOR
        left, width = min(g["before"], g["after"]), abs(g["after"] - g["before"])
        ax.barh(y[i], max(width, 0.002), left=left, color=color, height=0.6,
                hatch=None if g["trusted"] else "//", alpha=1.0 if g["trusted"] else 0.5)
        ax.plot([g["before"]] * 2, [y[i - 1] - 0.3, y[i] + 0.3], color=PALETTE["grey"], lw=0.8)
        note += "" if g["trusted"] else " (k-hat high: not trusted)"
        ax.annotate(note, (max(g["before"], g["after"]), y[i]), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=10, color=color)
    ax.plot([end] * 2, [y[-2] - 0.3, y[-1] + 0.3], color=PALETTE["grey"], lw=0.8)
    ax.set_xlim(0, 1.25)
    ax.set_ylim(-0.6, n - 0.4)
    ticks = np.linspace(0, 1, 5)
    ax.set_xticks(ticks, [f"{t:.0%}" for t in ticks])
    ax.set_title(str(rows.iloc[0]["label"]), loc="left", fontsize=12)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.set_axisbelow(True)
