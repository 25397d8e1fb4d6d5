"""Charts, the chart export and the HTML report: every chart renders, readably, everywhere.

No MCMC for the question: its "fit" is independent prior draws resampled to the news
(:func:`conftest.store_fit_from_prior`), stored where the engine finds it. The
outside view comes from the session's simulated reference fit (``test_reference``).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import NAMED, NEWS, TODAY, make_question, short_hazard_fit, store_fit_from_prior

REVIEW_DIR = Path("/tmp/charts_review")


@pytest.fixture(scope="module")
def outside(sim_fit):
    from forecast.reference import outside_view

    return outside_view(sim_fit)


@pytest.fixture(scope="module")
def hazard_fit(tmp_path_factory):
    """A short event-history fit of the synthetic dated reference class (no real MCMC cost),
    as known at the question's creation: the survival chart's view "as of the start" may
    use nothing later (a fit of the class as entered is refused there)."""
    from synthetic_reference import CREATED, write_synthetic

    directory = write_synthetic(tmp_path_factory.mktemp("synthetic_hazard"))
    return short_hazard_fit(directory, known_at=CREATED)


@pytest.fixture(scope="module")
def briefing(tmp_path_factory, outside, hazard_fit):
    from forecast.config import load_question
    from forecast.engine import compute
    from forecast.export import build_briefing
    from forecast.ledger import load_ledger

    root = tmp_path_factory.mktemp("charts")
    qdir = make_question(root, news=NEWS)
    config = load_question(qdir)
    items = load_ledger(config, today=TODAY)
    out = root / "out"
    store_fit_from_prior(config, items, out, pool=8000)
    fc = compute(config, items, out=out, as_of=TODAY, allow_fit=False, allow_reweight=False,
                 engine="nuts")
    from forecast.hazard_backtest import backtest

    b = build_briefing(qdir, forecast_out=out, interventions=NAMED, forecast=fc, outside=outside,
                       hazard_fit=hazard_fit, backtest=backtest(hazard_fit, refit=False))
    b.tables["qdir"] = qdir  # type: ignore[assignment]
    b.tables["out"] = out  # type: ignore[assignment]
    return b


@pytest.fixture(scope="module")
def figures(briefing):
    from forecast.export import chart_figures

    return chart_figures(briefing)


def _not_blank(path: Path) -> float:
    import matplotlib.image as mpimg

    pixels = mpimg.imread(path)[..., :3]
    return float(pixels.std())


def test_every_chart_renders_to_png_svg_pdf(figures, tmp_path):
    from forecast.charts import save
    from forecast.export import CHARTS

    assert list(figures) == list(CHARTS)
    for name, fig in figures.items():
        paths = save(fig, tmp_path, name, formats=("png", "svg", "pdf"), dpi=50)
        assert [p.suffix for p in paths] == [".png", ".svg", ".pdf"]
        assert all(p.stat().st_size > 1000 for p in paths), name
        assert paths[2].read_bytes().startswith(b"%PDF")
        assert b"<svg" in paths[1].read_bytes()[:2000]
        # a blank white figure has pixel std 0; a chart is far from it
        assert _not_blank(paths[0]) > 0.05, name
        if os.environ.get("FORECAST_CHART_REVIEW"):  # for eyes: /tmp/charts_review
            save(fig, REVIEW_DIR, name, formats=("png",), dpi=100)


def test_charts_carry_the_footer_and_estimative_words(figures, briefing):
    texts = {name: " ".join(t.get_text() for t in fig.findobj(
        lambda a: hasattr(a, "get_text"))) for name, fig in figures.items()}
    q = briefing.config.question
    for name, text in texts.items():
        assert q.title in text and q.horizon.isoformat() in text, name
    words = ("unlikely", "likely", "even chance", "almost")
    for name in ("headline", "contributions", "scenarios", "tornado"):
        assert any(w in texts[name] for w in words), name


def test_charts_accept_an_axes(briefing):
    import matplotlib.pyplot as plt

    from forecast import charts

    t = briefing.tables
    for draw in (
        lambda ax: charts.plot_history(t["history"], ax=ax, config=briefing.config),
        lambda ax: charts.plot_contributions(t["contributions"], ax=ax),
        lambda ax: charts.plot_scenarios(t["scenarios"], ax=ax),
        lambda ax: charts.plot_tornado(t["sensitivity"], outcome="khmeimim", ax=ax),
        lambda ax: charts.plot_voi(t["value_of_information"], ax=ax),
        lambda ax: charts.plot_diagnostics(t["diagnostics"], ax=ax),
        lambda ax: charts.plot_priors(t["priors"], ax=ax),
        lambda ax: charts.plot_prior_sources(t["prior_sources"], ax=ax),
        lambda ax: charts.plot_coefficients(t["outside_view_coefficients"], ax=ax),
        lambda ax: charts.plot_reliability(
            t["outside_view_calibration"].query("origin == 0"), ax=ax),
    ):
        fig, ax = plt.subplots()
        assert draw(ax) is fig
        plt.close(fig)


def test_survival_chart_shows_history_and_the_questions_points(briefing, figures):
    """The survival chart: history's curves as of the start (and today), the question's
    forecasts at the horizon as points; the hazard coefficients read as odds of LOSS."""
    table = briefing.tables["outside_view_survival"]
    curves = table[table["kind"] == "curve"]
    assert curves["source"].iloc[0].startswith("history, as of the start")
    assert curves["p"].between(0, 1).all() and (curves["lower"] <= curves["upper"]).all()
    points = table[table["kind"] == "point"]
    assert any(s.startswith("analysts") for s in points["source"])
    assert any("given the news" in s for s in points["source"])
    assert np.allclose(points["year"], table.attrs["horizon_years"])
    ax = figures["outside_view_survival"].axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    # each source is in the key, with its value at the horizon
    for source in set(table["source"]):
        assert any(label.startswith(f"{source}: ") and "%" in label for label in labels), source
    coef = figures["outside_view_coefficients"].axes[0]
    assert "LOSING" in coef.get_xlabel()


def test_the_briefing_shows_the_questions_named_scenarios_and_wording(briefing, figures):
    """Without explicit interventions, the scenarios come from ``scenarios.yaml``."""
    from forecast.export import build_briefing

    config = briefing.config
    assert config.scenarios  # the seed question ships named scenarios
    b = build_briefing(briefing.tables["qdir"], forecast_out=briefing.tables["out"],
                       forecast=briefing.forecast, outside=False, hazard_fit=False)
    assert b.outside is None and "outside_view_calibration" not in b.tables
    combos = b.tables["scenarios"].query("kind == 'combination'")
    assert list(dict.fromkeys(combos["scenario"])) == [s.name for s in config.scenarios]
    for s in config.scenarios:
        assert set(combos.loc[combos["scenario"] == s.name, "intervention"]) == {
            ", ".join(f"{k}={v}" for k, v in s.set.items())}
    # The question's wording labels the axes and the outcomes.
    text = " ".join(t.get_text() for t in figures["headline"].findobj(
        lambda a: hasattr(a, "get_text")))
    assert config.wording.axis in text and config.wording.all in text
    assert config.wording.probability in figures["value_of_information"].axes[0].get_xlabel()


def _chains_tree(shift: float):
    """Four chains of iid draws; chain 4 of ``p_all`` moved by ``shift`` (0: all agree)."""
    import xarray as xr

    rng = np.random.default_rng(3)
    p_all = rng.beta(4, 6, size=(4, 600))
    p_all[3] = np.clip(p_all[3] + shift, 0, 1)
    ds = xr.Dataset({"p_keep": (("chain", "draw", "base"), rng.beta(6, 4, size=(4, 600, 2))),
                     "p_all": (("chain", "draw"), p_all),
                     "p_any": (("chain", "draw"), rng.beta(8, 2, size=(4, 600)))},
                    coords={"base": ["north", "south"]})
    return xr.DataTree.from_dict({"posterior": ds})


def test_rank_chart_flags_the_chain_that_disagrees_and_only_it():
    import matplotlib.pyplot as plt

    from forecast import charts

    labels = {"south": "South port", "north": "North field", "all": "Both kept"}
    fig = charts.plot_ranks(_chains_tree(0.25), labels=labels, footer_text="Q | as of today")
    assert fig.number not in plt.get_fignums()  # owned by the caller, as every chart
    panels = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in panels] == list(labels.values())  # labels' order, not ids
    notes = {ax.get_title(): [t.get_text() for t in ax.texts] for ax in panels}
    assert any("DISAGREE" in n for n in notes["Both kept"]), notes
    for name in ("South port", "North field"):
        assert any(n.endswith("chains agree") for n in notes[name]), notes
    assert all(len(ax.get_lines()) >= 4 for ax in panels)  # a line per chain (and zero)
    assert "as of today" in fig.get_supxlabel()
    calm = charts.plot_ranks(_chains_tree(0.0), labels=labels)
    assert not any("DISAGREE" in t.get_text() for ax in calm.axes for t in ax.texts)


def test_rank_chart_of_draws_without_chains_says_so(tmp_path):
    import xarray as xr

    from forecast import charts

    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(
        {"p_all": (("draw",), np.linspace(0, 1, 50))})})
    fig = charts.plot_ranks(tree)
    assert "No chains to compare" in " ".join(t.get_text() for t in fig.axes[0].texts)
    (path,) = charts.save(fig, tmp_path, "no_chains", dpi=50)
    assert _not_blank(path) > 0.01


def test_priors_chart_from_prior_table_and_empty_diagnostics(briefing, tmp_path):
    from forecast import charts
    from forecast.tables import diagnostics_table, prior_table

    fig = charts.plot_priors(prior_table(briefing.config), config=briefing.config)
    empty = charts.plot_diagnostics(diagnostics_table({}))
    for name, f in (("priors_table", fig), ("no_diagnostics", empty)):
        (path,) = charts.save(f, tmp_path, name, dpi=50)
        assert _not_blank(path) > 0.01
    with pytest.raises(ValueError, match="config"):
        charts.plot_priors(prior_table(briefing.config))


def test_save_refuses_names_that_escape(figures, tmp_path):
    from forecast.charts import save

    fig = figures["headline"]
    for stem in ("../escape", "a/b", "..\\x", ".hidden", ""):
        with pytest.raises(ValueError):
            save(fig, tmp_path, stem)
    with pytest.raises(ValueError):
        save(fig, tmp_path, "ok", formats=("gif",))


def test_export_charts_writes_the_set_and_its_index(briefing, tmp_path):
    import pandas as pd

    from forecast.export import CHARTS, export_charts

    out = tmp_path / "charts"
    index = export_charts(briefing.tables["qdir"], out, formats=("png",), dpi=40,
                          forecast_out=briefing.tables["out"], outside=briefing.outside,
                          hazard_fit=briefing.hazard, backtest=briefing.backtest)
    assert list(index.columns) == ["chart", "format", "path", "bytes", "sha256"]
    assert len(index) == len(CHARTS)
    assert set(index["chart"]) == set(CHARTS)
    on_disk = pd.read_csv(out / "charts.csv")
    assert on_disk["sha256"].tolist() == index["sha256"].tolist()
    for r in index.itertuples():
        path = (out / r.path).resolve()
        assert path.parent == out.resolve() and path.name == f"{r.chart}.{r.format}"
        data = path.read_bytes()
        assert len(data) == r.bytes > 0
        assert hashlib.sha256(data).hexdigest() == r.sha256


def test_report_is_self_contained(briefing, figures, tmp_path):
    from forecast.export import CHARTS
    from forecast.report import write_pdf, write_report

    path = write_report(briefing.tables["qdir"], tmp_path, briefing=briefing, dpi=40, pdf=False)
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert text.count("data:image/png;base64,") == len(CHARTS)
    lowered = text.lower()
    # Nothing is loaded from elsewhere: web addresses appear only as links to sources.
    assert "<script" not in lowered and "<link" not in lowered and "url(" not in lowered
    assert "src='//" not in lowered and 'src="//' not in lowered
    assert not re.search(r"""src=['"]https?:""", lowered)
    assert len(re.findall(r"https?://", lowered)) == lowered.count("<a href='http")
    for r in briefing.tables["headline"].query("stage == 'posterior'").itertuples():
        assert f"{r.p:.0%}" in text and r.word in text
    for item in NEWS:
        assert item["id"] in text
    assert "Method" in text and "Diagnostics" in text
    assert "<code>prior_source: elicited</code>" in text
    for source in ("Elicited (analysts)", "Reference class (history)", "Both, pooled"):
        assert source in text
    assert "Named scenarios" in text
    for s in briefing.config.scenarios:
        assert s.name in text
    # the outside view: the as-of-origin scores beside the base rate, with the case count,
    # and no hindsight skill claim (the old model appears only labelled as hindsight)
    bt = briefing.backtest
    assert "Outside view" in text and f"{len(briefing.hazard.cases)} historical episodes" in text
    for r in bt.scores.itertuples():
        assert f"{r.brier:.3f}" in text
    assert "its score is hindsight" in text
    # the PDF (a text page, then the charts; one chart here to keep the test fast)
    pdf = write_pdf(briefing, {"headline": figures["headline"]}, tmp_path / "b.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") >= 2


def test_ledger_sources_link_to_their_reports_safely():
    """A source with a web address becomes a link; the address cannot break out of it."""
    import pandas as pd

    from forecast.report import _table_html

    table = pd.DataFrame([
        {"id": "a", "source": "Reuters <wire>", "url": "https://example.org/x?a=1&b='2'"},
        {"id": "b", "source": "local", "url": ""},
    ])
    html_text = _table_html(table, links={"source": "url"})
    assert "<th>url</th>" not in html_text  # the address column is not shown on its own
    assert ("<a href='https://example.org/x?a=1&amp;b=&#x27;2&#x27;' rel='noreferrer'>"
            "Reuters &lt;wire&gt;</a>") in html_text
    assert "<td>local</td>" in html_text


def test_history_table_feeds_the_history_chart(briefing):
    table = briefing.tables["history"]
    assert table["date"].iloc[0] is None  # the prior comes first
    last = table[table["date"] == table["date"].dropna().max()].set_index("outcome")
    for key, est in briefing.forecast.probabilities().items():
        assert last.loc[key, "p"] == pytest.approx(est.mean, abs=1e-12)
    assert np.isfinite(table["p"]).all()


def _news_labels(fig):
    """The history chart's numbered markers and its key's rows (numbers, dates, headlines)."""
    ax = fig.axes[0]
    return tuple([t for t in ax.texts if t.get_gid() == gid]
                 for gid in ("news-mark", "news-key-number", "news-key-dates", "news-key"))


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_history_chart_names_the_largest_moves_and_runs_to_the_as_of_date(briefing):
    import datetime as dt

    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from forecast import charts

    t, cfg = briefing.tables, briefing.config
    table = t["history"].dropna(subset=["date"])
    drawn = [o for o in dict.fromkeys(t["history"]["outcome"]) if o != "any"]
    moves = (t["history"].assign(when=[d or dt.date.min for d in t["history"]["date"]])
             .loc[lambda d: d["outcome"].isin(drawn)].sort_values("when")
             .groupby("outcome")["p"].diff().abs())
    by_date = (t["history"].assign(move=moves).dropna(subset=["date"])
               .groupby("date")["move"].max().sort_values(ascending=False))
    headline = dict(zip(t["ledger"]["id"], t["ledger"]["headline"], strict=True))
    # Items a day apart share a marker (n2-n4 here).
    fig = charts.plot_history(t["history"], ledger=t["ledger"], config=cfg, named=1)
    marks, numbers, dates, key = _news_labels(fig)
    assert [m.get_text() for m in marks] == ["1"]  # only the largest move is numbered
    assert [n.get_text() for n in numbers] == ["1"] and len(key) == 1 == len(dates)
    # a merged marker's move is the sum of its dates' moves
    group = by_date[dt.date(2025, 5, 20)] + by_date[dt.date(2025, 5, 21)]
    others = by_date.drop([dt.date(2025, 5, 20), dt.date(2025, 5, 21)])
    ids = {dt.date(2025, 1, 29): "n1", dt.date(2025, 6, 10): "n5"}
    line = key[0].get_text()
    if group > others.max():  # named by its headline, with the items sharing it
        assert dates[0].get_text() == "20–21 May 2025"
        assert line.endswith(" (+2 more)")
        assert line.removesuffix(" (+2 more)") in {headline[i] for i in ("n2", "n3", "n4")}
    else:
        assert line == headline[ids[others.idxmax()]]
    plt.close(fig)
    everything = charts.plot_history(t["history"], ledger=t["ledger"], config=cfg, named=99)
    marks, _, dates, key = _news_labels(everything)
    assert [m.get_text() for m in marks] == ["1", "2", "3"]  # in date order
    assert [d.get_text() for d in dates] == ["29 Jan 2025", "20–21 May 2025", "10 Jun 2025"]
    assert key[0].get_text() == headline["n1"] and key[2].get_text() == headline["n5"]
    plt.close(everything)
    # headlines given by the caller name the items over the ledger's
    mine = charts.plot_history(t["history"], ledger=t["ledger"], config=cfg, named=99,
                               headlines={"n1": "A headline of my own"})
    assert _news_labels(mine)[3][0].get_text() == "A headline of my own"
    plt.close(mine)
    later = dt.date(2027, 6, 30)
    fig = charts.plot_history(t["history"], ledger=t["ledger"], config=cfg, as_of=later)
    ax = fig.axes[0]
    assert mdates.num2date(ax.get_xlim()[1]).date() > later  # drawn on to the as-of date
    assert any("as of 30 Jun 2027" in a.get_text() for a in ax.texts)
    assert len(table["date"].unique()) >= 2
    plt.close(fig)


def test_history_chart_names_crowded_news_by_headline_without_overlaps():
    """Many items close together: numbered markers that never touch, and a key of
    headlines (shortened at a word, no id slugs) clear of the legend, footer and edges."""
    import datetime as dt
    import itertools

    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from forecast import charts

    rng = np.random.default_rng(3)
    days = [dt.date(2025, 1, 10) + dt.timedelta(days=int(d))
            for d in np.cumsum(rng.integers(3, 12, size=24))]
    words = ("Minister says the talks on the future of the naval base at Tartus will resume "
             "next month after a long pause").split()
    ledger = pd.DataFrame({
        "date": days,
        "id": [f"{d.isoformat()}-item-number-{k}" for k, d in enumerate(days)],
        "headline": [" ".join(words[: 4 + k % 14]) + f" {k}" for k in range(len(days))],
        "entered": rng.normal(size=len(days)),
    })
    rows = [{"date": None, "outcome": o, "p": 0.5, "lower": 0.3, "upper": 0.7,
             "new_items": ""} for o in ("a", "b")]
    p = {"a": 0.5, "b": 0.4}
    for r in ledger.itertuples():
        for o in p:
            p[o] = float(np.clip(p[o] + rng.normal(0, 0.06), 0.05, 0.95))
            rows.append({"date": r.date, "outcome": o, "p": p[o], "lower": p[o] - 0.2,
                         "upper": p[o] + 0.2, "new_items": r.id})
    fig = charts.plot_history(pd.DataFrame(rows), ledger=ledger, named=12,
                              footer_text="A question | as of 2026-01-01 | horizon 2027-12-31")
    FigureCanvasAgg(fig).draw()  # lay out and draw, as saving does
    renderer = fig.canvas.get_renderer()
    marks, numbers, dates, key = _news_labels(fig)
    assert len(marks) == 12 == len(numbers) == len(dates) == len(key)
    boxes = [m.get_window_extent(renderer) for m in marks]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not _overlap(a, b)
    for line in (t.get_text() for t in key):
        assert not any(slug in line for slug in ledger["id"]) and "item number" not in line
        head = line.split(" (+")[0].removesuffix("…")
        assert any(h == head or h.startswith(head + " ") for h in ledger["headline"]), line
    rows = [[a.get_window_extent(renderer) for a in row]
            for row in zip(numbers, dates, key, strict=True)]
    for upper, lower in itertools.pairwise(rows):  # rows stacked, none overlapping
        assert all(a.y0 > b.y1 - 1 for a in upper for b in lower)
    for row in rows:  # columns apart, on one baseline
        assert row[0].x1 < row[1].x0 and row[1].x1 < row[2].x0
    starts = {round(box.x0) for box in (row[2] for row in rows)}
    assert len(starts) == 1  # the headlines start in one column
    figure = fig.bbox
    legend, footer = fig.axes[0].get_legend(), fig._supxlabel
    for box in (b for row in rows for b in row):
        assert figure.x0 <= box.x0 and box.x1 <= figure.x1 and box.y0 >= figure.y0
        assert not _overlap(box, legend.get_window_extent(renderer))
        assert not _overlap(box, footer.get_window_extent(renderer))
    title = fig._suptitle.get_window_extent(renderer)
    assert not any(_overlap(title, b) for b in boxes)
    plt.close(fig)


def test_contributions_chart_draws_one_bar_per_group(briefing):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from forecast import charts, fmt

    table = briefing.tables["contributions"]
    steps = table[table["step"] > 0].drop_duplicates("step")
    groups = list(dict.fromkeys(steps["group"]))
    fig = charts.plot_contributions(table)
    shown = [o for o in dict.fromkeys(table["outcome"]) if o not in ("all", "any")]
    assert len(fig.axes) == len(shown)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == len(groups) + 2
    assert labels[0] == "Before any news" and labels[-1] == "After all news"
    for label, group in zip(labels[1:-1], groups, strict=True):
        n = int((steps["group"] == group).sum())
        name = steps.loc[steps["group"] == group, "group_label"].iloc[0]
        assert " ".join(label.split()) == f"{name} ({n} item{'s' if n > 1 else ''})"
    for ax, outcome in zip(fig.axes, shown, strict=True):
        bars = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(bars) == len(groups) + 2
        rows = table[(table["outcome"] == outcome) & (table["step"] > 0)]
        notes = [t.get_text() for t in ax.texts if t.get_text().endswith(" pp")]
        assert notes == [fmt.pp(rows.loc[rows["group"] == g, "change_pp"].sum()) for g in groups]
    assert "Shapley credit by thread" in fig._suptitle.get_text()
    plt.close(fig)


def test_contributions_chart_never_prints_minus_zero_and_grows_with_groups(briefing):
    import matplotlib.pyplot as plt

    from forecast import charts

    table = briefing.tables["contributions"].copy()
    # a group whose credit rounds to zero from below, as the real ledger's repeats do
    first = table["group"] == table.loc[table["step"] == 1, "group"].iloc[0]
    table.loc[first, "change_pp"] = -0.004 / first.sum()
    fig = charts.plot_contributions(table)
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert not any("-0.0" in t or "−0.0" in t for t in texts)
    assert "0.0 pp" in texts
    # every item its own group: one bar each, and a taller figure
    one_each = table.assign(group=table["item"].where(table["step"] > 0, ""),
                            group_label=table["headline"].where(table["step"] > 0, ""))
    items = int(table["step"].max())
    wide = charts.plot_contributions(one_each)
    assert len(wide.axes[0].get_yticklabels()) == items + 2
    assert wide.get_figheight() > fig.get_figheight()
    plt.close(fig)
    plt.close(wide)


@pytest.mark.slow
def test_cli_charts_and_report_reuse_the_stored_outside_view(briefing, shipped_reference_out,
                                                             tmp_path, capsys, monkeypatch):
    """End to end through the CLI, with the real fits of the shipped reference class (stored
    once per session) reused by both commands; a bad format writes nothing. The as-of-origin
    backtest with its exact refits (a minute on the shipped class) is stood in for by the
    synthetic one: it is tested in tests/test_hazard.py and test_reference.py."""
    import shutil

    from forecast import reference_store

    monkeypatch.setattr(reference_store, "cached_hazard_backtest",
                        lambda *a, **k: (briefing.backtest, "cached"))
    import pandas as pd

    from forecast.cli import main
    from forecast.export import CHARTS

    qdir, fits = str(briefing.tables["qdir"]), str(briefing.tables["out"])
    shutil.copytree(shipped_reference_out / "reference_class",
                    briefing.tables["out"] / "reference_class", dirs_exist_ok=True)
    # --out is the results root for every command: charts and report go under it
    mine = briefing.tables["out"] / Path(qdir).name
    assert main(["charts", qdir, "--out", fits, "--format", "png,svg", "--dpi", "30"]) == 0
    index = pd.read_csv(mine / "charts" / "charts.csv")
    assert set(index["chart"]) == set(CHARTS) and set(index["format"]) == {"png", "svg"}
    (stored,) = (briefing.tables["out"] / "reference_class").glob("fit-*.nc")
    stamp = stored.stat().st_mtime_ns
    assert main(["report", qdir, "--out", fits]) == 0
    assert stored.stat().st_mtime_ns == stamp  # reused, not refitted
    html = next((mine / "report").glob("*-briefing.html")).read_text()
    assert html.count("data:image/png;base64,") == len(CHARTS)
    assert "FAILED" not in html  # the shipped reference fit passes its gate
    assert (mine / "report" / f"{briefing.config.id}-briefing.pdf").exists()
    capsys.readouterr()
    bad = tmp_path / "bad"
    with pytest.raises(SystemExit) as exit_info:  # refused while parsing the arguments
        main(["charts", qdir, "--out", str(bad), "--format", "png,gif"])
    assert exit_info.value.code == 2
    assert "gif" in capsys.readouterr().err and not bad.exists()


def test_a_question_with_one_outcome_shows_it_once(tmp_path):
    """With one outcome, "all" and "any" would repeat it: tables and charts leave them out."""
    import shutil

    from conftest import ROOT
    from forecast.charts import save
    from forecast.config import load_question
    from forecast.engine import compute
    from forecast.export import build_briefing, chart_figures
    from forecast.ledger import load_ledger

    qdir = tmp_path / "russia_sudan_port"
    shutil.copytree(ROOT / "priors" / "russia_sudan_port", qdir)
    config = load_question(qdir)
    assert config.headline_outcomes == config.bases == ["port_sudan"]
    items = load_ledger(config, today=TODAY)
    out = tmp_path / "out"
    store_fit_from_prior(config, items, out, pool=6000)
    fc = compute(config, items, out=out, as_of=TODAY, allow_fit=False, allow_reweight=False,
                 engine="nuts")
    b = build_briefing(qdir, forecast_out=out, forecast=fc, outside=False)
    for name in ("headline", "history", "scenarios", "value_of_information", "sensitivity",
                 "contributions"):
        assert set(b.tables[name]["outcome"]) == {"port_sudan"}, name
    figures = chart_figures(b)
    assert "prior_sources" not in figures and "outside_view_calibration" not in figures
    # one heat-map column, readable: its cells are at least 1.5 inches wide
    scen = figures["scenarios"].axes[0]
    assert len(scen.get_xticks()) == 1
    assert scen.get_window_extent().width / figures["scenarios"].dpi > 1.5
    for name, fig in figures.items():
        (path,) = save(fig, tmp_path / "png", name, dpi=40)
        assert _not_blank(path) > 0.05, name


def test_the_pending_report_chart_names_the_words_that_would_change(briefing):
    """Three markers per outcome; a label exactly where the word changes."""
    from forecast import charts
    from forecast.information import pending_report

    fc, items = briefing.forecast, briefing.items
    table = pending_report(fc, items, bears_on="basing_agreement", reliability="A1", lr=20.0)
    fig = charts.plot_pending(table, footer_text="f")
    ax = fig.axes[0]
    n = table["label"].nunique()
    assert sum(len(c.get_offsets()) for c in ax.collections) == 3 * n
    changed = int(table[table["scenario"] != "now"]["word_changes"].sum())
    assert len(ax.texts) == changed
    assert all("%" in t.get_text() for t in ax.texts)


def test_scenario_cells_never_print_minus_zero_and_the_first_row_is_now(briefing):
    """A change that rounds to zero from below reads "0 pp"; the unchanged row is "Now"."""
    from forecast import charts, fmt

    table = briefing.tables["scenarios"].copy()
    assert table["scenario"].iloc[0] == "Now (no intervention)"
    assert not table["scenario"].str.startswith("Baseline").any()
    later = table["scenario"] != table["scenario"].iloc[0]
    table.loc[later.idxmax(), "change_pp"] = -0.3  # would print "-0 pp" with {:+.0f}
    fig = charts.plot_scenarios(table)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert not any("-0 pp" in t or "−0 pp" in t for t in texts)
    assert any(t.endswith("\n0 pp") for t in texts)
    rows = table[later]
    assert all(fmt.pp(c, digits=0) in " ".join(texts) for c in rows["change_pp"])


def test_tornado_labels_wrap_at_words_and_never_touch(briefing):
    """A long input name goes onto two lines at a space (not cut mid-word), and the rows'
    labels clear each other and the bars."""
    import itertools

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from forecast import charts
    from forecast.analysis import tornado_table
    from forecast.charts.tornado import _two_lines

    long = "Outcome dependence (one bargain decides both bases)"
    assert _two_lines(long) == "Outcome dependence (one\nbargain decides both bases)"
    assert _two_lines("Effect: New basing agreement") == "Effect: New basing agreement"
    many = " ".join(["word"] * 40)
    first, second = _two_lines(many).split("\n")
    assert second.endswith(" …") and set((first + " " + second[:-2]).split()) == {"word"}

    table = briefing.tables["sensitivity"].copy()
    wide = tornado_table(table, "khmeimim")
    pick = wide["parameter"].iloc[0]
    table.loc[table["parameter"] == pick, "label"] = long  # a two-line label on top
    fig = charts.plot_tornado(table, outcome="khmeimim")
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.get_yticklabels() if t.get_text()]
    texts = [t.get_text() for t in labels]
    assert "Outcome dependence (one\nbargain decides both bases)" in texts
    for text in texts:  # every word whole: each line's words are words of the label
        assert "…" not in text or text.endswith(" …")
    boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.y0)
    for below, above in itertools.pairwise(boxes):
        assert below.y1 <= above.y0, "row labels overlap"
    plot = ax.get_window_extent(renderer)
    assert all(b.x1 <= plot.x0 for b in boxes), "a row label runs into the bars"


