"""One self-contained HTML briefing (and a PDF of the charts) for a question.

One job: put the headline numbers with their estimative words, every chart
(embedded as base64 PNG), the news ledger, the method and the diagnostics in
one HTML file that opens offline: no external address, no script. A PDF with
the same charts and a text page is written beside it with matplotlib's
``PdfPages`` (no TeX needed).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from forecast import fmt
from forecast.export import Briefing, build_briefing, chart_figures
from forecast.files import atomic_write
from forecast.tables import ISSUED, RECONSTRUCTION, estimative_word, history_layers, stale_since

CAPTIONS = {
    "headline": "{p} per outcome, all and any: prior (grey) beside posterior (blue).",
    "history": "Two layers, kept apart: the steps are a reconstruction (today's priors and "
               "model on the items dated by each day, and not retracted by then), not what "
               "was said then; the diamonds are the forecasts actually issued (the record).",
    "contributions": "Each news item's share of the move from no news, in percentage points "
                     "(Shapley values over threads and variables, split within a thread by "
                     "each item's weight): the same whatever the order of the news.",
    "scenarios": "{p} if evidence variables were settled (do(S=x)): the named scenarios of "
                 "scenarios.yaml, then each variable alone.",
    "tornado": "How far P({all}) moves when each input is pushed to the ends of its "
               "interval (importance reweighting of the fit, or fresh draws from the changed "
               "prior where the fit's draws are too few; rows with Pareto k-hat above the "
               "threshold either way are not trusted).",
    "value_of_information": "Expected change in {p} from learning each variable's state.",
    "prior_sources": "The forecast with its base rates and linked effects elicited by the "
                     "analysts, derived from the historical reference class as known at the "
                     "question's creation (reference_priors.yaml: nothing dated later enters), "
                     "or both pooled; prior hollow, posterior filled.",
    "outside_view_survival": "What history says: P(kept) by years since the shock, from the "
                             "event-history model of the reference class: as of the start, "
                             "from the class as known at the question's creation (no "
                             "hindsight), and as of the last month checked, from the class as "
                             "entered; the question's own forecasts at the horizon as points.",
    "outside_view_coefficients": "The event-history model of the reference class: how each "
                                 "feature, once known, changed the yearly odds of losing the "
                                 "base (above 1: lost sooner).",
    "outside_view_calibration": "The outside view backtested as of each origin: forecasts made "
                                "0, 1 and 2 years into each episode from what was known then, "
                                "each case's shock left out, binned against what happened; "
                                "points on the diagonal are calibrated.",
    "diagnostics": "Convergence: R-hat and effective sample sizes against the gate.",
    "priors": "Every prior as used: probabilities, baselines and odds ratios.",
}

METHOD = (
    "Each base's retention is modelled as a logistic function of a baseline and of binary "
    "evidence variables (states of the world by the horizon date), each with an elicited prior "
    "probability and an elicited effect on the odds, shared by the bases with partial pooling. "
    "A news item states its likelihood ratio were the report accurate; its Admiralty code "
    "gives the probability that it is (credibility h), and it enters as h x LR + (1 - h) "
    "(Schum). An interval is centred on its geometric midpoint, its width widening the "
    "interval rather than moving the forecast. Items repeating one origin count once; the "
    "reports of one thread (one negotiation, one exchange) count as Kish's effective number "
    "of independent reports, n / (1 + (n - 1) rho), for their elicited dependence rho. "
    "News credit is by Shapley values, independent of the order of the news. "
    "Given the states, the bases are kept independently or by one decision for both, mixed "
    "by an elicited outcome dependence. The evidence states are summed out exactly over all "
    "joint states; by default the posterior is independent draws from the prior weighted by "
    "that exact likelihood (the weights checked by Pareto k-hat, effective sample size and "
    "MCSE), with the PyMC model sampled by NUTS as the cross-check and the fallback. "
    "Scenarios, sensitivity and value of information are "
    "exact per parameter draw and averaged over the posterior. Probabilities are posterior "
    "means with central {mass:.0%} credible intervals; the words follow ICD 203."
)

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}.meta{color:#555;font-size:.9em}
.warn{background:#fff3e0;border-left:4px solid #D55E00;padding:.5em 1em}
.big{font-size:1.15em}td:first-child,td.num{white-space:nowrap}
"""


