"""Write the briefing chart set of a question: stable file names and an index.

One job: compute every table of a briefing once (:class:`Briefing`), draw every
chart from it and write them under one folder as ``<chart>.<format>`` with an
index ``charts.csv`` (chart, format, path, bytes, sha256).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from forecast import analysis, charts
from forecast.attribution import shapley
from forecast.charts.theme import FORMATS, footer_text, save
from forecast.config import QuestionConfig, load_question
from forecast.engine import Forecast, compute, prior_forecast
from forecast.files import atomic_write, read_bytes
from forecast.findings import Findings, key_judgements
from forecast.ledger import NewsItem, load_ledger
from forecast.news import history
from forecast.record import last_item, read_record, record_table
from forecast.reference import OutsideView, outside_view
from forecast.tables import diagnostics_table, headline_table, ledger_table

#: The chart set, in briefing order; each name is also the file stem. ``prior_sources``
#: is drawn only for a question with a current ``reference_priors.yaml``;
#: ``outside_view_survival`` only for a question coded as a case (``reference_case.yaml``)
#: when the briefing has the event-history fit, whose hazard coefficients then replace the
#: old episode-coded model's in ``outside_view_coefficients``; the other ``outside_view_*``
#: chart only when the briefing has the (old) outside view.
CHARTS = ("headline", "history", "contributions", "scenarios", "tornado",
          "value_of_information", "prior_sources", "outside_view_survival",
          "outside_view_coefficients", "outside_view_calibration", "diagnostics", "priors")


@dataclass
class Briefing:
    """Everything a briefing shows, computed once."""

    config: QuestionConfig
    items: list[NewsItem]
    forecast: Forecast
    prior: Forecast
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    outside: OutsideView | None = None
    findings: Findings | None = None
    hazard: object | None = None  # forecast.hazard.HazardFit, when the briefing has it
    backtest: object | None = None  # forecast.hazard_backtest.HazardBacktest, likewise


def build_briefing(question_dir: str | Path, *, forecast_out: str | Path = "out",
                   interventions: Mapping[str, Mapping[str, int]] | None = None,
                   forecast: Forecast | None = None,
                   outside: OutsideView | bool = True, hazard_fit: object = True,
                   backtest: object = True) -> Briefing:
    """Compute the forecast and every table of the briefing.

    Parameters
    ----------
    question_dir
        The question directory.
    forecast_out
        Where fits are stored (a fit is made there if none can be reused).
    interventions
        Named scenario combinations (:func:`forecast.analysis.scenarios`); default:
        the question's ``scenarios.yaml``.
    forecast
        Use this forecast instead of computing one (its config must be the question's).
    outside
        The outside view (the historical reference class, its coefficients and
        leave-one-out calibration): ``True`` uses the fit stored under
        ``forecast_out/reference_class/`` or fits and stores it (about 15 s, once per
        set of inputs); ``False`` leaves it out; an :class:`OutsideView` is used as given.
        ``True`` is not computed for a question the event-history view covers (its
        survival, coefficients and calibration charts replace the old model's).
    hazard_fit
        The event-history fit (:mod:`forecast.hazard`) for the survival chart and the
        hazard coefficients: ``True`` uses the one stored under
        ``forecast_out/reference_class/`` or fits and stores it; ``False`` leaves it out;
        a :class:`forecast.hazard.HazardFit` is used as given. Ignored for a question
        without ``reference_case.yaml``.
    backtest
        The hazard model's as-of-origin backtest for the calibration chart: ``True`` uses
        the one stored under ``forecast_out/reference_class/`` or computes and stores it
        (about a minute, once per fit); ``False`` leaves it out; a
        :class:`forecast.hazard_backtest.HazardBacktest` is used as given.
    """
    config = forecast.config if forecast is not None else load_question(question_dir)
    items = load_ledger(config)
    fc = forecast if forecast is not None else compute(config, items, out=forecast_out)
    prior = prior_forecast(config)
    b = Briefing(config, items, fc, prior)
    b.tables["headline"] = headline_table(fc, prior=prior)
    b.tables["history"] = history(config, out=forecast_out, today=fc.as_of, engine=fc.engine)
    b.tables["ledger"] = ledger_table(config, items)
    # What was actually issued (record.jsonl), drawn beside the reconstruction; an
    # absent record is empty, a damaged one stops the briefing naming the line.
    b.tables["record"] = record_table(read_record(config))
    credit = shapley(fc, items)  # 2**G reweightings: once, for the waterfall and the words
    b.tables["contributions"] = analysis.contributions(fc, items, credit=credit)
    b.findings = key_judgements(fc, items, credit=credit)
    if interventions is None:
        interventions = config.interventions()
    b.tables["scenarios"] = analysis.scenarios(fc, interventions)
    b.tables["sensitivity"] = analysis.sensitivity(config, items, forecast=fc)
    b.tables["value_of_information"] = analysis.value_of_information(fc)
    b.tables["diagnostics"] = diagnostics_table(fc.fit.diagnostics, fc)
    b.tables["priors"] = analysis.prior_densities(config)
    if config.linked is not None:
        b.tables["prior_sources"] = analysis.compare_prior_sources(
            config, items, as_of=fc.as_of, out=forecast_out)
    uses_hazard = hazard_fit is not False and config.reference_case is not None
    if outside is True and not uses_hazard:
        # the old model's view (with its leave-one-out backtest) only where the event-history
        # view does not replace it: computing it there would be thrown away
        from forecast.reference_store import cached_reference_fit

        outside = outside_view(cached_reference_fit(forecast_out)[0])
    if isinstance(outside, OutsideView):
        b.outside = outside
        b.tables["outside_view_coefficients"] = outside.coefficients
        b.tables["outside_view_calibration"] = outside.calibration
        b.tables["outside_view_scores"] = outside.scores
    if uses_hazard:
        if hazard_fit is True:
            from forecast.reference_store import cached_hazard_fit

            hazard_fit = cached_hazard_fit(forecast_out)[0]
        b.hazard = hazard_fit
        b.tables["outside_view_survival"] = _survival(b)
        b.tables["outside_view_coefficients"] = hazard_fit.coefficients().rename(columns={
            "hazard_odds_ratio": "odds_ratio", "lower": "or_lower", "upper": "or_upper"})
        if backtest is True:
            from forecast.reference_store import cached_hazard_backtest

            backtest = cached_hazard_backtest(forecast_out, hazard_fit)[0]
        if backtest is not False:
            b.backtest = backtest
            b.tables["outside_view_calibration"] = backtest.calibration
            b.tables["outside_view_scores"] = backtest.scores
    return b


def _survival(b: Briefing) -> pd.DataFrame:
    """History's survival curves for the question, with the question's own forecasts at the
    horizon as points: the analysts' prior, the pooled prior (when linked) and the forecast
    given the news, for the first base."""
    from forecast.history_view import survival_table

    lead = b.config.bases[0]
    name = {o.id: o.name for o in b.config.question.outcomes}[lead]
    points: dict[str, tuple[float, float, float]] = {}
    sources = b.tables.get("prior_sources")
    if sources is not None:
        at = sources[sources["outcome"] == lead].set_index(["source", "stage"])
        for label, key in ((f"analysts' prior ({name})", ("elicited", "prior")),
                           (f"pooled prior, analysts and history ({name})", ("both", "prior"))):
            if key in at.index:
                r = at.loc[key]
                points[label] = (float(r["p"]), float(r["lower"]), float(r["upper"]))
    else:
        s = b.prior.probabilities()[lead]
        points[f"analysts' prior ({name})"] = (s.mean, s.lower, s.upper)
    s = b.forecast.probabilities()[lead]
    points[f"the forecast given the news, priors {b.config.prior_source} ({name})"] = (
        s.mean, s.lower, s.upper)
    return survival_table(b.config, b.hazard, today=b.forecast.as_of, points=points)


def _last_recorded(items: list[NewsItem]):
    """When the newest ledger item was entered (its ``recorded`` stamp), if stamped."""
    last = last_item(items)
    return None if last is None else last.recorded


def chart_figures(b: Briefing) -> dict[str, Figure]:
    """Every chart of the briefing, keyed by its stable name (:data:`CHARTS`)."""
    foot = footer_text(b.forecast)
    mass = b.config.model.credible_mass
    t = b.tables
    words = b.config.wording
    figures = {
        "headline": charts.plot_headline(t["headline"], title=b.config.question.title,
                                         footer_text=foot, mass=mass, xlabel=words.axis),
        "history": charts.plot_history(t["history"], ledger=t["ledger"], config=b.config,
                                       footer_text=foot, as_of=b.forecast.as_of,
                                       record=t.get("record"),
                                       last_recorded=_last_recorded(b.items)),
        "contributions": charts.plot_contributions(t["contributions"], footer_text=foot,
                                                   xlabel=words.probability),
        "scenarios": charts.plot_scenarios(t["scenarios"], footer_text=foot),
        "tornado": charts.plot_tornado(t["sensitivity"], outcome=b.config.headline_outcomes[
            -2 if len(b.config.bases) > 1 else 0], footer_text=foot),  # "all", or the one
        "value_of_information": charts.plot_voi(t["value_of_information"], footer_text=foot,
                                                mass=mass, probability=words.probability),
        "diagnostics": charts.plot_diagnostics(t["diagnostics"], gate=b.config.model.gate,
                                               footer_text=foot),
        "priors": charts.plot_priors(t["priors"], config=b.config, footer_text=foot),
    }
    if "prior_sources" in t:
        figures["prior_sources"] = charts.plot_prior_sources(
            t["prior_sources"], footer_text=foot, mass=mass, xlabel=words.axis,
            title="Where the priors come from: analysts, history, or both")
    if "outside_view_survival" in t:
        from forecast.charts.survival import plot_survival

        h = b.hazard
        h_foot = (f"{b.config.question.title} | hazard model, {len(h.cases)} cases, seed "
                  f"{h.settings.sampler.seed} | as of {b.forecast.as_of.isoformat()} | "
                  f"horizon {b.config.question.horizon.isoformat()}")
        figures["outside_view_survival"] = plot_survival(
            t["outside_view_survival"], footer_text=h_foot, mass=h.settings.credible_mass,
            title="How long bases last after a shock: history beside the forecast")
        figures["outside_view_coefficients"] = charts.plot_coefficients(
            t["outside_view_coefficients"], footer_text=h_foot, higher="lost",
            mass=h.settings.credible_mass,
            title="The event-history model: what raises the yearly odds of losing a base"
                  + ("" if h.converged else " (fit FAILED its convergence gate)"))
    if b.outside is not None:
        o = b.outside
        failed = "" if o.converged else " (fit FAILED its convergence gate)"
        o_foot = (f"{o.footer(b.config.question.title)} | as of {b.forecast.as_of.isoformat()}"
                  f" | horizon {b.config.question.horizon.isoformat()}")
        if "outside_view_coefficients" not in figures:  # no event-history fit
            figures["outside_view_coefficients"] = charts.plot_coefficients(
                o.coefficients, footer_text=o_foot, mass=o.mass,
                title=f"The old outside view (episode-coded, hindsight): what moves "
                      f"retention{failed}")
    if b.backtest is not None:
        from forecast.charts.outside_view import plot_backtest_reliability

        bt = b.backtest
        n = bt.scores.groupby("origin")["n_cases"].max()
        at_risk = ", ".join(f"{v} at {k} y" for k, v in n.items())
        figures["outside_view_calibration"] = plot_backtest_reliability(
            bt.calibration, scores=bt.scores, mass=b.hazard.settings.credible_mass,
            footer_text=(f"{b.config.question.title} | hazard model, {len(b.hazard.cases)} "
                         f"cases (at risk: {at_risk}) | each case's shock left out | "
                         f"as of {b.forecast.as_of.isoformat()} | horizon "
                         f"{b.config.question.horizon.isoformat()}"))
    return {name: figures[name] for name in CHARTS if name in figures}


def write_charts(figures: Mapping[str, Figure], out_dir: str | Path,
                 formats: tuple[str, ...] = ("png", "svg", "pdf"),
                 dpi: int | None = None) -> pd.DataFrame:
    """Save figures as ``<name>.<format>`` under ``out_dir`` and write ``charts.csv``.

    Names may not contain path separators (:func:`forecast.charts.theme.save`
    refuses them), so nothing is written outside ``out_dir``.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown format(s) {bad}; allowed: {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    rows = []
    for name, fig in figures.items():
        for path in save(fig, out_dir, name, formats=tuple(formats), dpi=dpi):
            data = read_bytes(path, limit=None)
            rows.append({"chart": name, "format": path.suffix[1:], "path": path.name,
                         "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    index = pd.DataFrame(rows, columns=["chart", "format", "path", "bytes", "sha256"])
    atomic_write(out_dir / "charts.csv", index.to_csv(index=False))
    return index


def export_charts(question_dir: str | Path, out_dir: str | Path,
                  formats: tuple[str, ...] = ("png", "svg", "pdf"), dpi: int | None = None,
                  *, forecast_out: str | Path = "out",
                  interventions: Mapping[str, Mapping[str, int]] | None = None,
                  outside: OutsideView | bool = True, hazard_fit: object = True,
                  backtest: object = True) -> pd.DataFrame:
    """Write the whole chart set of a question and its index.

    Parameters
    ----------
    question_dir
        The question directory (its ledger is read from it).
    out_dir
        Folder for the charts; created if needed.
    formats
        Any of ``png``, ``svg``, ``pdf``.
    dpi
        Raster resolution (default: the theme's).
    forecast_out
        Where fits are stored and reused.
    interventions
        Named scenario combinations for the scenario matrix.
    outside, hazard_fit, backtest
        The outside view, the event-history fit and its backtest (see
        :func:`build_briefing`).

    Returns
    -------
    pandas.DataFrame
        The index written to ``out_dir/charts.csv``: ``chart, format, path`` (relative
        to ``out_dir``), ``bytes, sha256``.
    """
    b = build_briefing(question_dir, forecast_out=forecast_out, interventions=interventions,
                       outside=outside, hazard_fit=hazard_fit, backtest=backtest)
    return write_charts(chart_figures(b), out_dir, formats=tuple(formats), dpi=dpi)
