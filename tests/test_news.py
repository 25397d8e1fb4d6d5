"""Retraction without editing: a later ledger entry withdraws an earlier item.

Every test works on a scratch copy of the default question (``make_question``): nothing
here writes into the real ``priors/`` ledger or record.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from conftest import NEWS, TODAY, make_question
from forecast.cli import main
from forecast.config import load_question
from forecast.engine import compute, exact_forecast
from forecast.ledger import (
    LedgerError,
    evidence_from,
    items_as_of,
    load_ledger,
    parse_item,
    read_ledger,
)
from forecast.news import history, retract

#: The retraction of n5 (Khmeimim access restricted, 2025-06-10), three weeks later.
RETRACT_N5 = {"id": "r-n5", "date": "2025-07-01", "retracts": "n5",
              "reason": "the restriction was a one-day drill", "source": "AP correction"}
BEFORE, ON = dt.date(2025, 6, 30), dt.date(2025, 7, 1)


@pytest.fixture
def scratch(tmp_path):
    return make_question(tmp_path, news=NEWS), tmp_path / "out"


def _p(fc) -> dict[str, float]:
    return {k: e.mean for k, e in fc.probabilities().items()}


def test_a_retraction_changes_the_forecast_from_its_date_on_not_before(scratch):
    question, out = scratch
    config = load_question(question)
    old = load_ledger(config, today=TODAY)
    before_then = exact_forecast(config, old, as_of=BEFORE)
    on_then = exact_forecast(config, old, as_of=ON)
    retract(config, RETRACT_N5, out=out, today=TODAY)
    items = load_ledger(config, today=TODAY)
    [withdrawn] = [i for i in items if i.retraction is not None]
    assert withdrawn.id == "n5" and withdrawn.retraction.reason == RETRACT_N5["reason"]

    # the day before: the item still counts, the forecast is as it was
    a = exact_forecast(config, items, as_of=BEFORE)
    assert "n5" in a.evidence.item_ids and _p(a) == _p(before_then)
    # from the retraction's date on: it does not, exactly as if it had never been entered
    b = exact_forecast(config, items, as_of=ON)
    without = exact_forecast(config, [i for i in old if i.id != "n5"], as_of=ON)
    assert "n5" not in b.evidence.item_ids
    assert _p(b) == _p(without) and _p(b) != _p(on_then)
    assert b.evidence.key() == without.evidence.key()
    assert _p(b)["khmeimim"] < _p(on_then)["khmeimim"]  # n5 supported keeping Khmeimim
    # the whole ledger handed to evidence_from is the ledger as of now: n5 left out
    assert "n5" not in evidence_from(config, items).item_ids


def test_the_ledger_before_a_retraction_stays_byte_identical(scratch):
    question, out = scratch
    config = load_question(question)
    items, raw = read_ledger(config, today=TODAY)
    retract(config, RETRACT_N5, out=out, today=TODAY)
    new_raw = (question / "news.yaml").read_bytes()
    assert new_raw.startswith(raw) and len(new_raw) > len(raw)
    assert b"retracts: n5" in new_raw[len(raw):] and b"reason:" in new_raw[len(raw):]
    again = load_ledger(config, today=TODAY)
    assert [i.model_dump() for i in again] == [i.model_dump() for i in items]


def test_the_fast_path_removes_the_items_term(tmp_path, monkeypatch):
    """The exact engine weights the draws it already has: the forecast after the
    retraction reuses the draws before it and equals a fresh one without the item."""
    from forecast.prior import Priors

    question = make_question(tmp_path, news=NEWS)
    calls = []
    real = Priors.draw
    monkeypatch.setattr(Priors, "draw", lambda *a, **k: calls.append(1) or real(*a, **k))
    result = retract(question, RETRACT_N5, out=tmp_path / "out", today=TODAY)
    assert len(calls) == 1 and result.after.path == "exact"
    assert "n5" in result.before.evidence.item_ids
    assert "n5" not in result.after.evidence.terms.ids
    config = load_question(question)
    fresh = exact_forecast(config, [parse_item(i) for i in NEWS if i["id"] != "n5"],
                           as_of=TODAY)
    assert _p(result.after) == _p(fresh)
    rows = {r["outcome"]: r for r in result.contribution_rows()}
    assert rows["khmeimim"]["change_pp"] < 0
    payload = result.to_dict()
    assert payload["retraction"]["retracts"] == "n5" and payload["item"]["id"] == "n5"


def test_a_nuts_fit_is_reweighted_without_the_item(scratch, fit_news):
    """Under NUTS the fast path reweights the fit of the whole ledger to the ledger
    without the item (PSIS), exactly in the likelihood."""
    question, out = scratch
    import shutil

    from forecast.store import fits_dir

    config = load_question(question)
    fits_dir(out, config).mkdir(parents=True)
    shutil.copy2(fit_news.fit.file, fits_dir(out, config))
    result = retract(config, RETRACT_N5, out=out, today=TODAY, engine="nuts")
    assert result.before.path == "cached" and result.after.path == "reweighted"
    from forecast.engine import reweight

    direct = reweight(config, fit_news.fit,
                      evidence_from(config, [parse_item(i) for i in NEWS if i["id"] != "n5"]),
                      TODAY)
    np.testing.assert_array_equal(result.after.log_weights, direct.log_weights)


def test_a_retracted_cluster_member_hands_the_cluster_to_the_next(scratch):
    """n3 and n4 repeat one wire story (a cluster): the stronger stands for it. Retract
    it and the other stands; retract both and the cluster adds nothing."""
    question, out = scratch
    config = load_question(question)
    items = load_ledger(config, today=TODAY)
    ev = evidence_from(config, items)
    [lead] = [i for i in ("n3", "n4") if i in ev.counted]
    other = {"n3", "n4"} - {lead}
    retract(config, dict(RETRACT_N5, id="r-lead", retracts=lead), out=out, today=TODAY)
    ev = evidence_from(config, load_ledger(config, today=TODAY))
    assert set(ev.counted) & {"n3", "n4"} == other
    retract(config, dict(RETRACT_N5, id="r-other", retracts=other.pop()), out=out,
            today=TODAY)
    ev = evidence_from(config, load_ledger(config, today=TODAY))
    alone = evidence_from(config, [parse_item(i) for i in NEWS if i["id"] in ("n1", "n2",
                                                                              "n5")])
    assert ev.key() == alone.key()


def test_a_retracted_thread_member_leaves_the_thread_as_without_it(tmp_path):
    """A thread's reports count by Kish's effective number: without a member the thread
    is weighed as if the member had never been entered."""
    news = [dict(NEWS[0], id=f"t{k}", lr=lr, thread="talks") for k, lr in
            enumerate((0.4, 0.5, 0.7), start=1)]
    question = make_question(tmp_path, news=news)
    config = load_question(question)
    retract(config, dict(RETRACT_N5, retracts="t1"), out=tmp_path / "out", today=TODAY)
    ev = evidence_from(config, load_ledger(config, today=TODAY))
    without = evidence_from(config, [parse_item(i) for i in news[1:]])
    assert ev.key() == without.key()
    assert ev.entered["t2"] == without.entered["t2"]  # t2 now leads the thread in full
    as_before = evidence_from(config, items_as_of(load_ledger(config, today=TODAY), BEFORE))
    assert as_before.key() == evidence_from(config, [parse_item(i) for i in news]).key()


def test_the_history_shows_the_item_and_its_retraction(scratch, capsys):
    question, out = scratch
    retract(question, RETRACT_N5, out=out, today=TODAY)
    table = history(question, out=out, today=TODAY)
    assert set(table["layer"]) == {"reconstruction"}
    steps = table[table["outcome"] == "khmeimim"].set_index("date")
    assert steps.loc[dt.date(2025, 6, 10), "new_items"] == "n5"
    assert steps.loc[ON, "retracted"] == "n5" and steps.loc[ON, "n_items"] == len(NEWS) - 1
    # the retraction's step returns exactly to where the forecast stood without n5
    assert steps.loc[ON, "p"] == pytest.approx(steps.loc[dt.date(2025, 5, 21), "p"], abs=1e-12)

    assert main(["history", str(question), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "RETRACTED n5" in text and "RECONSTRUCTION" in text
    assert "no forecast issued yet" in text
    from forecast.tables import ledger_table

    ledger = ledger_table(load_question(question), load_ledger(load_question(question)))
    item = ledger.set_index("id").loc["n5"]
    assert item["retracted"] == "2025-07-01" and not item["counted"] and item["entered"] == 0
    row = ledger.set_index("id").loc["r-n5"]
    assert row["kind"] == "retraction" and row["retracts"] == "n5"
    assert "RETRACTED n5" in row["headline"] and RETRACT_N5["reason"] in row["headline"]


def test_the_record_shows_the_retraction_and_the_diff_credits_it(scratch, capsys):
    question, out = scratch
    assert main(["run", str(question), "--out", str(out), "--issue"]) == 0
    assert main(["retract", str(question), "n5", "--reason", RETRACT_N5["reason"],
                 "--source", "AP correction", "--date", "2025-07-01", "--out", str(out),
                 "--issue"]) == 0
    printed = capsys.readouterr().out
    assert "retracts n5" in printed and "issued into" in printed
    from forecast.record import read_record

    first, second = read_record(question)
    assert first["ledger"]["retracted"] == [] and second["ledger"]["retracted"] == ["n5"]
    assert second["ledger"]["last_item"] == "2025-07-01-retracts-n5"
    assert second["ledger"]["items"] == len(NEWS) - 1

    assert main(["diff", str(question), "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["retracts"] for r in result["retracted"]] == ["n5"] and not result["arrived"]
    a = result["attribution"]
    assert [(i["id"], i["change"]) for i in a["items"]] == [("n5", "retracted")]
    for k, news in a["news_pp"].items():
        assert sum(i["pp"][k] for i in a["items"]) == pytest.approx(news, abs=1e-9)
        # nothing else changed: the news's part is the whole issued change
        assert a["other_pp"][k] == pytest.approx(0.0, abs=1e-6)
    assert main(["history", str(question), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ISSUED FORECASTS" in text and "RETRACTED n5" in text
    assert "no forecast issued yet" not in text


def _cli(question, *args):
    return main(["retract", str(question), *args, "--out", str(question.parent / "out")])


@pytest.mark.parametrize(("args", "message"), [
    (["nope", "--reason", "r", "--source", "s"],
     "ITEM_ID: no earlier item has the id 'nope'"),
    (["n-5", "--reason", "r", "--source", "s"], "(did you mean 'n5'?)"),
    (["n5", "--reason", "r", "--source", "s", "--date", "2025-06-01"],
     "--date: 2025-06-01 is before the date of the item it retracts ('n5', 2025-06-10)"),
    (["n5", "--reason", "r", "--source", "s", "--date", "2099-01-01"],
     "--date: 2099-01-01 is after today"),
    (["n5", "--reason", "", "--source", "s"], "--reason: String should have at least 1"),
    (["n5", "--reason", "r", "--source", "s", "--id", "n1"], "--id: duplicate id 'n1'"),
    (["n5", "--reason", "r", "--source", "s", "--url", "ftp://x"],
     "--url: 'ftp://x' is not a web address"),
])
def test_a_bad_retraction_is_refused_naming_the_file_and_field(scratch, capsys, args, message):
    question, _ = scratch
    before = (question / "news.yaml").read_bytes()
    assert _cli(question, *args) == 2
    err = capsys.readouterr().err
    assert f"{question / 'news.yaml'}: new retraction: " in err and message in err
    assert "nothing was written" in err
    assert (question / "news.yaml").read_bytes() == before


def test_an_item_is_retracted_once_and_a_retraction_never(scratch, capsys):
    question, _ = scratch
    assert _cli(question, "n5", "--reason", "r", "--source", "s", "--id", "r1") == 0
    capsys.readouterr()
    before = (question / "news.yaml").read_bytes()
    assert _cli(question, "n5", "--reason", "r", "--source", "s") == 2
    assert "ITEM_ID: item 'n5' is already retracted, by 'r1'" in capsys.readouterr().err
    assert _cli(question, "r1", "--reason", "r", "--source", "s") == 2
    assert "ITEM_ID: 'r1' is itself a retraction; a retraction cannot be retracted" in (
        capsys.readouterr().err)
    assert (question / "news.yaml").read_bytes() == before
    # and a new item may not take the retraction's id
    assert main(["update", str(question), "--date", "2025-08-01", "--headline", "h",
                 "--source", "s", "--reliability", "B2", "--bears-on", "tartus", "--lr", "2",
                 "--id", "r1", "--out", str(question.parent / "out")]) == 2
    assert "duplicate id 'r1'" in capsys.readouterr().err


@pytest.mark.parametrize(("entry", "message"), [
    ({"id": "r9", "date": "2025-08-01", "retracts": "n1", "reason": "x"},
     "items[5].source: Field required"),
    ({"id": "r9", "date": "2025-08-01", "retracts": "n9", "reason": "x", "source": "s"},
     "items[5]: retracts: no earlier item has the id 'n9'"),
    ({"id": "r9", "date": "2025-01-01", "retracts": "n5", "reason": "x", "source": "s"},
     "items[5]: date: 2025-01-01 is before the date of the item it retracts"),
    ({"id": "r9", "date": "2025-08-01", "reason": "x", "source": "s"},
     "items[5].retracts: Field required"),
])
def test_a_bad_retraction_in_the_ledger_file_is_refused(tmp_path, entry, message):
    question = make_question(tmp_path, news=[*NEWS, entry])
    with pytest.raises(LedgerError) as info:
        load_ledger(load_question(question), today=TODAY)
    assert f"{question / 'news.yaml'}: {message}" in str(info.value)


def test_a_retraction_dated_after_the_as_of_date_is_not_yet_in_force(scratch):
    """``compute`` as of a past date counts an item a later retraction withdrew."""
    question, out = scratch
    config = load_question(question)
    retract(config, RETRACT_N5, out=out, today=TODAY)
    items = load_ledger(config, today=TODAY)
    then = compute(config, items, out=out, as_of=BEFORE)
    now = compute(config, items, out=out, as_of=TODAY)
    assert "n5" in then.evidence.item_ids and "n5" not in now.evidence.item_ids
    [n5] = [i for i in items_as_of(items, BEFORE) if i.id == "n5"]
    assert n5.retraction is None  # as it stood then