def _png_base64(fig, dpi: int = 110) -> str:
    from forecast.charts.theme import style

    buffer = io.BytesIO()
    with style():
        fig.savefig(buffer, format="png", dpi=dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _table_html(df: pd.DataFrame, formats: Mapping[str, str] | None = None,
                links: Mapping[str, str] | None = None) -> str:
    """An HTML table; ``links`` maps a shown column to the (hidden) column of its web address."""
    formats, links = formats or {}, links or {}
    shown = [c for c in df.columns if c not in links.values()]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown)
    body = []
    for _, row in df.iterrows():
        cells = []
        for col in shown:
            value = row[col]
            if col in formats and isinstance(value, int | float) and pd.notna(value):
                cells.append(f'<td class="num">{formats[col].format(value)}</td>')
                continue
            empty = value is None or (isinstance(value, float) and pd.isna(value))
            text = html.escape("" if empty else str(value))
            url = row[links[col]] if col in links else ""
            if url:  # the ledger admits only http(s) addresses; a link loads nothing itself
                text = f"<a href='{html.escape(url, quote=True)}' rel='noreferrer'>{text}</a>"
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _caption(config, name: str) -> str:
    w = config.wording
    return CAPTIONS.get(name, name).format(p=w.probability, all=w.all.lower())


SOURCE_TEXT = {
    "elicited": "the analysts' elicited intervals",
    "reference_class": "the historical reference class (reference_priors.yaml)",
    "both": "the log-linear pool of the elicited intervals and the reference class",
}


def _prior_source_html(b: Briefing) -> str:
    cfg = b.config
    text = (f"<p>Base rates and linked evidence effects come from "
            f"{html.escape(SOURCE_TEXT[cfg.prior_source])} (<code>prior_source: "
            f"{html.escape(cfg.prior_source)}</code> in model.yaml).")
    table = b.tables.get("prior_sources")
    if table is None:
        return text + "</p>"
    post = table[table["stage"] == "posterior"]
    wide = post.assign(cell=[f"{fmt.pct(r.p)} ({fmt.interval(r.lower, r.upper)})"
                             for r in post.itertuples()])
    wide = wide.pivot(index="source_label", columns="label", values="cell")
    wide = wide.loc[list(dict.fromkeys(post["source_label"])),
                    list(dict.fromkeys(post["label"]))].reset_index()
    wide = wide.rename(columns={"source_label": "priors from"})
    return (text + " The same news under each source of priors (importance sampling from "
            "fresh prior draws, so a row may differ from the headline by its Monte Carlo "
            "error; see the prior-sources chart):</p>" + _table_html(wide))


def _scenarios_html(b: Briefing) -> str:
    if not b.config.scenarios:
        return ""
    items = "".join(
        f"<li><b>{html.escape(s.name)}</b> "
        f"({html.escape(', '.join(f'{k}={v}' for k, v in s.set.items()))}): "
        f"{html.escape(s.rationale)}</li>" for s in b.config.scenarios)
    return f"<h2>Named scenarios</h2><ul>{items}</ul>"


def _outside_view_html(b: Briefing) -> str:
    bt = b.backtest
    if bt is None:
        return ""
    h = b.hazard
    scores = bt.scores.assign(origin=[f"{o} year{'s' if o != 1 else ''}"
                                      for o in bt.scores["origin"]])
    scores = scores[["origin", "label", "brier", "log_score", "n_cases"]].rename(columns={
        "label": "forecaster", "log_score": "log score (higher is better)",
        "brier": "Brier (lower is better)", "n_cases": "cases"})
    text = (f"<p>The outside view: {len(h.cases)} historical episodes of a foreign power's bases "
            f"after a regime change or a demand to leave (priors/reference_class/), every "
            f"later fact dated to the month it first held, fitted by a discrete-time hazard "
            f"model pooled by patron and by shared shock. It is scored as of each origin, 0, 1 "
            f"and 2 years into each episode, from what was known then, with the case's whole "
            f"shock left out, beside the base rate of the cases still at risk. The old "
            f"episode-coded model is shown for comparison only: its features were coded over "
            f"the whole episode, so its score is hindsight.</p>")
    warn = ""
    if not h.converged:
        warn = ("<p class='warn'>The hazard fit FAILED its convergence gate: "
                + html.escape("; ".join(h.diagnostics.get("failures", []))) + "</p>")
    return ("<h2>Outside view</h2>" + warn + text
            + _table_html(scores, {"Brier (lower is better)": "{:.3f}",
                                   "log score (higher is better)": "{:.3f}"}))


def _stale_html(b: Briefing) -> str:
    """"No news recorded since ..." when the ledger's newest entry is old."""
    since = stale_since(b.items, b.forecast.as_of)
    if since is None:
        return ""
    return (f"<p class='warn'>No news recorded since {since.isoformat()}: the ledger's newest "
            f"entry was entered then, {(b.forecast.as_of - since).days} days before this "
            "forecast. The forecast stands on the news known then.</p>")


