"""The forecast's history: P(keep) after each ledger date, with the news items marked."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

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

#: The reconstruction's legend: what its steps are (not what was said on the day).
RECONSTRUCTION = "reconstruction: today's model on the items dated by each day"
#: The record's legend entry (:mod:`forecast.record`): what was issued, immutable.
RECORD_LABEL = "issued forecasts (the record)"
#: The crowd's legend entry (:func:`forecast.crowd.read_crowd`): an imported timeline.
CROWD_LABEL = "crowd (imported timeline)"
#: A ledger whose newest entry is older than this, before the as-of date, says so.
STALE_DAYS = 60

#: How many news markers are named on the chart: the largest moves. Each is numbered
#: above the plot and named in a numbered key below it (headlines never overlap there).
NAMED_MARKS = 6


def plot_history(table: pd.DataFrame, *, ledger: pd.DataFrame | None = None, config=None,
                 outcomes: list[str] | None = None, ax=None, title: str | None = None,
                 footer_text: str | None = None, mass: float | None = None,
                 as_of: dt.date | None = None, named: int = NAMED_MARKS,
                 headlines: Mapping[str, str] | None = None,
                 record: pd.DataFrame | None = None,
                 last_recorded: dt.date | dt.datetime | None = None,
                 crowd: pd.DataFrame | bool | None = None) -> Figure:
    """Step chart of :func:`forecast.news.history`: each outcome's P(keep) through time.

    The steps are a reconstruction (today's priors and model on the items dated by
    each day), and the legend says so; the forecasts actually issued (the record)
    are drawn apart, as black diamonds edged in the outcome's colour, and a crowd's
    imported timeline as a dashed step line in the outcome's colour. Every news
    date is a dotted line; the ``named`` dates that moved the forecast most are
    numbered above the plot, and a numbered key below it gives each one's date and
    headline (shortened at a word boundary).

    Parameters
    ----------
    table
        Rows ``date, outcome, p, lower, upper, new_items``; ``date`` None is the prior.
    ledger
        Optionally :func:`forecast.tables.ledger_table`, to mark each item's date; its
        ``headline`` column names the items in the key (and its ``entered`` column
        picks which of a marker's items is named).
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
    headlines
        Item id -> headline, for the key (over the ledger's); an item without one is
        named by its id.
    record
        Optionally :func:`forecast.record.record_table`: one row per issued forecast
        and outcome (``issued`` or ``as_of``, ``outcome``, ``p``), each drawn at the
        date it was issued (gid ``record-mark``).
    last_recorded
        When the newest ledger item was entered (its ``recorded`` stamp): more than
        :data:`STALE_DAYS` days before ``as_of``, the chart says "no news recorded
        since" that date (gid ``no-news``).
    crowd
        Optionally :func:`forecast.crowd.read_crowd`'s table (``when`` or ``date``,
        ``outcome``, ``probability``), drawn as a dashed step per drawn outcome (gid
        ``crowd-line``). By default the question's imported ``crowd.csv`` when
        ``config`` is given and it exists; False for none.

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
    issued = _record_points(record)
    if not issued.empty:
        end = max(end, issued["when"].max())
    if crowd is None and config is not None:
        from forecast.crowd import load_crowd

        crowd = load_crowd(config)
    others = _crowd_points(crowd if crowd is not False else None)
    if not others.empty:
        end = max(end, others["when"].max())
    end = end + pd.Timedelta(days=10)
    marks = _merge_close(_item_dates(data, ledger), (end - pd.Timestamp(start)) / 80)
    moves = _moves(data, outcomes)
    size = {when: sum(moves.get(w, 0.0) for w in group) for when, (_, group) in marks.items()}
    shown = sorted(w for w in sorted(size, key=lambda w: -size[w])[:named] if size[w] >= 0.005)
    heads, entered = _headlines(ledger, headlines), _weights(ledger)
    # A marker is named by the item of its date that moved the forecast most (on one
    # date, the one entering with the largest log ratio).
    weight = {i: (moves.get(when, 0.0), entered.get(i, 0.0))
              for when, ids in _item_dates(data, ledger).items() for i in ids}
    with style():
        fig, ax = new_axes(ax, figsize=(9.0, 5.0 + 0.18 * len(shown)))
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
        drawn = [o for o in outcomes if not issued.empty and o in set(issued["outcome"])]
        for outcome in drawn:
            color = OUTCOME_COLORS[outcomes.index(outcome) % len(OUTCOME_COLORS)]
            pts = issued[issued["outcome"] == outcome]
            ax.plot(pts["when"], pts["p"], "D", ms=8, mfc=PALETTE["black"], mec=color,
                    mew=1.6, ls="none", zorder=5, gid="record-mark",
                    label=RECORD_LABEL if outcome == drawn[0] else "_nolegend_")
        shown_crowd = [o for o in outcomes if not others.empty and o in set(others["outcome"])]
        for outcome in shown_crowd:
            color = OUTCOME_COLORS[outcomes.index(outcome) % len(OUTCOME_COLORS)]
            pts = others[others["outcome"] == outcome]
            ax.step([*pts["when"], end], [*pts["p"], pts["p"].iloc[-1]], where="post",
                    color=color, lw=1.6, ls=(0, (4, 2)), alpha=0.9, zorder=4, gid="crowd-line",
                    label=CROWD_LABEL if outcome == shown_crowd[0] else "_nolegend_")
        stale = _stale(last_recorded, as_of)
        if stale is not None:
            ax.text(0.01, 0.03, f"no news recorded since {stale:%d %b %Y}",
                    transform=ax.transAxes, ha="left", va="bottom", fontsize=9,
                    color=PALETTE["black"], gid="no-news",
                    bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": PALETTE["grey"],
                          "lw": 0.8})
        for when in marks:
            ax.axvline(when, color=PALETTE["grey"], lw=1, ls=":", zorder=0)
        # Numbers above the plot, a second row where two would touch (closer than about
        # 18 points on the axes' width, before layout); the key below names them.
        room = max(ax.get_position().width * fig.get_figwidth() * 0.95, 2.0) * 72 / 18
        rows_of = _stagger(shown, (end - pd.Timestamp(start) + pd.Timedelta(days=3)) / room)
        for n, when in enumerate(shown, start=1):
            ax.annotate(str(n), (mdates.date2num(when), 1.0), xycoords=ax.get_xaxis_transform(),
                        xytext=(0, 5 + 17 * rows_of[when]), textcoords="offset points",
                        ha="center", va="bottom", fontsize=9, fontweight="bold",
                        color=PALETTE["black"], gid="news-mark",
                        bbox={"boxstyle": "circle,pad=0.25", "fc": "white",
                              "ec": PALETTE["black"], "lw": 0.8})
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
        numbered = (f"; numbered: the {len(shown)} largest move{'s' if len(shown) > 1 else ''}"
                    if shown else "")
        legend = legend_below(ax, ncols=min(len(outcomes) + bool(drawn) + bool(shown_crowd), 3),
                              fontsize=10,
                              title=f"lines: {RECONSTRUCTION} (mean and {mass:.0%} "
                                    f"interval)\ndotted lines: news dates{numbered}",
                              title_fontsize=9)
        if shown:  # the numbered key under the legend: number, dates, headline per row
            spans = [_span(marks[when][1]) for when in shown]
            size, step = 9.5, 9.5 * 1.45
            dates_width = max(_width(span, size) for span in spans)
            # headlines as long as fit the figure beside the axes' left margin and the dates
            width = int((fig.get_figwidth() * 72 - 124 - dates_width) / (size * 0.6))
            width = max(30, min(90, width))
            where = (ax.transAxes, legend)  # x on the axes, y under the legend
            for k, when in enumerate(shown):
                y = -6 - size - step * k
                for x, text, ha, gid in (
                        (14, str(k + 1), "right", "news-key-number"),
                        (22, spans[k], "left", "news-key-dates"),
                        (34 + dates_width, _name(marks[when][0], heads, weight, width), "left",
                         "news-key")):
                    ax.annotate(text, (0.0, 0.0), xycoords=where, xytext=(x, y),
                                textcoords="offset points", ha=ha, va="baseline",
                                fontsize=size, color=PALETTE["black"], gid=gid)
        # A figure title, not an axes title: the numbered markers sit above the axes.
        fig.suptitle(title or "How the forecast moved with the news", x=0.01, ha="left",
                     fontsize=14, fontweight="bold")
        text = footer_text or (config_footer(config) if config is not None else None)
        footer(fig, text)
    return fig


