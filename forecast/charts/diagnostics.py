"""Convergence diagnostics: R-hat and effective sample sizes per sampled quantity."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast.charts.theme import DOWN_COLOR, PALETTE, footer, legend_below, new_axes, style

#: The Pareto k-hat above which importance weights are not trusted (Vehtari et al., 2024).
KHAT_MAX = 0.7


def plot_diagnostics(table: pd.DataFrame, *, gate=None, ax=None, title: str | None = None,
                     footer_text: str | None = None) -> Figure:
    """Bulk and tail ESS per quantity (log scale), R-hat written beside, against the gate.

    Parameters
    ----------
    table
        :func:`forecast.tables.diagnostics_table`: ``variable, r_hat_max,
        ess_bulk_min, ess_tail_min``. Empty for prior draws (nothing sampled).
    gate
        The ``gate`` of ``model.yaml`` (``r_hat_max``, ``ess_bulk_min``,
        ``ess_tail_min``): drawn as reference lines and used to mark failures.
    ax
        Axes to draw on (a new figure when None).
    title, footer_text
        Chart title and provenance footer.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with style():
        fig, ax = new_axes(ax, figsize=(9.0, 1.8 + 0.5 * max(len(table), 2)))
        weights = "pareto_khat" in table.columns and not table.empty
        ax.set_title(title or ("Can the exact engine's weights be trusted?" if weights
                               else "Can the sampler be trusted?"), loc="left")
        if table.empty:
            ax.text(0.5, 0.5, "No sampler diagnostics: independent draws from the prior\n"
                    "(no Markov chains to converge)", ha="center", va="center",
                    transform=ax.transAxes, fontsize=12, color=PALETTE["grey"])
            ax.set_axis_off()
        else:
            t = table.reset_index(drop=True)
            _draw(ax, t, gate)
            _annotate(ax, t, np.arange(len(t))[::-1], gate)
        if footer_text:
            footer(fig, footer_text)
    return fig


def _draw(ax, table: pd.DataFrame, gate) -> None:
    y = np.arange(len(table))[::-1]
    if "pareto_khat" in table.columns:  # independent weighted draws: one size, one gate
        ax.scatter(table["ess_bulk_min"], y, marker="o", s=60, color=PALETTE["blue"],
                   label="effective number of draws", zorder=3)
        if gate is not None:
            ax.axvline(gate.ess_bulk_min, color=PALETTE["blue"], ls="--", lw=1.2,
                       label=f"gate: ≥ {gate.ess_bulk_min:.0f}")
        ax.set_xscale("log")
        hi = float(np.nanmax(table["ess_bulk_min"]))
        lo = min(float(np.nanmin(table["ess_bulk_min"])),
                 gate.ess_bulk_min if gate is not None else np.inf)
        ax.set_xlim(lo / 2, hi * 6)
    else:
        _chains(ax, table, y, gate)


def _chains(ax, table: pd.DataFrame, y, gate) -> None:
    ax.scatter(table["ess_bulk_min"], y + 0.12, marker="o", s=60, color=PALETTE["blue"],
               label="bulk ESS (worst element)", zorder=3)
    ax.scatter(table["ess_tail_min"], y - 0.12, marker="D", s=50, color=PALETTE["orange"],
               label="tail ESS (worst element)", zorder=3)
    if gate is not None:
        ax.axvline(gate.ess_bulk_min, color=PALETTE["blue"], ls="--", lw=1.2,
                   label=f"gate: bulk ESS ≥ {gate.ess_bulk_min:.0f} (headline)")
        ax.axvline(gate.ess_tail_min, color=PALETTE["orange"], ls=":", lw=1.4,
                   label=f"gate: tail ESS ≥ {gate.ess_tail_min:.0f} (headline)")
    ax.set_xscale("log")
    hi = float(np.nanmax(table[["ess_bulk_min", "ess_tail_min"]].to_numpy()))
    lo = float(np.nanmin(table[["ess_bulk_min", "ess_tail_min"]].to_numpy()))
    if gate is not None:
        lo = min(lo, gate.ess_tail_min)
    ax.set_xlim(lo / 2, hi * 6)


def _annotate(ax, table: pd.DataFrame, y, gate) -> None:
    r_max = gate.r_hat_max if gate is not None else 1.01
    weights = "pareto_khat" in table.columns  # the exact engine: weights, not chains
    for yi, r in zip(y, table.itertuples(), strict=True):
        if weights:
            bad, text = r.pareto_khat > KHAT_MAX, f"k̂ {r.pareto_khat:.2f}"
        else:
            bad, text = r.r_hat_max > r_max, f"R̂ {r.r_hat_max:.3f}"
        ax.annotate(text, (1.0, yi), xycoords=("axes fraction", "data"),
                    xytext=(-4, 0), textcoords="offset points", ha="right", va="center",
                    fontsize=10, color=DOWN_COLOR if bad else PALETTE["black"],
                    fontweight="bold" if bad else "normal")
    ax.set_yticks(y, table["variable"])
    ax.set_ylim(-0.7, len(table) - 0.3)
    if weights:
        ax.set_xlabel(f"Effective number of weighted draws (log scale); the weights' Pareto "
                      f"k̂ should be ≤ {KHAT_MAX}")
    else:
        ax.set_xlabel(f"Effective sample size (log scale); R̂ should be ≤ {r_max}")
    ax.grid(axis="y", visible=False)
    legend_below(ax, ncols=2, fontsize=9)
