"""Charts of the outside view: the reliability diagram and the odds-ratio plot."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from forecast.charts.theme import PALETTE, footer, legend_below, new_axes, style, wrap


def plot_reliability(calibration: pd.DataFrame, *, ax=None, title: str | None = None,
                     footer_text: str | None = None, base_rate: float | None = None,
                     mass: float = 0.9, label: str = "leave-one-out forecasts, by bin",
                     legend: bool = True) -> Figure:
    """Reliability diagram of :func:`forecast.skill.calibration_table`.

    Each bin's observed frequency is plotted against its mean predicted
    probability, the marker's area grows with the bin's count (written beside
    it) and the vertical bar is the Jeffreys interval of the observed frequency.
    Points on the diagonal are perfectly calibrated.

    Parameters
    ----------
    calibration
        Rows with ``mean_predicted, observed_frequency, count`` and, optionally,
        ``observed_lower, observed_upper``. Empty bins (count 0) are skipped.
    ax
        Axes to draw on (a new figure when None).
    title, footer_text
        Chart title and provenance footer.
    base_rate
        Draw the base rate as a horizontal reference line.
    mass
        The mass of the observed-frequency intervals, for the legend.
    legend
        Draw the key in the axes (off when a figure of several panels shares one).

    Returns
    -------
    matplotlib.figure.Figure
    """
    with style():
        fig, ax = new_axes(ax, figsize=(6.5, 6.0))
        rows = calibration[calibration["count"] > 0]
        ax.plot([0, 1], [0, 1], color=PALETTE["grey"], lw=1.2, ls="--",
                label="perfect calibration")
        if base_rate is not None:
            ax.axhline(base_rate, color=PALETTE["orange"], lw=1.2, ls=":",
                       label=f"base rate {base_rate:.0%}")
        if {"observed_lower", "observed_upper"} <= set(rows.columns):
            ax.vlines(rows["mean_predicted"], rows["observed_lower"], rows["observed_upper"],
                      color=PALETTE["blue"], lw=2.5, alpha=0.45,
                      label=f"{mass:.0%} interval of the observed frequency")
        total = max(int(rows["count"].sum()), 1)
        sizes = 60 + 900 * rows["count"] / total
        ax.scatter(rows["mean_predicted"], rows["observed_frequency"], s=sizes,
                   color=PALETTE["blue"], edgecolor="white", linewidth=1.2, zorder=3,
                   label=label)
        for r, size in zip(rows.itertuples(), sizes, strict=True):
            ax.annotate(f"n={r.count}", (r.mean_predicted, r.observed_frequency),
                        xytext=(0.5 * np.sqrt(size) + 5, 0), textcoords="offset points",
                        ha="left", va="center", fontsize=10, color=PALETTE["black"],
                        gid=_COUNT_GID)
        ticks = np.linspace(0, 1, 6)
        labels = [f"{t:.0%}" for t in ticks]
        ax.set_xticks(ticks, labels)
        ax.set_yticks(ticks, labels)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal")
        ax.set_xlabel("Predicted probability of keeping the bases (mean in bin)")
        ax.set_ylabel("Observed frequency kept")
        if legend:
            # Lower right: a calibrated model leaves that corner (forecast high, kept
            # rarely) empty.
            _small_markers(ax.legend(loc="lower right", fontsize=9.5))
        ax.set_title(wrap(title or "Calibration, leave-one-out", 48), loc="left")
        footer(fig, footer_text)
        place_counts(ax)
    return fig


#: The gid of a bin's "n=" note, so that :func:`place_counts` can find it.
_COUNT_GID = "reliability-count"


def _small_markers(legend) -> None:
    """One marker size in the key: the plot's sizes stand for counts, the key's do not."""
    for handle in legend.legend_handles:
        if hasattr(handle, "set_sizes"):
            handle.set_sizes([60])


def place_counts(ax, *, gap: float = 3.0) -> None:
    """Move each bin's "n=" note to where it touches no interval bar, marker or note.

    Tries places around the marker (right of it first, then left, the diagonals,
    above and below, then the same a little farther out) and keeps the first one
    clear by ``gap`` points of every bin's bar and marker, the notes already placed,
    the other texts in the axes (the score box) and the axes' edges, and not crossing
    the reference lines (the diagonal, the base rate), and nearer its own marker than
    any other. If no place is clear, the one that overlaps least wins, crossing a
    line counting for much less than touching a bar, and the note gets a white
    ground. Call it again after the figure's layout changes.
    """
    notes = [t for t in ax.texts if t.get_gid() == _COUNT_GID]
    if not notes:
        return
    fig = ax.figure
    fig.draw_without_rendering()  # the final layout, so the boxes are where they print
    # A figure closed in pyplot's registry (theme.subplots) has a bare canvas: measure on Agg.
    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    px = fig.dpi / 72.0
    pad = gap * px
    solid = []  # (x0, y0, x1, y1) in display pixels: bars, markers, texts
    markers = []  # (x, y, radius) in display pixels, one per bin
    for artist in ax.collections:
        if hasattr(artist, "get_segments") and artist.get_segments():
            half = 0.5 * float(np.max(artist.get_linewidths())) * px
            for seg in artist.get_segments():
                (x0, y0), (x1, y1) = ax.transData.transform(np.asarray(seg)[[0, -1]])
                solid.append((min(x0, x1) - half, min(y0, y1), max(x0, x1) + half,
                              max(y0, y1)))
        elif hasattr(artist, "get_offsets") and len(artist.get_sizes()):
            sizes = np.broadcast_to(artist.get_sizes(), (len(artist.get_offsets()),))
            for (x, y), size in zip(ax.transData.transform(artist.get_offsets()), sizes,
                                    strict=True):
                r = 0.5 * np.sqrt(size) * px
                markers.append((x, y, r))
                solid.append((x - r, y - r, x + r, y + r))
    for text in ax.texts:
        if text.get_gid() != _COUNT_GID and text.get_visible() and text.get_text():
            box = text.get_window_extent(renderer)
            solid.append((box.x0, box.y0, box.x1, box.y1))
    # The reference lines as points a pixel apart: a note may cross one only if it must.
    traced = []
    for line in ax.lines:
        xy = line.get_transform().transform(line.get_xydata())  # axhline: axes x, data y
        for a, b in itertools.pairwise(xy):
            k = max(int(np.hypot(*(b - a))), 1)
            traced.append(a + np.linspace(0, 1, k + 1)[:, None] * (b - a))
    traced = np.concatenate(traced) if traced else np.empty((0, 2))
    frame = ax.get_window_extent(renderer)

    def cost(box, x, y) -> tuple[float, float]:
        hard = 0.0
        for x0, y0, x1, y1 in solid:
            w = min(box.x1 + pad, x1) - max(box.x0 - pad, x0)
            h = min(box.y1 + pad, y1) - max(box.y0 - pad, y0)
            if w > 0 and h > 0:
                hard += w * h + 1.0
        hard += 100.0 * (max(frame.x0 - box.x0, 0) + max(box.x1 - frame.x1, 0)
                         + max(frame.y0 - box.y0, 0) + max(box.y1 - frame.y1, 0))
        inside = ((traced[:, 0] > box.x0 - px) & (traced[:, 0] < box.x1 + px)
                  & (traced[:, 1] > box.y0 - px) & (traced[:, 1] < box.y1 + px))
        # A note nearer another bin's marker than its own reads as that bin's count.
        cx, cy = 0.5 * (box.x0 + box.x1), 0.5 * (box.y0 + box.y1)
        edge = [np.hypot(mx - cx, my - cy) - mr for mx, my, mr in markers]
        mine = int(np.argmin([(mx - x) ** 2 + (my - y) ** 2 for mx, my, _ in markers]))
        if min(edge) < edge[mine] - 0.5:
            hard += 1e4
        return hard, 0.05 * float(inside.sum())

    for note in notes:
        x, y = ax.transData.transform(note.xy)
        r = min(markers, key=lambda m: (m[0] - x) ** 2 + (m[1] - y) ** 2)[2] / px
        places = []
        for far in (0.0, 8.0):  # points beyond the marker's edge
            d, s = r + 5 + far, 0.75 * r + 5 + far  # beside, and on a diagonal
            places += [((d, 0), "left", "center", far), ((-d, 0), "right", "center", far),
                       ((s, s), "left", "bottom", far), ((s, -s), "left", "top", far),
                       ((-s, s), "right", "bottom", far), ((-s, -s), "right", "top", far),
                       ((0, d), "center", "bottom", far), ((0, -d), "center", "top", far)]
        best = None
        for offset, ha, va, far in places:
            note.set_position(offset)
            note.set_horizontalalignment(ha)
            note.set_verticalalignment(va)
            box = note.get_window_extent(renderer)
            hard, soft = cost(box, x, y)
            # Farther out only to clear a bar, not a line: a note away from its bin reads worse.
            total = hard + soft + (3.0 if far else 0.0)
            if best is None or total < best[0]:
                best = (total, offset, ha, va, box, hard + soft)
            if total == 0:
                break
        _, offset, ha, va, box, total = best
        note.set_position(offset)
        note.set_horizontalalignment(ha)
        note.set_verticalalignment(va)
        if total > 0:  # nowhere clear: at least the note itself reads
            note.set_bbox({"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none"})
        solid.append((box.x0, box.y0, box.x1, box.y1))


def plot_coefficients(coefficients: pd.DataFrame, *, ax=None, title: str | None = None,
                      footer_text: str | None = None, mass: float | None = None,
                      higher: str = "kept", xlabel: str | None = None) -> Figure:
    """Odds ratios of the features with their credible intervals, on a log scale.

    Parameters
    ----------
    coefficients
        :meth:`forecast.reference.ReferenceFit.coefficients`: ``feature,
        odds_ratio, or_lower, or_upper`` (and ``mass``).
    ax
        Axes to draw on (a new figure when None).
    title, footer_text
        Chart title and provenance footer.
    mass
        The intervals' mass for the legend (default: the table's ``mass``).
    higher
        What an odds ratio above 1 means: ``"kept"`` (odds of keeping, the old
        logistic model) or ``"lost"`` (yearly odds of losing the base, the hazard
        model; its ratios renamed to ``odds_ratio, or_lower, or_upper``). Sets the
        colours (vermillion is always the side of losing) and the direction labels.
    xlabel
        Axis label (default: from ``higher``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if higher not in ("kept", "lost"):
        raise ValueError(f"higher must be 'kept' or 'lost', not {higher!r}")
    if mass is None:
        mass = float(coefficients["mass"].iloc[0]) if "mass" in coefficients else 0.9
    table = coefficients.sort_values("odds_ratio").reset_index(drop=True)
    with style():
        fig, ax = new_axes(ax, figsize=(8.0, 1.4 + 0.55 * len(table)))
        y = np.arange(len(table))
        up = table["or_lower"] > 1
        down = table["or_upper"] < 1
        above, below = ((PALETTE["blue"], PALETTE["vermillion"]) if higher == "kept"
                        else (PALETTE["vermillion"], PALETTE["blue"]))
        colors = np.where(up, above, np.where(down, below, PALETTE["grey"]))
        ax.axvline(1.0, color=PALETTE["black"], lw=1, alpha=0.6)
        ax.hlines(y, table["or_lower"], table["or_upper"], colors=colors, lw=3, alpha=0.85)
        ax.scatter(table["odds_ratio"], y, c=colors, s=70, zorder=3, edgecolor="white")
        for yi, r in zip(y, table.itertuples(), strict=True):
            ax.annotate(f"{r.odds_ratio:.2g}", (r.or_upper, yi), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=10,
                        color=PALETTE["black"])
        ax.set_yticks(y, [f.replace("_", " ") for f in table["feature"]])
        ax.set_xscale("log")
        lo = min(float(table["or_lower"].min()), 0.5)
        hi = max(float(table["or_upper"].max()), 2.0)
        ax.set_xlim(lo / 1.3, hi * 1.8)
        ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
                 if lo / 1.3 <= t <= hi * 1.8]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel(xlabel or (
            f"Odds ratio of keeping the bases (median, {mass:.0%} interval; log scale)"
            if higher == "kept" else
            f"Odds ratio of LOSING the base in a year (median, {mass:.0%} interval; log scale)"))
        ax.grid(axis="y", visible=False)
        ax.set_ylim(-0.6, len(table) - 0.4)
        left, right = (("◀ fewer kept", "more kept ▶") if higher == "kept" else
                       ("◀ fewer lost (per year)", "more lost (per year) ▶"))
        ax.text(0.0, 1.01, left, transform=ax.transAxes, ha="left", va="bottom",
                fontsize=10, color=below)
        ax.text(1.0, 1.01, right, transform=ax.transAxes, ha="right", va="bottom",
                fontsize=10, color=above)
        handles = [Line2D([], [], color=c, lw=3, marker="o", ms=7, label=text) for c, text in (
            (above, f"{mass:.0%} interval above 1"),
            (PALETTE["grey"], f"{mass:.0%} interval includes 1"),
            (below, f"{mass:.0%} interval below 1"),
        )]
        ax.legend(handles=handles, loc="lower right", fontsize=9, framealpha=0.9, frameon=True)
        ax.set_title(title or "What history says moves retention", loc="left", pad=22)
        footer(fig, footer_text)
    return fig


