"""Resolving a question and scoring its forecast history (no MCMC: hand-made histories)."""

from __future__ import annotations

import datetime as dt
import math
import re

import pandas as pd
import pytest
import yaml

from conftest import ROOT
from forecast.config import load_question
from forecast.scoring import (
    RESOLUTION_FILE,
    ResolutionError,
    daily_forecasts,
    load_resolution,
    reference_base_rate,
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
GOOD_CASES = ROOT / "tests" / "fixtures" / "reference" / "good.csv"


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
        score(fresh_question, history([(None, 0.5)]), base_rate=0.5)


# ------------------------------------------------------------------ time-averaging


def test_daily_forecasts_stand_until_the_next():
    h = history([(None, 0.5), (dt.date(2026, 12, 5), 0.9), (dt.date(2026, 12, 5), 0.8)])
    daily = daily_forecasts(h, "khmeimim", CREATED, dt.date(2026, 12, 15))
    assert len(daily) == 20
    assert (daily[:10] == 0.5).all() and (daily[10:] == 0.8).all()  # last of a day stands


def test_time_averaged_scores_by_hand(fresh_question):
    # Prior 0.5 for 10 days (Nov 25 - Dec 4), then 0.9 for 10 days (Dec 5 - Dec 14);
    # resolved Dec 15: khmeimim kept (1), tartus not (0).
    resolve(fresh_question, {"khmeimim": 1, "tartus": 0}, dt.date(2026, 12, 15))
    h = history([(None, 0.5), (dt.date(2026, 12, 5), 0.9), (dt.date(2027, 1, 1), 0.1)],
                outcomes=("khmeimim", "tartus", "all", "any"))
    table = score(fresh_question, h, base_rate=0.6).set_index(["outcome", "forecaster"])
    k = table.loc[("khmeimim", "forecast")]
    assert k["n_days"] == 20 and k["start"] == CREATED and k["n_forecasts"] == 2
    assert k["brier"] == pytest.approx((10 * 0.25 + 10 * 0.01) / 20)
    assert k["log_score"] == pytest.approx((10 * math.log(0.5) + 10 * math.log(0.9)) / 20)
    t = table.loc[("tartus", "forecast")]
    assert t["brier"] == pytest.approx((10 * 0.25 + 10 * 0.81) / 20)
    assert t["log_score"] == pytest.approx((10 * math.log(0.5) + 10 * math.log(0.1)) / 20)
    assert table.loc[("all", "forecast"), "resolved"] == 0
    assert table.loc[("any", "forecast"), "resolved"] == 1
    assert table.loc[("khmeimim", "base_rate"), "brier"] == pytest.approx(0.16)
    assert table.loc[("tartus", "base_rate"), "log_score"] == pytest.approx(math.log(0.4))
    assert table.loc[("tartus", "fifty"), "brier"] == pytest.approx(0.25)


def test_items_before_created_start_the_clock(fresh_question):
    # A ledger item dated 5 days before `created`: the clock starts there, the prior
    # stands for no day, and the item's forecast stands until the next one.
    resolve(fresh_question, {"khmeimim": 1, "tartus": 1}, dt.date(2026, 11, 30))
    h = history([(None, 0.5), (dt.date(2026, 11, 20), 0.7), (dt.date(2026, 11, 28), 0.9)])
    table = score(fresh_question, h, base_rate=0.5).set_index(["outcome", "forecaster"])
    row = table.loc[("khmeimim", "forecast")]
    assert row["start"] == dt.date(2026, 11, 20) and row["n_days"] == 10
    assert row["brier"] == pytest.approx((8 * 0.09 + 2 * 0.01) / 10)


def test_prior_date_as_nan_after_a_round_trip(fresh_question):
    resolve(fresh_question, {"khmeimim": 0, "tartus": 0}, dt.date(2026, 11, 27))
    h = history([(None, 0.5), (dt.date(2026, 11, 26), 0.2)])
    h["date"] = pd.to_datetime(h["date"])  # None becomes NaT, as after CSV or JSON
    row = score(fresh_question, h, base_rate=0.5).set_index(["outcome", "forecaster"]).loc[
        ("tartus", "forecast")]
    assert row["brier"] == pytest.approx((0.25 + 0.04) / 2)


def test_reference_base_rate_is_laplace():
    # good.csv: 2 of 4 kept -> (2 + 1) / (4 + 2)
    assert reference_base_rate(GOOD_CASES) == pytest.approx(0.5)


def test_resolution_file_is_strict_yaml(fresh_question):
    path = resolve(fresh_question, {"khmeimim": 1, "tartus": 1}, "2027-12-31")
    data = yaml.safe_load(path.read_text())
    data["surprise"] = 1
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ResolutionError, match="surprise: Extra inputs are not permitted"):
        load_resolution(load_question(fresh_question))
