"""Charts of the outside view: the reliability diagram and the odds-ratio plot."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from forecast.charts.theme import PALETTE, footer, new_axes, style, wrap


def plot_reliability(calibration: pd.DataFrame, *, ax=None, title: str | None = None,
                     footer_text: str | None = None, base_rate: float | None = None,
                     mass: float = 0.9, label: str = "leave-one-out forecasts, by bin"
                     ) -> Figure:
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
        for r in rows.itertuples():
            ax.annotate(f"n={r.count}", (r.mean_predicted, r.observed_frequency),
                        xytext=(12, -4), textcoords="offset points", fontsize=10,
                        color=PALETTE["black"])
        ticks = np.linspace(0, 1, 6)
        labels = [f"{t:.0%}" for t in ticks]
        ax.set_xticks(ticks, labels)
        ax.set_yticks(ticks, labels)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal")
        ax.set_xlabel("Predicted probability of keeping the bases (mean in bin)")
        ax.set_ylabel("Observed frequency kept")
        # Lower right: a calibrated model leaves that corner (forecast high, kept rarely) empty.
        legend = ax.legend(loc="lower right", fontsize=9.5)
        for handle in legend.legend_handles:
            if hasattr(handle, "set_sizes"):
                handle.set_sizes([60])
        ax.set_title(wrap(title or "Calibration, leave-one-out", 48), loc="left")
        footer(fig, footer_text)
    return fig


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
        if axes is None:
            from forecast.charts.theme import subplots

            fig, axes = subplots(1, len(origins), figsize=(5.2 * len(origins), 5.8))
            axes = np.atleast_1d(axes)
        fig = axes[0].figure
        for ax, origin in zip(axes, origins, strict=True):
            head = ("At the start" if origin == 0 else
                    f"{origin} year{'s' if origin != 1 else ''} in, if still kept")
            plot_reliability(calibration[calibration["origin"] == origin], ax=ax, title=head,
                             mass=mass, label="forecasts with the shock left out, by bin")
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
                legend = ax.get_legend()
                if legend is not None:
                    legend.remove()
        fig.suptitle(title or "The outside view, backtested as of each origin (shock left out)",
                     x=0.01, ha="left", fontweight="bold")
        footer(fig, footer_text)
    return fig