def plot_backtest_reliability(calibration: pd.DataFrame, *, axes=None,
                              title: str | None = None, footer_text: str | None = None,
                              scores: pd.DataFrame | None = None, mass: float = 0.9) -> Figure:
    """One reliability diagram per origin of the as-of-origin backtest, side by side.

    Parameters
    ----------
    calibration
        :func:`forecast.hazard_backtest.calibration_by_origin`: an ``origin`` column and
        the :func:`forecast.skill.calibration_table` columns.
    axes
        One Axes per origin to draw on (a new figure when None).
    scores
        :func:`forecast.hazard_backtest.score_by_origin`, to write each panel's Brier
        scores (model, base rate) in its title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    origins = sorted(calibration["origin"].unique())
    with style():
        key = None
        if axes is None:
            from forecast.charts.theme import subplots

            # A thin row under the panels, spanning them, holds the one key: constrained
            # layout makes room for it there, above the footer.
            fig, grid = subplots(2, len(origins), figsize=(5.2 * len(origins), 6.3),
                                 height_ratios=[1.0, 0.01])
            grid = np.atleast_2d(grid)
            axes = grid[0]
            for ax in grid[1]:
                ax.remove()
            key = fig.add_subplot(grid[0, 0].get_gridspec()[1, :])
            key.axis("off")
        fig = axes[0].figure
        for ax, origin in zip(axes, origins, strict=True):
            head = ("At the start" if origin == 0 else
                    f"{origin} year{'s' if origin != 1 else ''} in, if still kept")
            plot_reliability(calibration[calibration["origin"] == origin], ax=ax, title=head,
                             mass=mass, label="forecasts with the shock left out, by bin",
                             legend=False)
            if scores is not None:
                s = scores[scores["origin"] == origin].set_index("forecaster")
                ax.text(0.03, 0.97, f"Brier {s.loc['hazard', 'brier']:.3f}\n"
                        f"base rate {s.loc['base_rate', 'brier']:.3f}\n"
                        f"{int(s.loc['hazard', 'n_cases'])} cases",
                        transform=ax.transAxes, va="top", ha="left", fontsize=10,
                        bbox={"boxstyle": "round", "fc": "white", "ec": PALETTE["grey"],
                              "alpha": 0.9})
            ax.set_xlabel("Forecast P(kept 5 years), as known then")
            if ax is not axes[0]:
                ax.set_ylabel("")
        # One key for all panels, below them: inside a panel it would cover a bin.
        handles, labels = axes[0].get_legend_handles_labels()
        if key is not None:
            _small_markers(key.legend(handles, labels, loc="center", ncols=len(handles),
                                      fontsize=10))
        else:  # the caller's axes: under the first panel
            _small_markers(legend_below(axes[0], handles, labels, ncols=1, fontsize=10))
        fig.suptitle(title or "The outside view, backtested as of each origin (shock left out)",
                     x=0.01, ha="left", fontweight="bold")
        footer(fig, footer_text)
        for ax in axes:  # the key and the score boxes moved things: place the notes last
            place_counts(ax)
    return fig