def _record_points(record: pd.DataFrame | None) -> pd.DataFrame:
    """The issued forecasts' points: ``when`` (the day issued, else the as-of date),
    ``outcome``, ``p``."""
    if record is None or record.empty:
        return pd.DataFrame({"when": pd.Series(dtype="datetime64[ns]"), "outcome": [], "p": []})
    if "issued" in record:
        when = pd.to_datetime(record["issued"], utc=True).dt.tz_localize(None).dt.normalize()
    else:
        when = pd.to_datetime(record["as_of"])
    return pd.DataFrame({"when": when.to_numpy(), "outcome": record["outcome"].to_numpy(),
                         "p": record["p"].to_numpy(dtype=float)})


def _crowd_points(crowd: pd.DataFrame | None) -> pd.DataFrame:
    """The crowd's steps: ``when`` (its time, zone dropped), ``outcome``, ``p``, in time order."""
    if crowd is None or crowd.empty:
        return pd.DataFrame({"when": pd.Series(dtype="datetime64[ns]"), "outcome": [], "p": []})
    when = crowd["when"] if "when" in crowd else crowd["date"]
    when = pd.to_datetime(when, utc=True).dt.tz_localize(None)
    out = pd.DataFrame({"when": when.to_numpy(), "outcome": crowd["outcome"].to_numpy(),
                        "p": crowd["probability"].to_numpy(dtype=float)})
    return out.sort_values("when", kind="stable").reset_index(drop=True)


