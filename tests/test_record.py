"""The record of issued forecasts: append-only, byte-stable, atomic, loud about bad lines.

Every test works on a scratch copy of the default question (``make_question``): nothing
here writes into the real ``priors/`` record.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing

import pytest

from conftest import NEWS, make_question
from forecast.cli import main
from forecast.config import load_question
from forecast.record import (
    RECORD_FILE,
    RecordError,
    append_entry,
    last_item,
    read_record,
    record_table,
)

#: NEWS, with entry stamps: n2 entered last although n5 is dated later.
STAMPED = [dict(item, recorded=f"2026-11-0{i + 1}T10:00:00Z") for i, item in enumerate(NEWS)]
STAMPED[1] = dict(STAMPED[1], recorded="2026-11-20T09:00:00Z")


@pytest.fixture
def scratch(tmp_path):
    """A scratch question with the stamped news, and its results root."""
    return make_question(tmp_path, news=STAMPED), tmp_path / "out"


def _issue(question, out, capsys):
    assert main(["run", str(question), "--out", str(out), "--issue"]) == 0
    return capsys.readouterr().out


def test_an_issued_forecast_holds_the_numbers_and_the_hash_of_every_input(scratch, capsys):
    question, out = scratch
    printed = _issue(question, out, capsys)
    assert f"issued into {question / RECORD_FILE}" in printed
    [entry] = read_record(question)
    forecast = json.loads((out / question.name / "forecast.json").read_text())
    assert entry["as_of"] == forecast["as_of"] and entry["question"] == forecast["question"]
    for base, est in forecast["bases"].items():
        assert entry["bases"][base]["p"] == est["p_keep"]
        assert entry["bases"][base]["interval"] == est["ci90"]
    assert entry["joint"]["both"]["p"] == forecast["joint"]["both"]
    assert entry["joint"]["either"]["p"] == forecast["joint"]["either"]
    lo, hi = entry["joint"]["both"]["interval"]
    assert lo <= entry["joint"]["both"]["p"] <= hi
    assert entry["engine"] == forecast["diagnostics"]["engine"] == "exact"
    assert entry["path"] == forecast["diagnostics"]["path"]
    config = load_question(question)
    inputs = entry["inputs"]
    assert inputs["files"] == config.file_hashes
    assert inputs["ledger_sha256"] == hashlib.sha256(
        (question / "news.yaml").read_bytes()).hexdigest()
    assert inputs["versions"]["numpy"] and inputs["source"]
    assert entry["ledger"] == {"items": len(NEWS), "last_item": "n2",
                               "last_recorded": "2026-11-20T09:00:00+00:00", "retracted": []}
    assert entry["issued"].endswith("Z")


def test_editing_a_prior_after_two_issued_forecasts_leaves_both_lines_byte_identical(
        scratch, capsys):
    question, out = scratch
    _issue(question, out, capsys)
    _issue(question, out, capsys)
    path = question / RECORD_FILE
    before = path.read_bytes()
    assert before.count(b"\n") == 2
    evidence = question / "evidence.yaml"
    text = evidence.read_text()
    edited = text.replace("Russia granted Assad asylum", "Russia granted Assad asylum in 2024",
                          1).replace("{lower: 0.01, upper: 0.08, mass: 0.9}",
                                     "{lower: 0.02, upper: 0.15, mass: 0.9}", 1)
    assert edited != text
    evidence.write_text(edited)

    assert path.read_bytes() == before  # editing a prior touches no issued line
    assert main(["record", str(question), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == [json.loads(line) for line in before.splitlines()]
    assert main(["record", str(question)]) == 0
    listing = capsys.readouterr().out
    assert "2 issued forecasts" in listing
    assert all(e["issued"] in listing for e in shown)

    _issue(question, out, capsys)  # a third, from the edited prior
    after = path.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == 3
    third = read_record(question)[2]
    assert third["inputs"]["files"]["evidence.yaml"] != shown[1]["inputs"]["files"][
        "evidence.yaml"]
    assert third["inputs"]["ledger_sha256"] == shown[1]["inputs"]["ledger_sha256"]
    assert third["bases"] != shown[1]["bases"]  # the new prior moved the numbers...
    assert shown[0]["bases"] == shown[1]["bases"]  # ...not the ones already issued
    # the diff names the one prior that changed, with the elicited intervals before and after
    from forecast.ledger import load_ledger
    from forecast.record import diff_entries

    changed = diff_entries(shown[1], third, load_ledger(load_question(question)))["priors"]
    assert [c["parameter"] for c in changed] == ["p_state[assad_extradition]"]
    assert changed[0]["from"]["interval"] == [0.01, 0.08]
    assert changed[0]["to"]["interval"] == [0.02, 0.15]


def test_record_csv_is_one_row_per_forecast_and_outcome(scratch, capsys):
    question, out = scratch
    _issue(question, out, capsys)
    assert main(["record", str(question), "--csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "entry,issued,as_of,outcome,p,lower,upper,engine,path,n_items,last_item"
    outcomes = [line.split(",")[3] for line in lines[1:]]
    assert outcomes == ["khmeimim", "tartus", "all", "any"]


def test_an_empty_record_says_so(scratch, capsys):
    question, _ = scratch
    assert main(["record", str(question)]) == 0
    assert "no forecast issued yet" in capsys.readouterr().out
    assert main(["record", str(question), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert record_table([]).empty


def test_run_without_issue_writes_no_record(scratch, capsys):
    question, out = scratch
    assert main(["run", str(question), "--out", str(out)]) == 0
    assert not (question / RECORD_FILE).exists()


def test_a_killed_write_leaves_the_record_intact(scratch, capsys, monkeypatch):
    question, out = scratch
    _issue(question, out, capsys)
    path = question / RECORD_FILE
    before = path.read_bytes()

    import forecast.files
    import forecast.ledger.storage

    real, calls = forecast.ledger.storage.atomic_write, []

    def killed(fd):  # the new bytes are in the temporary file, not yet on disk
        raise KeyboardInterrupt("killed mid-write")

    def killed_write(target, data):
        calls.append(target)
        with monkeypatch.context() as m:
            m.setattr(forecast.files.os, "fsync", killed)
            real(target, data)

    monkeypatch.setattr(forecast.ledger.storage, "atomic_write", killed_write)
    with pytest.raises(KeyboardInterrupt):
        main(["run", str(question), "--out", str(out), "--issue"])
    monkeypatch.undo()
    assert calls == [path]  # the record's own write was the one killed
    assert path.read_bytes() == before
    assert not list(question.glob(f".{RECORD_FILE}.*.tmp"))  # no half-written file left
    _issue(question, out, capsys)  # and the next issue appends as usual
    assert path.read_bytes().startswith(before) and len(read_record(question)) == 2


@pytest.mark.parametrize("damage, line", [
    (lambda raw: raw + b'{"schema_version": 1, "issued": "2026-12-01T00:00:00Z"', 3),
    (lambda raw: raw.replace(b"\n", b"\nnot json\n", 1), 2),
    (lambda raw: raw + b'{"schema_version": 1}\n', 3),
])
def test_a_line_that_fails_to_parse_is_reported_never_dropped(scratch, capsys, damage, line):
    question, out = scratch
    _issue(question, out, capsys)
    _issue(question, out, capsys)
    path = question / RECORD_FILE
    path.write_bytes(damage(path.read_bytes()))
    damaged = path.read_bytes()
    with pytest.raises(RecordError, match=f"{RECORD_FILE}: line {line}: "):
        read_record(question)
    assert main(["record", str(question)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: line {line}: " in err and "repair it by hand" in err
    assert main(["run", str(question), "--out", str(out), "--issue"]) == 2  # nothing appended
    assert f"line {line}" in capsys.readouterr().err
    assert path.read_bytes() == damaged


def test_issue_refuses_another_prior_source(scratch, capsys):
    question, out = scratch
    assert main(["run", str(question), "--out", str(out), "--issue",
                 "--prior-source", "reference_class"]) == 2
    assert "--issue" in capsys.readouterr().err
    assert not (question / RECORD_FILE).exists()


def test_update_issue_records_the_forecast_after_the_item(scratch, capsys):
    question, out = scratch
    args = ["update", str(question), "--out", str(out), "--date", "2026-11-01",
            "--headline", "Ships leave Tartus", "--source", "imagery", "--reliability", "B2",
            "--bears-on", "tartus", "--lr", "0.5", "--id", "ships-leave"]
    assert main([*args, "--issue"]) == 0
    assert "issued into" in capsys.readouterr().out
    [entry] = read_record(question)
    assert entry["ledger"]["items"] == len(NEWS) + 1
    assert entry["ledger"]["last_item"] == "ships-leave"  # stamped now: the latest entered
    assert entry["inputs"]["ledger_sha256"] == hashlib.sha256(
        (question / "news.yaml").read_bytes()).hexdigest()


def test_the_last_item_is_the_last_entered():
    from forecast.ledger import parse_item

    items = [parse_item(i) for i in NEWS]
    assert last_item(items).id == "n5"  # none stamped: the ledger's order
    assert last_item([parse_item(i) for i in STAMPED]).id == "n2"
    assert last_item([]) is None


def _append_many(question: str, tag: str, n: int) -> None:
    config = load_question(question)
    for i in range(n):
        append_entry(config, {"schema_version": 1, "issued": None, "who": tag, "i": i})


def test_appends_from_two_processes_both_land(scratch):
    question, _ = scratch
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(question), tag, 15)) for tag in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    entries = read_record(question)
    assert len(entries) == 30
    for tag in "ab":
        assert [e["i"] for e in entries if e["who"] == tag] == list(range(15))


def _history_rows():
    import datetime as dt

    rows = [{"date": None, "outcome": o, "p": 0.5, "lower": 0.3, "upper": 0.7, "new_items": ""}
            for o in ("khmeimim", "tartus", "all")]
    for k, day in enumerate((dt.date(2025, 2, 1), dt.date(2025, 6, 1))):
        for o in ("khmeimim", "tartus", "all"):
            rows.append({"date": day, "outcome": o, "p": 0.4 + 0.1 * k, "lower": 0.2,
                         "upper": 0.8, "new_items": f"item-{k}"})
    import pandas as pd

    return pd.DataFrame(rows)


def test_the_history_chart_draws_the_record_apart_from_the_reconstruction():
    import datetime as dt

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from forecast import charts
    from forecast.charts.history import RECONSTRUCTION, RECORD_LABEL

    entries = [{"schema_version": 1, "issued": f"2025-0{m}-15T12:00:00Z",
                "as_of": f"2025-0{m}-15", "engine": "exact", "path": "exact",
                "bases": {"khmeimim": {"p": 0.61, "interval": [0.4, 0.8], "mcse": 0.001},
                          "tartus": {"p": 0.48, "interval": [0.3, 0.7], "mcse": 0.001}},
                "joint": {"both": {"p": 0.41, "interval": [0.2, 0.6], "mcse": 0.001},
                          "either": {"p": 0.68, "interval": [0.5, 0.9], "mcse": 0.001}},
                "ledger": {"items": 1, "last_item": "item-0", "last_recorded": None}}
               for m in (3, 7)]
    fig = charts.plot_history(_history_rows(), record=record_table(entries),
                              as_of=dt.date(2025, 12, 1),
                              last_recorded=dt.datetime(2025, 6, 2, 9, tzinfo=dt.UTC))
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    marks = [line for line in ax.get_lines() if line.get_gid() == "record-mark"]
    assert len(marks) == 3  # one series per outcome drawn (the bases and "all", not "any")
    assert all(len(m.get_xdata()) == 2 and m.get_marker() == "D" for m in marks)
    assert sorted(round(float(y), 2) for m in marks for y in m.get_ydata()) == [
        0.41, 0.41, 0.48, 0.48, 0.61, 0.61]
    legend = ax.get_legend()
    assert RECORD_LABEL in [t.get_text() for t in legend.get_texts()]
    assert RECORD_LABEL == "issued forecasts (the record)"
    assert RECONSTRUCTION in legend.get_title().get_text()
    assert RECONSTRUCTION == "reconstruction: today's model on the items dated by each day"
    [stale] = [t for t in ax.texts if t.get_gid() == "no-news"]
    assert stale.get_text() == "no news recorded since 02 Jun 2025"


def test_without_a_record_or_with_recent_news_the_chart_adds_nothing():
    import datetime as dt

    from forecast import charts

    fig = charts.plot_history(_history_rows(), as_of=dt.date(2025, 7, 1),
                              last_recorded=dt.datetime(2025, 6, 2, tzinfo=dt.UTC))
    ax = fig.axes[0]
    assert not [line for line in ax.get_lines() if line.get_gid() == "record-mark"]
    assert not [t for t in ax.texts if t.get_gid() == "no-news"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "issued forecasts (the record)" not in labels


def test_the_exported_history_chart_shows_the_issued_forecasts(scratch, capsys):
    from forecast.export import build_briefing, chart_figures

    question, out = scratch
    _issue(question, out, capsys)
    b = build_briefing(question, forecast_out=out, outside=False)
    assert len(b.tables["record"]) == 4  # one issued forecast, four outcomes
    fig = chart_figures(b)["history"]
    marks = [line for line in fig.axes[0].get_lines() if line.get_gid() == "record-mark"]
    [entry] = read_record(question)
    assert marks and round(float(marks[0].get_ydata()[0]), 6) == round(
        entry["bases"]["khmeimim"]["p"], 6)


def test_diff_says_what_arrived_which_inputs_changed_and_the_change(scratch, capsys,
                                                                      monkeypatch):
    import datetime as dt

    import forecast.record

    question, out = scratch
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    times = iter([(now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")])
    monkeypatch.setattr(forecast.record, "_utc_now", lambda: next(times))
    _issue(question, out, capsys)  # issued yesterday
    assert main(["update", str(question), "--out", str(out), "--date", "2026-11-01",
                 "--headline", "Ships leave Tartus", "--source", "imagery", "--reliability",
                 "B2", "--bears-on", "tartus", "--lr", "0.5", "--id", "ships-leave"]) == 0
    evidence = question / "evidence.yaml"
    evidence.write_text(evidence.read_text().replace(
        "{lower: 0.01, upper: 0.08, mass: 0.9}", "{lower: 0.02, upper: 0.15, mass: 0.9}", 1))
    _issue(question, out, capsys)  # issued tomorrow
    old, new = read_record(question)

    assert main(["diff", str(question), "--from", old["issued"], "--to", new["issued"],
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in result["arrived"]] == ["ships-leave"]
    assert result["unstamped"] == 0 and result["items"] == [len(NEWS), len(NEWS) + 1]
    assert result["inputs"] == ["files/evidence.yaml", "ledger"]
    by = {r["outcome"]: r for r in result["change"]}
    assert list(by) == ["khmeimim", "tartus", "all", "any"]
    assert by["tartus"]["change_pp"] == pytest.approx(
        100 * (new["bases"]["tartus"]["p"] - old["bases"]["tartus"]["p"]))
    assert by["any"]["to"] == new["joint"]["either"]["p"]
    # the attribution: the arrived item's Shapley credit is the news's part of the move
    # (under today's model); the changed prior and Monte Carlo error are the rest
    a = result["attribution"]
    assert [(i["id"], i["change"]) for i in a["items"]] == [("ships-leave", "arrived")]
    assert a["seen"] == {"from": [len(NEWS), len(NEWS)], "to": [len(NEWS) + 1, len(NEWS) + 1]}
    for k, r in by.items():
        assert a["items"][0]["pp"][k] == pytest.approx(a["news_pp"][k], abs=1e-9)
        assert a["issued_pp"][k] == pytest.approx(r["change_pp"], abs=1e-9)
        assert a["news_pp"][k] + a["other_pp"][k] == pytest.approx(r["change_pp"], abs=1e-9)
    assert a["news_pp"]["tartus"] < 0  # ships leaving Tartus (LR 0.5) lowers it
    assert any(abs(v) > 0.1 for v in a["other_pp"].values())  # the prior edit moved it too

    assert main(["diff", str(question)]) == 0  # the last two, in words
    text = capsys.readouterr().out
    assert "ships-leave" in text and "inputs changed: files/evidence.yaml, ledger" in text
    assert "priors changed: 1" in text and "p_state[" in text and "news credit (Shapley" in text
    assert "Tartus naval facility" in text and " pp" in text
    day = old["issued"][:10]  # a date picks the forecast standing at the end of that day
    assert main(["diff", str(question), "--from", day, "--to", day]) == 0
    assert "the same issued forecast" in capsys.readouterr().out


def test_diff_needs_two_issued_forecasts(scratch, capsys):
    question, out = scratch
    assert main(["diff", str(question)]) == 2
    assert "a diff needs two" in capsys.readouterr().err
    _issue(question, out, capsys)
    assert main(["diff", str(question), "--from", "2020-01-01", "--to", "2030-01-01"]) == 2
    assert "no forecast had been issued by 2020-01-01T23:59:59Z" in capsys.readouterr().err


def test_validate_reads_the_record(scratch, capsys):
    question, out = scratch
    assert main(["validate", str(question)]) == 0
    assert RECORD_FILE not in capsys.readouterr().out  # no record yet: nothing said
    _issue(question, out, capsys)
    assert main(["validate", str(question)]) == 0
    assert f"{RECORD_FILE}: 1 issued forecast\n" in capsys.readouterr().out
    (question / RECORD_FILE).write_bytes(b"{}\n" + (question / RECORD_FILE).read_bytes())
    assert main(["validate", str(question)]) == 2
    assert "line 1: not a record entry" in capsys.readouterr().err


def test_two_forecasts_issued_in_the_same_instant_are_listed_apart(scratch, capsys):
    """Grouped by issued time (the first form), two entries of one second printed as one
    and crashed the listing; each line is its own entry."""
    from forecast.record import record_path

    question, out = scratch
    _issue(question, out, capsys)
    path = record_path(load_question(question))
    line = path.read_bytes()
    path.write_bytes(line + line)  # the same entry twice, same issued time
    assert main(["record", str(question)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("2 issued forecasts ") and text.count("issued 20") == 2


def test_the_history_table_shows_the_record_and_the_reconstruction_apart(scratch, capsys):
    """``forecast history`` and :func:`forecast.tables.history_layers`: two labelled
    layers, the issued forecasts and the reconstruction."""
    from forecast.news import history
    from forecast.tables import history_layers

    question, out = scratch
    _issue(question, out, capsys)
    [entry] = read_record(question)
    table = history_layers(history(question, out=out), record_table([entry]))
    assert list(dict.fromkeys(table["layer"])) == ["issued", "reconstruction"]
    issued = table[table["layer"] == "issued"].set_index("outcome")
    assert issued.loc["tartus", "p"] == entry["bases"]["tartus"]["p"]
    assert issued.loc["all", "p"] == entry["joint"]["both"]["p"]
    assert main(["history", str(question), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    recon, _, record = text.partition("\n\n")
    assert recon.startswith(f"{load_question(question).question.title}: RECONSTRUCTION")
    assert "not what was said then" in recon.splitlines()[0]
    assert record.startswith("ISSUED FORECASTS (the record") and entry["as_of"] in record


def test_a_stale_ledger_says_no_news_recorded_since(scratch, capsys):
    import datetime as dt

    from forecast.charts.history import STALE_DAYS as CHART_DAYS
    from forecast.ledger import load_ledger
    from forecast.tables import STALE_DAYS, stale_since

    assert STALE_DAYS == CHART_DAYS  # the table and the chart agree on "stale"
    question, _ = scratch
    items = load_ledger(load_question(question))
    newest = dt.date(2026, 11, 20)  # STAMPED: n2 entered last
    assert stale_since(items, newest + dt.timedelta(days=STALE_DAYS)) is None
    assert stale_since(items, newest + dt.timedelta(days=STALE_DAYS + 1)) == newest
    assert main(["history", str(question), "--out", str(question.parent / "out")]) == 0
    text = capsys.readouterr().out
    stale = stale_since(items, dt.date.today())
    assert (f"no news recorded since {stale}" in text) == (stale is not None)
