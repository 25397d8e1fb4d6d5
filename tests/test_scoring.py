"""Resolving a question and scoring the record as platforms do (no MCMC: hand-made entries).

Every number asserted in the worked examples is computed here by hand, from day counts
and probabilities written out, never with the code's own helpers.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import pandas as pd
import pytest
import yaml

from forecast.config import load_question
from forecast.scoring import (
    RESOLUTION_FILE,
    ResolutionError,
    daily_forecasts,
    load_resolution,
    resolve,
    score,
)

CREATED = dt.date(2026, 11, 25)  # pinned below, whatever the shipped question says


@pytest.fixture
def fresh_question(fresh_question):
    """The conftest copy with ``created`` pinned, so the hand-computed scores hold."""
    path = fresh_question / "question.yaml"
    text, n = re.subn(r"(?m)^created: .*$", f"created: {CREATED.isoformat()}", path.read_text())
    assert n == 1
    path.write_text(text)
    return fresh_question


def _listing(directory):
    return sorted(p.name for p in directory.iterdir())


def history(rows: list[tuple[dt.date | None, float]], outcomes=("khmeimim", "tartus")
            ) -> pd.DataFrame:
    """A history table shaped like forecast.news.history: the same p for every outcome."""
    return pd.DataFrame([
        {"date": d, "outcome": o, "p": p, "lower": p, "upper": p, "mcse": 0.0}
        for d, p in rows for o in outcomes
    ])


# ------------------------------------------------------------------ resolve


def test_resolve_writes_once_and_reads_back(fresh_question):
    path = resolve(fresh_question, {"khmeimim": 1, "tartus": 0}, "2027-12-31",
                   today=dt.date(2028, 1, 2))
    assert path == fresh_question / RESOLUTION_FILE
    res = load_resolution(fresh_question)
    assert res.outcomes == {"khmeimim": 1, "tartus": 0}
    assert res.date == dt.date(2027, 12, 31) and res.recorded == dt.date(2028, 1, 2)
    before = path.read_bytes()
    with pytest.raises(ResolutionError, match="already resolved"):
        resolve(fresh_question, {"khmeimim": 0, "tartus": 0}, "2027-12-31")
    assert path.read_bytes() == before
    assert not [p for p in fresh_question.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("outcomes", "date", "message"),
    [
        ({"khmeimim": 1, "tartus": 0, "latakia": 1}, "2027-12-31", "unknown bases ['latakia']"),
        ({"khmeimim": 1}, "2027-12-31", "missing bases ['tartus']"),
        ({"khmeimim": 2, "tartus": 0}, "2027-12-31", "outcomes.khmeimim: must be 0 or 1 (got 2)"),
        ({"khmeimim": "1", "tartus": 0}, "2027-12-31", "must be 0 or 1 (got '1')"),
        ({"khmeimim": True, "tartus": 0}, "2027-12-31", "must be 0 or 1 (got True)"),
        ({"khmeimim": 1, "tartus": 0}, "2026-11-24", "before the question was created"),
        ({"khmeimim": 1, "tartus": 0}, "31/12/2027", "not an ISO date"),
    ],
    ids=["unknown-base", "missing-base", "value-2", "string", "bool", "before-created",
         "bad-date"],
)
def test_resolve_refuses_bad_input_and_writes_nothing(fresh_question, outcomes, date, message):
    before = _listing(fresh_question)
    with pytest.raises(ResolutionError, match=re.escape(message)) as info:
        resolve(fresh_question, outcomes, date)
    assert str(fresh_question / RESOLUTION_FILE) in str(info.value)
    assert _listing(fresh_question) == before


def test_score_needs_a_resolution(fresh_question):
    with pytest.raises(ResolutionError, match="not resolved yet"):
        score(fresh_question, history([(None, 0.5)]), reference=0.5)


# ------------------------------------------------------------------ time-averaging


def test_daily_forecasts_stand_until_the_next():
    h = history([(None, 0.5), (dt.date(2026, 12, 5), 0.9), (dt.date(2026, 12, 5), 0.8)])
    daily = daily_forecasts(h, "khmeimim", CREATED, dt.date(2026, 12, 15))
    assert len(daily) == 20
    assert (daily[:10] == 0.5).all() and (daily[10:] == 0.8).all()  # last of a day stands


def test_the_reconstruction_is_scored_as_hindsight_by_hand(fresh_question):
    # Prior 0.5 for 10 days (Nov 25 - Dec 4), then 0.9 for 10 days (Dec 5 - Dec 14);
    # resolved Dec 15: khmeimim kept (1), tartus not (0). No record: nothing was issued.
    resolve(fresh_question, {"khmeimim": 1, "tartus": 0}, dt.date(2026, 12, 15))
    h = history([(None, 0.5), (dt.date(2026, 12, 5), 0.9), (dt.date(2027, 1, 1), 0.1)],
                outcomes=("khmeimim", "tartus", "all", "any"))
    table = score(fresh_question, h, reference=0.6).set_index(["outcome", "forecaster"])
    assert "record" not in set(table.index.get_level_values("forecaster"))
    k = table.loc[("khmeimim", "hindsight")]
    assert k["n_days"] == 20 and k["start"] == CREATED and k["n_forecasts"] == 2
    assert k["coverage"] == 1.0
    assert k["brier"] == pytest.approx((10 * 0.25 + 10 * 0.01) / 20)
    assert k["log_score"] == pytest.approx((10 * math.log(0.5) + 10 * math.log(0.9)) / 20)
    t = table.loc[("tartus", "hindsight")]
    assert t["brier"] == pytest.approx((10 * 0.25 + 10 * 0.81) / 20)
    assert t["log_score"] == pytest.approx((10 * math.log(0.5) + 10 * math.log(0.1)) / 20)
    assert table.loc[("all", "hindsight"), "resolved"] == 0
    assert table.loc[("any", "hindsight"), "resolved"] == 1
    assert table.loc[("tartus", "fifty"), "brier"] == pytest.approx(0.25)
    assert table.loc[("tartus", "fifty"), "baseline"] == pytest.approx(0.0)


def test_items_before_created_stand_from_created(fresh_question):
    # The open period is the question's: created (Nov 25) to the resolution (Nov 30),
    # 5 days. An item dated before `created` (Nov 20, 0.7) already stands on Nov 25;
    # the prior stands for no day. 0.7 for Nov 25-27 (3 days), 0.9 for Nov 28-29 (2).
    resolve(fresh_question, {"khmeimim": 1, "tartus": 1}, dt.date(2026, 11, 30))
    h = history([(None, 0.5), (dt.date(2026, 11, 20), 0.7), (dt.date(2026, 11, 28), 0.9)])
    table = score(fresh_question, h, reference=0.5).set_index(["outcome", "forecaster"])
    row = table.loc[("khmeimim", "hindsight")]
    assert row["start"] == CREATED and row["n_days"] == 5
    assert row["brier"] == pytest.approx((3 * 0.09 + 2 * 0.01) / 5)


def test_prior_date_as_nan_after_a_round_trip(fresh_question):
    resolve(fresh_question, {"khmeimim": 0, "tartus": 0}, dt.date(2026, 11, 27))
    h = history([(None, 0.5), (dt.date(2026, 11, 26), 0.2)])
    h["date"] = pd.to_datetime(h["date"])  # None becomes NaT, as after CSV or JSON
    row = score(fresh_question, h, reference=0.5).set_index(["outcome", "forecaster"]).loc[
        ("tartus", "hindsight")]
    assert row["brier"] == pytest.approx((0.25 + 0.04) / 2)


def _dated_class(directory, cases, events):
    """A hand-made dated reference class: ``cases`` (case_id, start) and ``events``
    (case_id, event, month)."""
    from forecast.reference_data import CASE_COLUMNS, EVENT_COLUMNS

    directory.mkdir()
    rows = [dict.fromkeys(CASE_COLUMNS, "x") | {
        "case_id": c, "patron": "P", "shock": f"s_{c}", "start_date": start,
        "start_precision": "month", "regime_change": "0", "treaty": "0",
        "entered": "2026-12-01"} for c, start in cases]
    pd.DataFrame(rows, columns=list(CASE_COLUMNS)).to_csv(directory / "cases.csv", index=False)
    pd.DataFrame([{"case_id": c, "event": e, "date": m, "precision": "month", "note": "x",
                   "source": "x"} for c, e, m in events],
                 columns=list(EVENT_COLUMNS)).to_csv(directory / "events.csv", index=False)
    return directory


def test_the_comparison_forecaster_knows_only_the_class_as_of_creation(fresh_question,
                                                                        tmp_path):
    """Created 2024-12-09, horizon three years on (35.97 months). Known then: c1 lost at 6
    months, c4 at 24; c2 (still running) and c3 (lost in 2025-01, after the creation) are
    censored at 2024-11 (34 and 22 months); c5 began in 2025 and is not in the class.
    Kaplan-Meier: 3/4 (6 months, 4 at risk) x 1/2 (24 months: c2 and c4 at risk) = 3/8.
    The old rule read the class as entered in 2026: c5's loss at 3 months (4/5), then
    3/4, then c3 and c4 at 24 months of 3 at risk (1/3): 0.2."""
    from forecast.scoring import comparison_forecast

    d = _dated_class(tmp_path / "class", [("c1", "2022-01"), ("c2", "2022-01"),
                                          ("c3", "2023-01"), ("c4", "2022-01"),
                                          ("c5", "2025-03")],
                     [("c1", "exit", "2022-07"), ("c2", "censored", "2026-11"),
                      ("c3", "exit", "2025-01"), ("c4", "exit", "2024-01"),
                      ("c5", "exit", "2025-06")])
    path = fresh_question / "question.yaml"
    text = re.sub(r"(?m)^created: .*$", "created: 2024-12-09", path.read_text())
    path.write_text(re.sub(r"(?m)^horizon: .*$", "horizon: 2027-12-09", text))
    config = load_question(fresh_question)
    c = comparison_forecast(config, directory=d)
    p = 3 / 8
    assert c["khmeimim"] == pytest.approx(p, abs=1e-12)
    lam = config.model.outcome_dependence.value
    assert c["all"] == pytest.approx((1 - lam) * p * p + lam * p)
    assert c["khmeimim"] != pytest.approx(0.2, abs=0.05)


def test_resolution_file_is_strict_yaml(fresh_question):
    path = resolve(fresh_question, {"khmeimim": 1, "tartus": 1}, "2027-12-31")
    data = yaml.safe_load(path.read_text())
    data["surprise"] = 1
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ResolutionError, match="surprise: Extra inputs are not permitted"):
        load_resolution(load_question(fresh_question))


# ------------------------------------------------------------------ the record, worked example
#
# A scratch question open from 2026-01-01 (created) to its resolution on 2026-01-31:
# 30 days, Jan 1 .. Jan 30. Khmeimim kept (1), Tartus not (0): so "all" 0, "any" 1.
# Five issued forecasts (UTC):
#   E1 Jan 06 09:00  khmeimim 0.60  tartus 0.50  both 0.40  either 0.70
#   E2 Jan 16 12:00  khmeimim 0.80  tartus 0.30  both 0.25  either 0.85
#   E3 Jan 16 18:00  khmeimim 0.90  tartus 0.20  both 0.20  either 0.90  (last of Jan 16)
#   E4 Jan 26 08:00  khmeimim 0.95  tartus 0.10  both 0.10  either 0.95
#   E5 Feb 05 08:00  khmeimim 0.99  ...                                  (after: ignored)
# Standing: nothing Jan 1-5 (5 days), E1 Jan 6-15 (10), E3 Jan 16-25 (10), E4 Jan 26-30 (5).

OPEN = dt.date(2026, 1, 1)
ENTRIES = [
    ("2026-01-06T09:00:00Z", 0.60, 0.50, 0.40, 0.70),
    ("2026-01-16T12:00:00Z", 0.80, 0.30, 0.25, 0.85),
    ("2026-01-16T18:00:00Z", 0.90, 0.20, 0.20, 0.90),
    ("2026-01-26T08:00:00Z", 0.95, 0.10, 0.10, 0.95),
    ("2026-02-05T08:00:00Z", 0.99, 0.01, 0.01, 0.99),
]
#: The crowd: khmeimim 0.5 from Jan 1, 0.7 from Jan 11, 0.6 from Jan 21 (a timed row);
#: tartus 0.5 from Jan 1, 0.4 from Jan 20; both ("all") 0.3 from Jan 1; none for "any".
CROWD = """date,outcome,probability
2026-01-01,khmeimim,0.5
2026-01-11,khmeimim,0.7
2026-01-21T08:00:00Z,khmeimim,0.6
2026-01-01,tartus,0.5
2026-01-20,tartus,0.4
2026-01-01,both,0.3
"""


def _entry(config, k, t, both, either):
    def est(p):
        return {"p": p, "interval": [p, p], "mcse": 0.0}

    return {"schema_version": 1, "issued": None, "question": config.id, "as_of": "2026-01-01",
            "bases": {"khmeimim": est(k), "tartus": est(t)},
            "joint": {"both": est(both), "either": est(either)},
            "engine": "exact", "path": "exact", "ledger": {"items": 0, "last_item": None}}


@pytest.fixture
def worked(tmp_path):
    """The worked example's question: the record issued, resolved, and the crowd's file."""
    from conftest import make_question
    from forecast.record import append_entry

    q = make_question(tmp_path, news=[])
    path = q / "question.yaml"
    text, n = re.subn(r"(?m)^created: .*$", f"created: {OPEN.isoformat()}", path.read_text())
    assert n == 1
    path.write_text(text)
    config = load_question(q)
    for issued, *ps in ENTRIES:
        append_entry(config, _entry(config, *ps), issued=issued)
    resolve(q, {"khmeimim": 1, "tartus": 0}, "2026-01-31")
    crowd = tmp_path / "crowd_download.csv"
    crowd.write_text(CROWD)
    return q, crowd


def _table(q, crowd=None, **kw):
    from forecast.scoring import read_crowd

    table = read_crowd(crowd, load_question(q)) if crowd is not None else False
    return score(q, crowd=table, reference=0.6, **kw).set_index(["outcome", "forecaster"])


def test_worked_example_reproduces_every_score_by_hand(worked):
    q, crowd = worked
    table = _table(q, crowd)
    ln, log2 = math.log, math.log2

    k = table.loc[("khmeimim", "record")]  # kept: the probability of what happened is p
    assert (k["n_days"], k["days_scored"], k["n_forecasts"]) == (30, 25, 4)
    assert k["first"] == dt.date(2026, 1, 6) and k["coverage"] == pytest.approx(25 / 30)
    # Brier on [0, 1]: (p - 1)^2 on each day a forecast stood, averaged over those 25 days.
    assert k["brier"] == pytest.approx((10 * 0.4**2 + 10 * 0.1**2 + 5 * 0.05**2) / 25)
    assert k["brier"] == pytest.approx(0.0685)
    # GJO's Brier on [0, 2]: both categories, (p_yes - 1)^2 + (p_no - 0)^2.
    assert k["gjo_brier"] == pytest.approx(
        (10 * (0.4**2 + 0.4**2) + 10 * (0.1**2 + 0.1**2) + 5 * (0.05**2 + 0.05**2)) / 25)
    assert k["gjo_brier"] == pytest.approx(0.137)
    # Log score: ln of the probability of what happened, over the same 25 days.
    assert k["log_score"] == pytest.approx((10 * ln(0.6) + 10 * ln(0.9) + 5 * ln(0.95)) / 25)
    # Metaculus's baseline: 100 (log2 p + 1) a day, 0 on the 5 days before E1, over 30 days.
    assert k["baseline"] == pytest.approx(
        100 * (5 * 0 + 10 * (log2(0.6) + 1) + 10 * (log2(0.9) + 1) + 5 * (log2(0.95) + 1))
        / 30)
    # Peer vs the crowd on the 25 days both stood (Jan 6-30), record minus crowd:
    # Jan 6-10 0.6 v 0.5, Jan 11-15 0.6 v 0.7, Jan 16-20 0.9 v 0.7, Jan 21-25 0.9 v 0.6,
    # Jan 26-30 0.95 v 0.6.
    assert k["peer_days"] == 25
    assert k["peer"] == pytest.approx(100 * (5 * ln(0.6 / 0.5) + 5 * ln(0.6 / 0.7)
                                             + 5 * ln(0.9 / 0.7) + 5 * ln(0.9 / 0.6)
                                             + 5 * ln(0.95 / 0.6)) / 25)

    t = table.loc[("tartus", "record")]  # not kept: the probability of what happened is 1 - p
    assert t["brier"] == pytest.approx((10 * 0.5**2 + 10 * 0.2**2 + 5 * 0.1**2) / 25)
    assert t["brier"] == pytest.approx(0.118)
    assert t["gjo_brier"] == pytest.approx(2 * 0.118)
    assert t["log_score"] == pytest.approx((10 * ln(0.5) + 10 * ln(0.8) + 5 * ln(0.9)) / 25)
    assert t["baseline"] == pytest.approx(
        100 * (10 * (log2(0.5) + 1) + 10 * (log2(0.8) + 1) + 5 * (log2(0.9) + 1)) / 30)
    # Jan 6-15 0.5 v 0.5 (10 days, ln 1 = 0), Jan 16-19 0.8 v 0.5 (4), Jan 20-25 0.8 v 0.6
    # (6), Jan 26-30 0.9 v 0.6 (5), each the probability of NO.
    assert t["peer"] == pytest.approx(100 * (10 * 0 + 4 * ln(0.8 / 0.5) + 6 * ln(0.8 / 0.6)
                                             + 5 * ln(0.9 / 0.6)) / 25)

    a = table.loc[("all", "record")]  # both kept? no: the record's "both" was 0.4, 0.2, 0.1
    assert a["resolved"] == 0
    assert a["brier"] == pytest.approx((10 * 0.4**2 + 10 * 0.2**2 + 5 * 0.1**2) / 25)
    # the crowd said both 0.3 throughout: P(NO) 0.7 against the record's 0.6, 0.8, 0.9
    assert a["peer"] == pytest.approx(100 * (10 * ln(0.6 / 0.7) + 10 * ln(0.8 / 0.7)
                                             + 5 * ln(0.9 / 0.7)) / 25)
    e = table.loc[("any", "record")]
    assert e["resolved"] == 1
    assert e["log_score"] == pytest.approx((10 * ln(0.7) + 10 * ln(0.9) + 5 * ln(0.95)) / 25)
    assert math.isnan(e["peer"]) and e["peer_days"] == 0  # the crowd said nothing on "any"
    assert ("any", "crowd") not in table.index

    c = table.loc[("khmeimim", "crowd")]  # the crowd's own scores: it stood all 30 days
    assert c["coverage"] == 1.0 and c["n_forecasts"] == 3
    assert c["brier"] == pytest.approx((10 * 0.5**2 + 10 * 0.3**2 + 10 * 0.4**2) / 30)
    assert c["baseline"] == pytest.approx(
        100 * (10 * (log2(0.5) + 1) + 10 * (log2(0.7) + 1) + 10 * (log2(0.6) + 1)) / 30)
    assert table.loc[("khmeimim", "fifty"), "baseline"] == 0.0


def test_the_naive_rule_gives_another_number(worked):
    # A plain mean over the forecasts issued in the period (E1-E4), as if each counted
    # once, gives Khmeimim's Brier (0.16 + 0.04 + 0.01 + 0.0025) / 4 = 0.053125.
    # Time-weighting (each standing for its days, E2 replaced within its day by E3)
    # gives 0.0685: the naive rule fails this test.
    q, _ = worked
    naive = (0.4**2 + 0.2**2 + 0.1**2 + 0.05**2) / 4
    assert naive == pytest.approx(0.053125)
    brier = _table(q).loc[("khmeimim", "record"), "brier"]
    assert brier == pytest.approx(0.0685)
    assert brier != pytest.approx(naive, abs=1e-3)


def test_the_comparison_forecaster_is_coherent(worked):
    q, _ = worked
    config = load_question(q)
    lam = config.model.outcome_dependence.value
    assert lam == 0.5  # the shipped question's outcome_dependence
    p = 0.6  # the comparison's P(kept) at the horizon, given
    both = 0.5 * p * p + 0.5 * p  # independent half the time, one draw the other half
    either = 1 - (0.5 * (1 - p) ** 2 + 0.5 * (1 - p))
    table = _table(q)
    r = table.xs("reference", level="forecaster")
    assert r.loc["khmeimim", "brier"] == pytest.approx((p - 1) ** 2)
    assert r.loc["tartus", "brier"] == pytest.approx(p**2)
    assert r.loc["all", "brier"] == pytest.approx(both**2)
    assert r.loc["any", "log_score"] == pytest.approx(math.log(either))
    assert both <= p <= either
    from forecast.scoring import comparison_forecast

    for rate in (0.05, 0.3, 0.6, 0.95):
        c = comparison_forecast(config, rate)
        assert c["all"] <= c["khmeimim"] == c["tartus"] <= c["any"]


def test_the_record_exports_as_a_crowd_and_round_trips(worked, tmp_path, capsys):
    from forecast.cli import main
    from forecast.record import read_record
    from forecast.scoring import read_crowd, record_timeline

    q, _ = worked
    assert main(["record", str(q), "--csv"]) == 0
    exported = tmp_path / "record.csv"
    exported.write_text(capsys.readouterr().out)
    config = load_question(q)
    back = read_crowd(exported, config)
    mine = record_timeline(read_record(config))
    cols = ["when", "date", "outcome", "probability"]
    pd.testing.assert_frame_equal(back[cols].reset_index(drop=True),
                                  mine[cols].sort_values("when", kind="stable")
                                  .reset_index(drop=True))
    # the record against its own export: the same forecaster, peer 0 on every day it stood
    table = _table(q, exported)
    assert table.loc[("khmeimim", "record"), "peer"] == pytest.approx(0.0)
    assert table.loc[("khmeimim", "record"), "peer_days"] == 25
    # and the crowd file written by an import reads back the same
    from forecast.scoring import crowd_csv

    again = tmp_path / "again.csv"
    again.write_bytes(crowd_csv(back))
    pd.testing.assert_frame_equal(read_crowd(again, config)[cols], back[cols])


# ------------------------------------------------------------------ the crowd's file


def test_a_file_without_an_outcome_column_is_for_one_outcome(worked, tmp_path):
    from forecast.scoring import CrowdError, read_crowd

    q, _ = worked
    f = tmp_path / "metaculus.csv"
    f.write_text("Date,Probability\n2026-01-01 12:00:00,0.4\n2026-01-10T00:00:00+02:00,0.6\n")
    table = read_crowd(f, load_question(q), outcome="either")
    assert list(table["outcome"]) == ["any", "any"]
    # a time with a zone is taken in UTC: 2026-01-10 00:00 +02:00 is 2026-01-09 22:00 UTC
    assert list(table["date"]) == [dt.date(2026, 1, 1), dt.date(2026, 1, 9)]
    with pytest.raises(CrowdError, match="no outcome column"):
        read_crowd(f, load_question(q))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("31/01/2026,khmeimim,0.7", "line 3: date: not an ISO date or time (got '31/01/2026')"),
        ("2026-01-21,tartus,1.5", "line 3: probability: 1.5 is outside [0, 1]"),
        ("2026-01-21,tartus,-0.1", "line 3: probability: -0.1 is outside [0, 1]"),
        ("2026-01-21,tartus,65%", "line 3: probability: not a number (got '65%'); write a "
                                  "fraction: 0.65 for 65%"),
        ("2026-01-21,latakia,0.4", "line 3: outcome: unknown outcome 'latakia'; allowed: "
                                   "khmeimim, tartus"),
        ("2026-01-21,tartus", "line 3: has 2 fields, the header 3"),
    ],
    ids=["bad-date", "above-1", "below-0", "percent", "unknown-outcome", "short-row"],
)
def test_a_bad_crowd_csv_exits_2_and_writes_nothing(worked, tmp_path, capsys, row, message):
    from forecast.cli import main

    q, _ = worked
    bad = tmp_path / "bad.csv"
    bad.write_text(f"date,outcome,probability\n2026-01-01,khmeimim,0.5\n{row}\n")
    before = {p.name: p.read_bytes() for p in q.iterdir() if p.is_file()}
    assert main(["crowd", "import", str(bad), str(q)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: ") and message in err, err
    after = {p.name: p.read_bytes() for p in q.iterdir() if p.is_file()}
    assert after == before and "crowd.csv" not in after  # nothing written, no temp file
    assert main(["score", str(q), "--crowd", str(bad)]) == 2  # nor scored against
    assert message in capsys.readouterr().err


def test_a_crowd_csv_missing_a_column_or_a_file_is_named(worked, tmp_path, capsys):
    from forecast.cli import main

    q, _ = worked
    f = tmp_path / "cols.csv"
    f.write_text("day,outcome,prob\n2026-01-01,khmeimim,0.5\n")
    assert main(["crowd", "import", str(f), str(q)]) == 2
    err = capsys.readouterr().err
    assert f"{f}: line 1: no date column: the header needs date or issued" in err
    assert f"{f}: line 1: no probability column: the header needs probability or p" in err
    assert main(["crowd", "import", str(tmp_path / "absent.csv"), str(q)]) == 2
    assert "absent.csv: file not found" in capsys.readouterr().err
    (tmp_path / "empty.csv").write_text("")
    assert main(["crowd", "import", str(tmp_path / "empty.csv"), str(q)]) == 2
    assert "empty.csv: empty" in capsys.readouterr().err
    assert not (q / "crowd.csv").exists()


def test_import_then_score_picks_the_crowd_up(worked, capsys, monkeypatch):
    import json

    import forecast.scoring
    from forecast.cli import main

    q, crowd = worked
    assert main(["crowd", "import", str(crowd), str(q)]) == 0
    said = capsys.readouterr().out
    assert "imported 6 probabilities (khmeimim: 3, tartus: 2, all: 1" in said
    assert (q / "crowd.csv").read_text().splitlines()[:3] == [
        "date,outcome,probability", "2026-01-01,khmeimim,0.5", "2026-01-01,tartus,0.5"]
    assert "2026-01-21T08:00:00Z,khmeimim,0.6" in (q / "crowd.csv").read_text()

    assert main(["score", str(q), "--json"]) == 0
    rows = {(r["outcome"], r["forecaster"]): r for r in json.loads(capsys.readouterr().out)}
    assert {("khmeimim", "record"), ("khmeimim", "crowd"), ("all", "reference"),
            ("any", "fifty")} <= set(rows)
    assert rows[("khmeimim", "record")]["first"] == "2026-01-06"
    assert rows[("khmeimim", "record")]["peer"] > 0

    # the reconstruction is scored only when asked, and labelled hindsight
    import forecast.news

    monkeypatch.setattr(forecast.news, "history", lambda *a, **k: history(
        [(None, 0.5)], outcomes=("khmeimim", "tartus", "all", "any")))
    assert main(["score", str(q), "--hindsight"]) == 0
    text = capsys.readouterr().out
    assert "record: 4 issued forecasts before the resolution, standing from 2026-01-06 " \
           "(83% of the open period)" in text
    assert re.search(r"khmeimim\s+hindsight\s+0\.250", text)
    assert "hindsight: the reconstruction" in text and "not forecasting skill" in text


def test_the_history_chart_draws_the_crowd_beside_the_record(worked):
    import matplotlib

    matplotlib.use("Agg")
    from forecast import charts
    from forecast.record import read_record, record_table
    from forecast.scoring import import_crowd

    q, crowd = worked
    config = load_question(q)
    h = history([(None, 0.5), (dt.date(2026, 1, 12), 0.7)], outcomes=("khmeimim", "tartus",
                                                                      "all"))
    h["new_items"] = ""
    record = record_table(read_record(config))

    def gids(fig):
        return [line.get_gid() for line in fig.axes[0].lines]

    assert "crowd-line" not in gids(charts.plot_history(h, config=config, record=record))
    import_crowd(config, crowd)
    fig = charts.plot_history(h, config=config, record=record)  # crowd.csv picked up
    assert gids(fig).count("crowd-line") == 3  # khmeimim, tartus, all
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "crowd (imported timeline)" in labels and "issued forecasts (the record)" in labels
    assert "crowd-line" not in gids(charts.plot_history(h, config=config, crowd=False))