def _layers_html(b: Briefing) -> str:
    """The record (issued forecasts) and the reconstruction, as two labelled tables."""
    cfg = b.config
    labels = {o.id: o.name for o in cfg.question.outcomes} | {
        "all": cfg.wording.all, "any": cfg.wording.any}
    shown = cfg.headline_outcomes
    layers = history_layers(b.tables["history"], b.tables.get("record"))
    mass = cfg.model.credible_mass

    def wide(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        out = []
        for _, step in rows.groupby(keys, sort=False, dropna=False):
            by = step.set_index("outcome")
            first = step.iloc[0]
            row = {k: first[k] for k in keys}
            row.update({labels[o]: f"{by.loc[o, 'p']:.0%} [{by.loc[o, 'lower']:.0%}–"
                                   f"{by.loc[o, 'upper']:.0%}]" for o in shown if o in by.index})
            row["items counting"] = int(first["n_items"])
            row["news"] = first["items"]
            out.append(row)
        return pd.DataFrame(out)

    parts = ["<h2>What was said, and the reconstruction</h2>", _stale_html(b)]
    issued = layers[layers["layer"] == "issued"]
    parts.append(f"<p><b>{html.escape(ISSUED[:1].upper() + ISSUED[1:])}.</b> Each row is a "
                 f"forecast issued into <code>record.jsonl</code> ({mass:.0%} intervals), as "
                 "it was issued: editing a prior or the model later does not change it.</p>")
    if issued.empty:
        parts.append("<p>No forecast has been issued into the record yet (<code>forecast run "
                     "--issue</code>): the numbers in this briefing are today's, and every "
                     "earlier point is a reconstruction.</p>")
    else:
        table = wide(issued.assign(issued=issued["issued"].map(
            lambda t: t.strftime("%Y-%m-%d %H:%M:%S UTC"))), ["entry", "issued", "date"])
        table = table.drop(columns="entry").rename(columns={"date": "as of",
                                                             "news": "last entry seen"})
        parts.append(_table_html(table))
    recon = layers[layers["layer"] == "reconstruction"]
    parts.append(f"<p><b>{html.escape(RECONSTRUCTION[:1].upper() + RECONSTRUCTION[1:])}.</b> "
                 "One row per ledger date (an item's, or a retraction's: from its date the "
                 "retracted item no longer counts); the first row is the priors. Scoring "
                 "these rows measures hindsight, not forecasting skill.</p>")
    table = wide(recon.assign(date=recon["date"].map(
        lambda d: "priors" if d is None or pd.isna(d) else d.isoformat())), ["date"])
    parts.append(_table_html(table.rename(columns={"date": "after", "news": "news that day"})))
    return "".join(parts)


def _headline_sentences(b: Briefing) -> str:
    post = b.tables["headline"]
    post = post[post["stage"] == "posterior"]
    mass = b.config.model.credible_mass
    items = []
    for r in post.itertuples():
        items.append(
            f"<li><b>{html.escape(r.label)}</b>: {html.escape(estimative_word(r.p))} "
            f"(<b>{r.p:.0%}</b>; {mass:.0%} interval {r.lower:.0%}–{r.upper:.0%})</li>")
    return f'<ul class="big">{"".join(items)}</ul>'


def render_html(b: Briefing, figures: Mapping, *, dpi: int = 110) -> str:
    """The briefing as one HTML document (charts embedded, no external resources)."""
    cfg, fc = b.config, b.forecast
    q = cfg.question
    diag = fc.diagnostics()
    mass = cfg.model.credible_mass
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(q.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(q.title)}</h1>",
        f"<p class='meta'>{html.escape(q.question)}<br>As of {fc.as_of.isoformat()} · horizon "
        f"{q.horizon.isoformat()} · {len(fc.evidence.item_ids)} news items · inputs "
        f"{cfg.input_hash()[:8]} · fit {fc.fit.key[:8]} ({html.escape(fc.path)}) · written "
        f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}</p>",
        "<h2>Key judgements</h2>", b.findings.html() if b.findings else "",
        "<h2>Bottom line</h2>", _headline_sentences(b), _stale_html(b),
    ]
    if not diag.get("converged", True):
        parts.append("<p class='warn'>The posterior FAILED the convergence gate: "
                     + html.escape("; ".join(fc.fit.diagnostics.get("failures", []))) + "</p>")
    untrusted = b.tables["sensitivity"]
    untrusted = untrusted.loc[~untrusted["trusted"], "parameter"].unique()
    if len(untrusted):
        parts.append("<p class='warn'>Sensitivity rows not trusted (Pareto k-hat above "
                     f"{cfg.model.fast_path.khat_max}); they need a refit: "
                     + html.escape(", ".join(untrusted)) + "</p>")
    parts += [_layers_html(b),
              "<h2>Method</h2>", f"<p>{html.escape(METHOD.format(mass=mass))}</p>",
              _prior_source_html(b), _scenarios_html(b), _outside_view_html(b),
              "<h2>Charts</h2>"]
    for name, fig in figures.items():
        parts.append(
            f"<figure id='{name}'><img alt='{html.escape(name)}' "
            f"src='data:image/png;base64,{_png_base64(fig, dpi)}'>"
            f"<figcaption>{html.escape(_caption(cfg, name))}</figcaption></figure>")
    ledger = b.tables["ledger"]
    parts.append("<h2>News ledger</h2>")
    if ledger.empty:
        parts.append("<p>No news items recorded yet: the forecast is the priors' alone.</p>")
    else:
        if (ledger["kind"] == "retraction").any():
            parts.append("<p>The ledger is append-only: a retracted item stays in it, and a "
                         "later row of kind <i>retraction</i> (with its reason and source) "
                         "withdraws it from its date on.</p>")
        parts.append(_table_html(ledger, {"credibility": "{:.2f}", "log_lr": "{:+.3f}",
                                          "entered": "{:+.3f}"},
                                 links={"source": "url"}))
    parts.append("<h2>Diagnostics</h2>")
    summary = pd.DataFrame([{k: v for k, v in diag.items()}])
    parts.append(_table_html(summary, {"r_hat_max": "{:.4f}", "ess_bulk_min": "{:.0f}",
                                       "pareto_khat": "{:.2f}"}))
    if not b.tables["diagnostics"].empty:
        parts.append(_table_html(b.tables["diagnostics"],
                                 {c: "{:.4g}" for c in b.tables["diagnostics"].columns}))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_pdf(b: Briefing, figures: Mapping, path: Path) -> Path:
    """A multi-page PDF: a text page (headline, method), then one chart per page."""
    import textwrap

    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    from forecast.charts.theme import style

    post = b.tables["headline"]
    post = post[post["stage"] == "posterior"]
    lines = [b.config.question.title, "",
             f"As of {b.forecast.as_of.isoformat()}, horizon "
             f"{b.config.question.horizon.isoformat()}", ""]
    lines += [f"{r.label}: {estimative_word(r.p)} ({r.p:.0%}; interval {r.lower:.0%}-"
              f"{r.upper:.0%})" for r in post.itertuples()]
    record = b.tables.get("record")
    n_issued = 0 if record is None or record.empty else int(record["entry"].nunique())
    lines += ["", f"Issued forecasts in the record: {n_issued}; the history chart's steps are "
                  "a reconstruction (today's model on the items dated by each day)."]
    since = stale_since(b.items, b.forecast.as_of)
    if since is not None:
        lines.append(f"No news recorded since {since.isoformat()}.")
    lines += ["", *textwrap.wrap(METHOD.format(mass=b.config.model.credible_mass), 95)]

    def draw(tmp: Path) -> None:
        with style(), PdfPages(tmp) as pdf:
            page = Figure(figsize=(8.27, 11.69))  # a text page, never displayed
            page.text(0.06, 0.95, "\n".join(lines), va="top", ha="left", fontsize=10,
                      family="DejaVu Sans", wrap=True)
            pdf.savefig(page)
            for fig in figures.values():
                pdf.savefig(fig, bbox_inches="tight")

    return atomic_write(path, draw)


def write_report(question_dir: str | Path, out_dir: str | Path, *,
                 forecast_out: str | Path = "out",
                 interventions: Mapping[str, Mapping[str, int]] | None = None,
                 pdf: bool = True, briefing: Briefing | None = None, dpi: int = 110) -> Path:
    """Write ``<question>-briefing.html`` (and ``.pdf``) under ``out_dir``.

    Parameters
    ----------
    question_dir
        The question directory.
    out_dir
        Folder for the report; created if needed.
    forecast_out
        Where fits are stored and reused.
    interventions
        Named scenario combinations for the scenario matrix.
    pdf
        Also write the PDF (charts and a text page).
    briefing
        A briefing already computed (:func:`forecast.export.build_briefing`).
    dpi
        Resolution of the embedded PNG images.

    Returns
    -------
    pathlib.Path
        The HTML file.
    """
    b = briefing or build_briefing(question_dir, forecast_out=forecast_out,
                                   interventions=interventions)
    figures = chart_figures(b)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{b.config.id}-briefing.html"
    atomic_write(path, render_html(b, figures, dpi=dpi).encode("utf-8"))
    if pdf:
        write_pdf(b, figures, path.with_suffix(".pdf"))
    return path
