"""The one visual theme of every chart: palette, fonts, footer, saving.

Colour-blind-safe (Okabe-Ito) and sized so that text stays readable when a
chart is pasted into a slide at half width.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from forecast.files import atomic_write

#: Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
    "grey": "#7F7F7F",
}
PRIOR_COLOR = PALETTE["grey"]
POSTERIOR_COLOR = PALETTE["blue"]
UP_COLOR = PALETTE["blue"]
DOWN_COLOR = PALETTE["vermillion"]

RC = {
    "figure.figsize": (8.0, 4.5),
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.titleweight": "bold",
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE.values())),
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}

FORMATS = ("png", "svg", "pdf")


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Apply the theme for the duration of a plot."""
    with plt.rc_context(RC):
        yield


def subplots(nrows: int = 1, ncols: int = 1, *, figsize=None, **kwargs):
    """A new figure and its axes, owned by the caller rather than by pyplot.

    No backend is chosen here: under Jupyter's inline backend the returned Figure
    displays once, as the cell's result (an open pyplot figure would also be shown
    by the backend at the end of the cell, twice in all); headless, matplotlib
    falls back to Agg by itself. The figure is closed in pyplot's registry at
    once, so a briefing's many charts never pile up as open windows, while
    drawing and saving it still work.
    """
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize or RC["figure.figsize"],
                             layout="constrained", **kwargs)
    plt.close(fig)
    return fig, axes


def new_axes(ax=None, figsize=None):
    """Use the given axes, or make a figure with one (:func:`subplots`)."""
    if ax is not None:
        return ax.figure, ax
    return subplots(figsize=figsize)


def footer(fig: Figure, text: str | None) -> None:
    """Write the provenance footer (question, as-of date, horizon, data version).

    It is the figure's ``supxlabel``, so that constrained layout keeps room for
    it below everything else (legends placed outside the axes included). No text
    (a chart drawn without provenance) writes nothing.
    """
    if not text:
        return
    size = 8.5
    # Break at the " | " separators so the line never runs past a narrow figure's edge
    # (a tight bounding box would otherwise widen the saved image to the footer's length).
    per_line = max(40, int(fig.get_figwidth() * 72 / (size * 0.56)))
    lines, line = [], ""
    for part in text.split(" | "):
        candidate = f"{line} | {part}" if line else part
        if line and len(candidate) > per_line:
            lines.append(line)
            candidate = part
        line = candidate
    lines.append(line)
    fig.supxlabel("\n".join(lines), x=0.0, ha="left", fontsize=size, color=PALETTE["grey"],
                  fontweight="normal")


def label_rows(ax, labels, *, pad: float = 0.4) -> np.ndarray:
    """One horizontal row per label, the first on top; returns the rows' y positions.

    Sets the tick labels and the limits (``pad`` of a row's height beyond the outer
    rows) and turns the horizontal grid off: its lines would run through the rows.
    """
    labels = list(labels)
    y = np.arange(len(labels))[::-1]
    ax.set_yticks(y, labels)
    ax.set_ylim(pad - 1, len(labels) - pad)
    ax.grid(axis="y", visible=False)
    return y


def footer_text(forecast) -> str:
    """The standard footer line for a forecast."""
    q = forecast.config.question
    if forecast.engine == "exact":
        d = forecast.diagnostics()
        how = (f"exact engine: {forecast.fit.params.n:,} prior draws weighted by the news, "
               f"k-hat {d.get('pareto_khat', 0.0):.2f}, effective draws {d['ess_bulk_min']:,.0f}")
    else:
        how = f"NUTS fit {forecast.fit.key[:8]} ({forecast.path})"
    return (
        f"{q.title} | as of {forecast.as_of.isoformat()} | horizon {q.horizon.isoformat()} | "
        f"{len(forecast.evidence.item_ids)} news items | inputs {forecast.config.input_hash()[:8]}"
        f" | {how}"
    )


def save(fig: Figure, directory: str | Path, stem: str, formats=("png",), dpi: int | None = None
         ) -> list[Path]:
    """Save a figure under ``directory`` as ``stem.<fmt>`` for each format.

    The stem may not contain a path separator, so a file can never escape the
    output directory.
    """
    if not stem or "/" in stem or "\\" in stem or stem.startswith("."):
        raise ValueError(f"invalid chart file name {stem!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
        path = directory / f"{stem}.{fmt}"
        with style():  # the theme's savefig settings (dpi, tight bbox keeping the footer)
            atomic_write(path, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=dpi))
        written.append(path)
    return written


def config_footer(config, as_of=None) -> str:
    """A footer line for a chart drawn from a question's files alone (no forecast)."""
    q = config.question
    when = f"as of {as_of.isoformat()} | " if as_of is not None else ""
    return (f"{q.title} | {when}horizon {q.horizon.isoformat()} | "
            f"inputs {config.input_hash()[:8]}")


def diverging_cmap():
    """Vermillion (down) through white to blue (up): the palette's colour-blind-safe pair."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list(
        "forecast_diverging", [DOWN_COLOR, "#F7F7F7", UP_COLOR])


def wrap(text: str, width: int = 44, *, split_words: bool = True) -> str:
    """``text`` broken into lines of at most ``width`` characters (titles, axis labels).

    ``split_words=False`` breaks only at spaces, never inside a word or at a hyphen
    (short labels, where a split word reads worse than an overlong line).
    """
    import textwrap

    return "\n".join(textwrap.wrap(text, width, break_long_words=split_words,
                                    break_on_hyphens=split_words))


def pct(p: float) -> str:
    """A probability as a whole percentage, with '<1%'/'>99%' at the ends."""
    if p < 0.005:
        return "<1%"
    if p > 0.995:
        return ">99%"
    return f"{p:.0%}"


#: One colour per outcome, in the order of the question's bases, then both, then either.
OUTCOME_COLORS = (PALETTE["blue"], PALETTE["orange"], PALETTE["green"], PALETTE["purple"],
                  PALETTE["sky"], PALETTE["vermillion"])


def legend_below(ax, handles=None, labels=None, *, ncols: int = 2, **kwargs):
    """A legend centred under the axes' x label, never over the data or the footer.

    Placed a fixed distance in points below the axes (tick labels and x label fit
    above it); constrained layout makes room for it, and the footer goes under it.
    """
    from matplotlib.transforms import offset_copy

    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    below = 14 + 1.6 * (matplotlib.rcParams["xtick.labelsize"]
                        + matplotlib.rcParams["axes.labelsize"]) if ax.get_xlabel() else 24
    transform = offset_copy(ax.transAxes, fig=ax.figure, y=-below, units="points")
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                     bbox_transform=transform, ncols=ncols, **kwargs)
