"""``forecast charts`` and ``report``: the briefing as chart files, or as one HTML file."""

from __future__ import annotations

from forecast.cli.common import gate, headless
from forecast.config import load_question


def _briefing(args, folder: str):
    """The question's briefing and the results folder it is written to (``folder``).

    The question is read first: bad input is refused before anything is fitted or written.
    """
    from forecast.export import build_briefing
    from forecast.store import results_dir

    headless()
    target = results_dir(args.out, load_question(args.question), claim=True) / folder
    return build_briefing(args.question, forecast_out=args.out), target


def cmd_charts(args) -> int:
    """``forecast charts``: write the briefing chart set and its index."""
    from forecast.export import chart_figures, write_charts

    briefing, target = _briefing(args, "charts")
    index = write_charts(chart_figures(briefing), target, formats=tuple(args.format),
                         dpi=args.dpi)
    print(f"wrote {len(index)} files to {target} (index: {target / 'charts.csv'})")
    return gate(briefing.forecast, "the charts")


def cmd_report(args) -> int:
    """``forecast report``: write the self-contained HTML (and PDF) briefing."""
    from forecast.report import write_report

    briefing, target = _briefing(args, "report")
    path = write_report(args.question, target, forecast_out=args.out, briefing=briefing)
    print(f"wrote {path}")
    return gate(briefing.forecast, "the report")
