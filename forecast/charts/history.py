"""The forecast's history: P(keep) after each ledger date, with the news items marked."""

from __future__ import annotations

import datetime as dt
import re

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast.charts.theme import (
    OUTCOME_COLORS,
    PALETTE,
    config_footer,
    footer,
    legend_below,
    new_axes,
    pct,
    style,
    wrap,
)

#: How many news markers are named on the chart: the largest moves. The contributions
#: chart names every item; naming all of them here would crush the plot under its labels.
NAMED_MARKS = 6


def plot_history(table: pd.DataFrame, *, ledger: pd.DataFrame | None = None, config=None,
                 outcomes: list[str] | None = None, ax=None, title: str | None = None,
                 footer_text: str | None = None, mass: float | None = None,
                 as_of: dt.date | None = None, named: int = NAMED_MARKS) -> Figure:
    """Step chart of :func:`forecast.news.history`: each outcome's P(keep) through time.

    Every news date is a dotted line; the ``named`` dates that moved the forecast
    most are labelled with their items (the contributions chart names them all).

    Parameters
    ----------
    table
        Rows ``date, outcome, p, lower, upper, new_items``; ``date`` None is the prior.
    ledger
        Optionally :func:`forecast.tables.ledger_table`, to mark each item's date.
    config
        The question, for outcome names, the prior's date and the footer.
    outcomes
        Which outcomes to draw (default: every base and ``all``).
    ax
        Axes to draw on (a new figure when None).
    title, footer_text
        Chart title and provenance footer (default footer from ``config``).
    mass
        Credible mass of the bands (default ``config.model.credible_mass`` or 0.9).
    as_of
        The forecast's date: the last step is drawn on to it, so that the chart
        shows the forecast standing today, not only at the last news item.
    named
        How many news markers to label (the largest moves).

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = {"all": "Every outcome YES", "any": "At least one outcome YES"}
    ylabel = "Probability on the horizon date"
    if config is not None:
        names = {"all": config.wording.all, "any": config.wording.any}
        names.update({o.id: o.name for o in config.question.outcomes})
        ylabel = config.wording.axis
        mass = config.model.credible_mass if mass is None else mass
    mass = 0.9 if mass is None else mass
    data = table.copy()
    dated = [d for d in data["date"] if d is not None and not pd.isna(d)]
    # The prior (no news) is placed before the first item, or on the question's date.
    candidates = [min(dated) - dt.timedelta(days=14)] if dated else []
    if config is not None:
        candidates.append(config.question.created)
    start = min(candidates) if candidates else dt.date.today()
    data["when"] = [start if d is None or pd.isna(d) else d for d in data["date"]]
    data["when"] = pd.to_datetime(data["when"])
    if outcomes is None:
        outcomes = [o for o in dict.fromkeys(data["outcome"]) if o != "any"]
    last_news = max(data["when"].max(), pd.Timestamp(start))
    end = max(last_news, pd.Timestamp(as_of)) if as_of is not None else last_news
    end = end + pd.Timedelta(days=10)
    with style():
        fig, ax = new_axes(ax, figsize=(9.0, 5.0))
        for i, outcome in enumerate(outcomes):
            rows = data[data["outcome"] == outcome].sort_values("when")
            if rows.empty:
                continue
            color = OUTCOME_COLORS[i % len(OUTCOME_COLORS)]
            x = [*rows["when"], end]
            p = [*rows["p"], rows["p"].iloc[-1]]
            lo = [*rows["lower"], rows["lower"].iloc[-1]]
            hi = [*rows["upper"], rows["upper"].iloc[-1]]
            ax.fill_between(x, lo, hi, step="post", color=color, alpha=0.13, lw=0)
            ax.step(x, p, where="post", color=color, lw=2.4, label=names.get(outcome, outcome))
            ax.plot(rows["when"], rows["p"], "o", color=color, ms=6)
            last = rows.iloc[-1]
            ax.annotate(pct(last["p"]), (end, last["p"]), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=11,
                        fontweight="bold", color=color)
        marks = _merge_close(_item_dates(data, ledger), (end - pd.Timestamp(start)) / 40)
        moves = _moves(data, outcomes)
        size = {when: sum(moves.get(w, 0.0) for w in group) for when, (_, group) in marks.items()}
        shown = set(sorted(size, key=lambda w: -size[w])[:named])
        for when, (ids, _) in marks.items():
            ax.axvline(when, color=PALETTE["grey"], lw=1, ls=":", zorder=0)
            if when in shown and size[when] >= 0.005:
                ax.annotate(_short(ids), (when, 1.0), xytext=(0, 3),
                            textcoords="offset points", rotation=45, ha="left", va="bottom",
                            fontsize=9, color=PALETTE["black"])
        if as_of is not None and pd.Timestamp(as_of) > last_news:
            ax.annotate(f"as of {as_of:%d %b %Y}", (pd.Timestamp(as_of), 0.02), xytext=(-4, 0),
                        textcoords="offset points", ha="right", va="bottom", fontsize=9,
                        color=PALETTE["grey"])
            ax.axvline(pd.Timestamp(as_of), color=PALETTE["grey"], lw=1, ls="-", alpha=0.5,
                       zorder=0)
        ax.set_ylim(0, 1)
        ax.set_yticks(np.linspace(0, 1, 6), [f"{v:.0%}" for v in np.linspace(0, 1, 6)])
        ax.set_ylabel(wrap(ylabel))
        ax.set_xlim(pd.Timestamp(start) - pd.Timedelta(days=3), end)
        locator = mdates.AutoDateLocator(maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        legend_below(ax, ncols=min(len(outcomes), 3), fontsize=10,
                     title=f"mean and {mass:.0%} interval; dotted lines: news items "
                           f"(the {named} largest moves named)",
                     title_fontsize=9)
        # A figure title, not an axes title: the rotated item labels sit above the axes.
        fig.suptitle(title or "How the forecast moved with the news", x=0.01, ha="left",
                     fontsize=14, fontweight="bold")
        text = footer_text or (config_footer(config) if config is not None else None)
        if text:
            footer(fig, text)
    return fig


def _item_dates(data: pd.DataFrame, ledger: pd.DataFrame | None) -> dict:
    marks: dict = {}
    if ledger is not None and not ledger.empty:
        for r in ledger.itertuples():
            marks.setdefault(pd.Timestamp(r.date), []).append(str(r.id))
        return marks
    for r in data.drop_duplicates("when").itertuples():
        if isinstance(r.new_items, str) and r.new_items:
            marks.setdefault(r.when, []).extend(r.new_items.split(","))
    return marks


def _moves(data: pd.DataFrame, outcomes: list[str]) -> dict:
    """Per date: the largest change in any drawn outcome's probability from the step before."""
    moves: dict = {}
    for outcome in outcomes:
        rows = data[data["outcome"] == outcome].sort_values("when")
        for when, change in zip(rows["when"], rows["p"].diff().abs().fillna(0.0), strict=True):
            moves[when] = max(moves.get(when, 0.0), float(change))
    return moves


def _short(ids: list[str]) -> str:
    # Ids start with their date, which the axis already shows.
    names = [re.sub(r"^\d{4}-\d{2}(-\d{2})?-", "", i).replace("-", " ") for i in ids]
    text = names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1})"
    return text if len(text) <= 26 else text[:24] + "…"


def _merge_close(marks: dict, gap) -> dict:
    """Items whose dates are closer than ``gap`` share one marker and one label.

    Returns ``{first date: (ids, [dates merged])}``.
    """
    merged: dict = {}
    last = None
    for when in sorted(marks):
        if last is not None and when - last < gap:
            merged[last][0].extend(marks[when])
            merged[last][1].append(when)
        else:
            merged[when] = (list(marks[when]), [when])
            last = when
    return merged
