"""The priors in force: each evidence variable's probability and effect, and each baseline.

"In force" is after ``prior_source`` (``model.yaml``): the analysts' intervals, the
reference class, or their pool. A linear pool (a mixture) is drawn with its two weighted
components dashed beneath it, so a disagreement between the sources shows as two humps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from forecast.charts.theme import PALETTE, config_footer, footer, style, subplots


def plot_priors(table: pd.DataFrame, *, config=None, ax=None, title: str | None = None,
                footer_text: str | None = None) -> Figure:
    """Ridgelines of every prior: probabilities on the left, odds ratios on the right.

    Parameters
    ----------
    table
        :func:`forecast.analysis.prior_densities` (``parameter, kind, label, x,
        density, lower, upper, mass``, optionally ``origin, density_elicited,
        density_reference``), or :func:`forecast.tables.prior_table` together with
        ``config`` (the densities are then computed from it).
    config
        The question (needed with a ``prior_table``; gives the default footer).
    ax
        One axes (then only the probabilities are drawn) or a pair of axes.
    title, footer_text
        Chart title and provenance footer.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "density" not in table.columns:
        if config is None:
            raise ValueError("plot_priors needs prior_densities(config), or config with a "
                             "prior_table")
        from forecast.analysis import prior_densities

        table = prior_densities(config)
    probs = table[table["kind"] != "odds ratio on keeping"]
    effects = table[table["kind"] == "odds ratio on keeping"]
    n_rows = max(probs["parameter"].nunique(), effects["parameter"].nunique())
    with style():
        if ax is None:
            fig, axes = subplots(1, 2, figsize=(12.0, 1.4 + 0.62 * n_rows))
        else:
            axes = np.atleast_1d(ax)
            fig = axes[0].figure
        _ridges(axes[0], probs, log=False)
        axes[0].set_xlabel("Probability (Beta prior)")
        axes[0].set_title("How likely is each state, and each base's baseline", loc="left",
                          fontsize=12)
        if len(axes) > 1:
            _ridges(axes[1], effects, log=True)
            axes[1].set_xlabel("Odds ratio on keeping (log scale; < 1 lowers the odds)")
            axes[1].set_title("What each state would do to the odds", loc="left", fontsize=12)
        fig.suptitle(title or _title(table, config), x=0.0, ha="left", fontsize=14,
                     fontweight="bold")
        text = footer_text or (config_footer(config) if config is not None else None)
        footer(fig, text)
    return fig


def _ridges(ax, table: pd.DataFrame, *, log: bool) -> None:
    params = list(dict.fromkeys(table["parameter"]))
    y0 = np.arange(len(params))[::-1].astype(float)
    for base, parameter in zip(y0, params, strict=True):
        rows = table[table["parameter"] == parameter]
        x = rows["x"].to_numpy()
        dens = rows["density"].to_numpy()
        height = 0.85 * dens / dens.max()
        is_base = parameter.startswith("p_base")
        color = PALETTE["orange"] if is_base else (PALETTE["green"] if log else PALETTE["blue"])
        ax.fill_between(x, base, base + height, color=color, alpha=0.35, lw=0)
        ax.plot(x, base + height, color=color, lw=1.6)
        for column, dash in (("density_elicited", (0, (4, 2))), ("density_reference", ":")):
            part = rows[column].to_numpy(dtype=float) if column in rows else None
            if part is not None and np.isfinite(part).all():
                ax.plot(x, base + 0.85 * part / dens.max(), color=PALETTE["black"], lw=1.0,
                        ls=dash, alpha=0.8)
        r = rows.iloc[0]
        ax.hlines(base + 0.04, r["lower"], r["upper"], color=PALETTE["black"], lw=3)
        fmt = "{:.3g}" if log else "{:.0%}"
        origin = str(r.get("origin", "elicited"))
        where = ("" if origin == "elicited" else
                 " · history" if origin == "reference class" else " · pooled")
        ax.annotate(f"{r['mass']:.0%}: {fmt.format(r['lower'])}–{fmt.format(r['upper'])}{where}",
                    (r["upper"], base + 0.04), xytext=(5, 2), textcoords="offset points",
                    fontsize=8.5, va="bottom", color=PALETTE["black"])
    labels = [_label(table, p) for p in params]
    ax.set_yticks(y0 + 0.3, labels)
    ax.set_ylim(-0.2, len(params) + 0.1)
    ax.grid(axis="y", visible=False)
    if log:
        ax.set_xscale("log")
        lo, hi = float(table["x"].min()), float(table["x"].max())
        lo, hi = max(lo, 0.02), min(hi, 200.0)
        ax.set_xlim(lo, hi)
        ticks = [t for t in (0.03, 0.1, 0.3, 1, 3, 10, 30, 100)
                 if lo <= t <= hi]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.axvline(1.0, color=PALETTE["black"], lw=1, alpha=0.5)
    else:
        ax.set_xlim(0, 1)
        ticks = np.linspace(0, 1, 6)
        ax.set_xticks(ticks, [f"{t:.0%}" for t in ticks])


def _title(table: pd.DataFrame, config) -> str:
    """What the chart shows: the elicited priors, or the priors in force under ``prior_source``."""
    source = config.prior_source if config is not None else (
        "elicited" if "origin" not in table or (table["origin"] == "elicited").all()
        else "other")
    if source == "elicited":
        return "The priors, as elicited"
    if source == "reference_class":
        return "The priors in force: history (the reference class) where it speaks"
    if source == "both":
        from forecast.elicit import POOL_LABELS

        pool = config.model.prior_pool
        key = "; dashed: analysts, dotted: history" if pool.method == "linear" else ""
        return (f"The priors in force: analysts and history, {POOL_LABELS[pool.method]} "
                f"(w = {pool.weight:g}{key})")
    return "The priors in force"


def _label(table: pd.DataFrame, parameter: str) -> str:
    label = str(table.loc[table["parameter"] == parameter, "label"].iloc[0])
    if parameter.startswith("p_base"):
        label = f"Baseline: {label}"
    return label if len(label) <= 36 else label[:35] + "…"
