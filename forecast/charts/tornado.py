"""Sensitivity tornado: how far a headline probability moves when each input is pushed."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from forecast.analysis import tornado_table
from forecast.charts.theme import (
    DOWN_COLOR,
    PALETTE,
    UP_COLOR,
    footer,
    label_rows,
    legend_below,
    new_axes,
    pct,
    style,
)
from forecast.tables import estimative_word


def plot_tornado(table: pd.DataFrame, *, outcome: str = "all", top: int = 14, ax=None,
                 title: str | None = None, footer_text: str | None = None) -> Figure:
    """Tornado of :func:`forecast.analysis.sensitivity` for one outcome.

    One row per input (largest swing on top): the solid bar is the change with
    the input at the high end of its interval, the hatched bar at the low end.
    Rows that no importance path can carry (Pareto k-hat above the threshold both
    reweighting the fit and from fresh prior draws) are not drawn as bars but
    listed at the bottom with their k-hat.

    Parameters
    ----------
    table
        The long sensitivity table (``parameter, label, end, outcome, change_pp,
        baseline, setting, khat, trusted``).
    outcome
        Which outcome (``all``, ``any`` or a base id).
    top
        How many trusted inputs to show.
    ax
        Axes to draw on (a new figure when None).
    title, footer_text
        Chart title (default: what the forecast of ``outcome`` is sensitive to) and
        provenance footer.

    Returns
    -------
    matplotlib.figure.Figure
        A bar pair per input, the baseline at zero.
    """
    wide = tornado_table(table, outcome)
    trusted = wide[wide["trusted"]].head(top)
    untrusted = wide[~wide["trusted"]]
    rows = pd.concat([trusted, untrusted], ignore_index=True)
    sub = table[table["outcome"] == outcome]
    baseline = float(sub["baseline"].iloc[0])
    outcome_label = str(sub["outcome_label"].iloc[0])
    with style():
        labels = [_two_lines(lbl) for lbl in rows["label"]]
        # A row with a label on two lines needs the height of two lines of tick text
        # (11 pt) and a gap, so that neighbouring labels never touch.
        pitch = 0.56 if any("\n" in lbl for lbl in labels) else 0.42
        fig, ax = new_axes(ax, figsize=(10.0, 1.8 + pitch * len(rows)))
        y = label_rows(ax, labels)
        span = max(2.0, float(np.nanmax(np.abs(trusted[["low_pp", "high_pp"]].to_numpy())))
                   if not trusted.empty else 2.0)
        for yi, r in zip(y, rows.itertuples(), strict=True):
            if not r.trusted:
                ax.text(0, yi, f"not trusted: Pareto k-hat {r.khat:.2f}; needs a refit",
                        ha="center", va="center", fontsize=9.5, color=PALETTE["grey"],
                        style="italic")
                continue
            for value, hatch, setting in ((r.low_pp, "///", r.low_setting),
                                          (r.high_pp, None, r.high_setting)):
                color = UP_COLOR if value >= 0 else DOWN_COLOR
                ax.barh(yi, value, height=0.62, color=color if hatch is None else "white",
                        edgecolor=color, hatch=hatch, lw=1.2)
                ax.annotate(_setting(setting), (value, yi),
                            xytext=(4 if value >= 0 else -4, 0), textcoords="offset points",
                            ha="left" if value >= 0 else "right", va="center", fontsize=8.5,
                            color=PALETTE["black"])
        ax.axvline(0, color=PALETTE["black"], lw=1)
        ax.set_xlim(-1.6 * span, 1.6 * span)
        ax.set_xlabel(f"Change in P({outcome_label.lower()}), percentage points "
                      f"(now {pct(baseline)}, {estimative_word(baseline)})")
        handles = [Patch(facecolor=PALETTE["grey"], edgecolor=PALETTE["grey"],
                         label="input at the high end of its interval"),
                   Patch(facecolor="white", edgecolor=PALETTE["grey"], hatch="///",
                         label="input at the low end")]
        legend_below(ax, handles, [h.get_label() for h in handles], ncols=2)
        ax.set_title(title or f"What the forecast is sensitive to: {outcome_label}", loc="left")
        footer(fig, footer_text)
    return fig


def _setting(text: str) -> str:
    """The setting in a few words: a long note beside a short bar runs into the row labels."""
    return (text.replace("odds ratio centred at", "OR").replace("centred at", "at")
            .replace(" (interval end)", "")
            .replace("every item at the low end of its ratio", "every item's low LR")
            .replace("every item at the high end of its ratio", "every item's high LR"))


def _two_lines(text: str, width: int = 44) -> str:
    """A row label on one line if it fits ``width``, else on two, broken at spaces.

    Two lines are made about as long as each other (no orphaned last word), and only
    a label longer than two full lines is shortened, at the end of a word, with "…".
    """
    if len(text) <= width:
        return text
    for w in range(math.ceil(len(text) / 2), width + 1):
        lines = textwrap.wrap(text, w, break_long_words=False, break_on_hyphens=False)
        if len(lines) <= 2:
            return "\n".join(lines)
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    second = textwrap.shorten(" ".join(lines[1:]), width, placeholder=" …")
    return f"{lines[0]}\n{second}"
