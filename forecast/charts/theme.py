"""The one visual theme of every chart: palette, fonts, footer, saving.

Colour-blind-safe (Okabe-Ito) and sized so that text stays readable when a
chart is pasted into a slide at half width.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # charts are files; never need a screen
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

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


def new_axes(ax=None, figsize=None):
    """Use the given axes, or make a figure with one."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize or RC["figure.figsize"], layout="constrained")
    return fig, ax


def footer(fig: Figure, text: str) -> None:
    """Write the provenance footer (question, as-of date, horizon, data version)."""
    fig.text(0.0, -0.02, text, ha="left", va="top", fontsize=8.5, color=PALETTE["grey"],
             transform=fig.transFigure)


def footer_text(forecast) -> str:
    """The standard footer line for a forecast."""
    q = forecast.config.question
    return (
        f"{q.title} | as of {forecast.as_of.isoformat()} | horizon {q.horizon.isoformat()} | "
        f"{len(forecast.evidence.item_ids)} news items | inputs {forecast.config.input_hash()[:8]}"
        f" | fit {forecast.fit.key[:8]} ({forecast.path})"
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
        fig.savefig(path, format=fmt, dpi=dpi)
        written.append(path)
    return written