def _stale(last_recorded: dt.date | dt.datetime | None, as_of: dt.date | None) -> dt.date | None:
    """The newest entry's date when it is more than :data:`STALE_DAYS` before ``as_of``."""
    if last_recorded is None or as_of is None:
        return None
    day = last_recorded.date() if isinstance(last_recorded, dt.datetime) else last_recorded
    return day if (as_of - day).days > STALE_DAYS else None


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


def _headlines(ledger: pd.DataFrame | None, headlines: Mapping[str, str] | None) -> dict:
    """Item id -> headline: the ledger's ``headline`` column, then ``headlines`` over it."""
    names: dict = {}
    if ledger is not None and "headline" in ledger.columns:
        names.update({str(i): str(h) for i, h in zip(ledger["id"], ledger["headline"],
                                                     strict=True)
                      if isinstance(h, str) and h.strip()})
    names.update({str(i): str(h) for i, h in (headlines or {}).items() if h})
    return names


def _weights(ledger: pd.DataFrame | None) -> dict:
    """Item id -> the size of the log ratio it enters with (0 without a ledger)."""
    if ledger is None or "entered" not in ledger.columns:
        return {}
    return {str(i): abs(float(e)) for i, e in zip(ledger["id"], ledger["entered"], strict=True)
            if not pd.isna(e)}


def _name(ids: list[str], names: dict, weight: dict, width: int) -> str:
    """A marker's key entry: the headline of its weightiest item (``weight``: id -> size),
    shortened at a word boundary, and how many other items share the marker."""
    lead = max(ids, key=lambda i: weight.get(i, (0.0, 0.0)))  # the first of equals
    # An id starts with its date, which the key already gives.
    text = names.get(lead) or re.sub(r"^\d{4}-\d{2}(-\d{2})?-", "", lead)
    more = f" (+{len(ids) - 1} more)" if len(ids) > 1 else ""
    lines = wrap(" ".join(text.split()), max(12, width - len(more)), split_words=False)
    short = lines.split("\n")[0] if lines else text
    if short != " ".join(text.split()):
        short = short.rstrip(" ,;:.-–") + "…"
    return short + more


def _width(text: str, size: float) -> float:
    """The width of ``text`` in points at font ``size`` (the theme's font)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    return float(TextPath((0, 0), text, size=size, prop=FontProperties()).get_extents().width)


def _span(dates: list) -> str:
    """The dates a marker stands for: ``7 Mar 2025``, ``15–18 Oct 2025``, ``21 Jan–2 Feb 2025``."""
    first, last = min(dates), max(dates)
    end = f"{last.day} {last:%b %Y}"
    if first == last:
        return end
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{end}"
    return f"{first.day} {first:%b}–{end}" if first.year == last.year else (
        f"{first.day} {first:%b %Y}–{end}")


def _stagger(whens: list, gap) -> dict:
    """Row 0, 1, ... for each date: the lowest row whose last date is ``gap`` or more before."""
    rows: dict = {}
    last: list = []
    for when in sorted(whens):
        row = next((r for r, w in enumerate(last) if when - w >= gap), len(last))
        if row == len(last):
            last.append(when)
        last[row] = when
        rows[when] = row
    return rows


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