def test_backtest_reliability_has_one_key_below_and_counts_clear_of_bars(briefing):
    """The key is one, under the panels (no panel hides a bin under it), and no "n=" note
    touches an interval bar or a marker."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from forecast.charts.outside_view import plot_backtest_reliability

    bt = briefing.backtest
    fig = plot_backtest_reliability(bt.calibration, scores=bt.scores, footer_text="a | b")
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    origins = sorted(bt.calibration["origin"].unique())
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert len(panels) == len(origins)
    assert all(ax.get_legend() is None for ax in panels)
    keys = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + fig.legends
    assert len(keys) == 1
    key = keys[0].get_window_extent(renderer)
    assert all(key.y1 <= ax.get_tightbbox(renderer).y0 for ax in panels)
    assert key.y0 >= fig._supxlabel.get_window_extent(renderer).y1
    px = fig.dpi / 72
    for ax, origin in zip(panels, origins, strict=True):
        notes = [t for t in ax.texts if t.get_text().startswith("n=")]
        cal = bt.calibration[bt.calibration["origin"] == origin]
        assert len(notes) == int((cal["count"] > 0).sum())
        bars = [seg for c in ax.collections if hasattr(c, "get_segments")
                for seg in c.get_segments()]
        dots = [(xy, s) for c in ax.collections if hasattr(c, "get_offsets")
                and not hasattr(c, "get_segments")
                for xy, s in zip(c.get_offsets(), c.get_sizes(), strict=True)]
        for note in notes:
            box = note.get_window_extent(renderer)
            for seg in bars:
                (x0, y0), (_, y1) = ax.transData.transform(np.asarray(seg)[[0, -1]])
                touches = (box.x0 - px <= x0 <= box.x1 + px
                           and min(y0, y1) <= box.y1 and max(y0, y1) >= box.y0)
                assert not touches, f"{note.get_text()} touches a bar"
            for xy, size in dots:
                x, y = ax.transData.transform(xy)
                r = 0.5 * np.sqrt(size) * px
                assert not (box.x0 - r < x < box.x1 + r and box.y0 - r < y < box.y1 + r), (
                    f"{note.get_text()} touches a marker")
