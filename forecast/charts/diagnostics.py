"""Convergence diagnostics: R-hat and effective sample sizes per quantity, and the chains' ranks."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast.charts.theme import (
    DOWN_COLOR,
    PALETTE,
    footer,
    label_rows,
    legend_below,
    new_axes,
    style,
    wrap,
)

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
        Chart title (default: whether the sampler, or the exact engine's weights, can be
        trusted) and provenance footer.

    Returns
    -------
    matplotlib.figure.Figure
        One row per quantity; for an empty table, a note that there is nothing to check.
    """
    with style():
        fig, ax = new_axes(ax, figsize=(9.0, 1.8 + 0.5 * max(len(table), 2)))
        weights = "pareto_khat" in table.columns and not table.empty
        ax.set_title(title or ("Can the exact engine's weights be trusted?" if weights
                               else "Can the sampler be trusted?"), loc="left")
        if table.empty:
            _nothing(ax, "No sampler diagnostics: independent draws from the prior\n"
                         "(no Markov chains to converge)")
        else:
            t = table.reset_index(drop=True)
            y = label_rows(ax, t["variable"], pad=0.3)
            _draw(ax, t, y, gate)
            _annotate(ax, t, y, gate)
        footer(fig, footer_text)
    return fig


def _nothing(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=12,
            color=PALETTE["grey"])
    ax.set_axis_off()


def _draw(ax, table: pd.DataFrame, y, gate) -> None:
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
    if weights:
        ax.set_xlabel(f"Effective number of weighted draws (log scale); the weights' Pareto "
                      f"k̂ should be ≤ {KHAT_MAX}")
    else:
        ax.set_xlabel(f"Effective sample size (log scale); R̂ should be ≤ {r_max}")
    legend_below(ax, ncols=2, fontsize=9)


def plot_ranks(tree, *, labels: Mapping[str, str] | None = None, title: str | None = None,
               footer_text: str | None = None, col_wrap: int = 4) -> Figure:
    """Rank plots of the headline probabilities, one line per chain (arviz-plots).

    Each chain's draws are ranked among all chains' draws; if every chain samples the
    same posterior, each chain's ranks are uniform, and its line (the difference between
    its ranks' ECDF and the uniform CDF) stays near zero. ArviZ's multi-chain test
    (Tesso et al. 2026) gives a p-value per quantity and marks the ranks that depart
    most. Drawn by :func:`arviz_plots.plot_rank` in the theme's colours and fonts.

    Parameters
    ----------
    tree
        A sampled fit as an xarray DataTree (:func:`forecast.store.open_tree`) whose
        ``posterior`` has ``p_keep`` (over ``base``), ``p_all`` and ``p_any``. Draws
        without chains (the exact engine's) give a figure saying so.
    labels
        Outcome id (a base, ``all``, ``any``) to its display name
        (:func:`forecast.tables.outcome_labels`), in the order drawn; only these are
        drawn (default: every base, then ``all`` and ``any``, by id).
    title, footer_text
        Chart title and provenance footer.
    col_wrap
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per outcome (arviz-plots makes the figure, so there is no ``ax``).
    """
    import matplotlib.pyplot as plt

    post = tree["posterior"].to_dataset()
    if labels is None:
        bases = [str(b) for b in post["base"].values] if "base" in post.coords else []
        labels = {o: o for o in [*bases, "all", "any"]}
    title = title or "Do the chains agree? Each chain's ranks among all draws"
    with style():
        if post.sizes.get("chain", 1) < 2:
            fig, ax = new_axes(None, figsize=(9.0, 2.6))
            ax.set_title(title, loc="left")
            _nothing(ax, "No chains to compare: independent draws weighted by the news\n"
                         "(the exact engine; its weights are checked by Pareto k-hat and ESS)")
        else:
            fig = _rank_panels(post, dict(labels), col_wrap)
            plt.close(fig)  # owned by the caller, not by pyplot (see theme.subplots)
            fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
        footer(fig, footer_text)
    return fig


def _rank_panels(post, labels: dict[str, str], col_wrap: int) -> Figure:
    from arviz_base import rcParams
    from arviz_base.labels import BaseLabeller
    from arviz_plots import plot_rank

    variables = {"all": "p_all", "any": "p_any"}
    bases = [o for o in labels if o not in variables]
    # arviz-plots lays the panels out in the data's order: the bases first, as in ``labels``
    names = ["p_keep"] * bool(bases) + [v for o, v in variables.items() if o in labels]
    data = post[names].sel(base=bases) if bases else post[names]
    alpha = 1 - rcParams["stats.envelope_prob"]  # the test's level, as arviz-plots uses it

    class Names(BaseLabeller):  # a panel's title: the outcome's display name
        def make_label_vert(self, var_name, sel, isel):
            key = sel.get("base", next((o for o, v in variables.items() if v == var_name), ""))
            return wrap(labels.get(str(key), var_name), 26)

    n = len(labels)
    cols = min(n, col_wrap)
    rows = -(-n // cols)
    pc = plot_rank(
        data, backend="matplotlib", labeller=Names(),
        col_wrap=cols, figure_kwargs={"layout": "constrained",
                                      "figsize": (3.1 * cols + 0.6, 1.2 + 2.5 * rows)},
        visuals={"title": {"size": 12},
                 "xlabel": {"text": "rank among all draws (fraction)", "size": 10}})
    fig = pc.viz["figure"].item()
    chains = list(fig.axes[0].lines)  # one per chain, in the chains' colours
    fig.legend(chains, [f"chain {i + 1}" for i in range(len(chains))], loc="outside upper right",
               ncols=len(chains), fontsize=10)
    for ax in fig.axes:
        if ax.axison:
            ax.axhline(0, color=PALETTE["grey"], lw=0.8, zorder=1)  # uniform ranks
            _verdicts(ax, alpha)
    return fig


def _verdicts(ax, alpha: float) -> None:
    """Reword arviz-plots' p-value note (``p=0.40(α=0.01)``) as a verdict, red if it fails.

    plot_rank writes the note but takes no settings for it; a note in another format is
    left as it is.
    """
    for text in ax.texts:
        found = re.fullmatch(r"p=([0-9.]+)\(α=[0-9.]+\)\s*", text.get_text())
        if found:
            p = float(found.group(1))
            bad = p < alpha
            text.set_text(f"p = {p:.2f}: chains " + ("DISAGREE" if bad else "agree"))
            text.set(color=DOWN_COLOR if bad else PALETTE["black"], fontsize=10,
                     fontweight="bold" if bad else "normal")
