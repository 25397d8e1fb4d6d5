"""The event-history outside view: integration over unknown features, no hindsight, horizons.

Each property is one the old rule fails: the old outside view coded features over the whole
episode (so a consequence of the loss "predicted" it) and converted a five-year rate to the
question's horizon at a constant hazard.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from synthetic_reference import write_synthetic

from conftest import short_hazard_fit
from forecast import hazard, hazard_backtest, reference, reference_cases, reference_data, skill
from forecast.config import ConfigError


@pytest.fixture(scope="module")
def fit(tmp_path_factory):
    return short_hazard_fit(write_synthetic(tmp_path_factory.mktemp("synthetic")))


def test_blank_feature_is_the_weighted_average_of_its_two_values(fit):
    known = {f: 0 for f in hazard.TIME_VARYING}
    static = {"regime_change": 1, "treaty": 1}
    for feature in ("host_demand", "violence"):
        p = hazard.blank_probability(fit, feature, 1, static)
        assert 0 < p < 1

        def pred(value, feature=feature):
            profile = hazard.Profile("A", static, {**known, feature: value})
            return hazard.survival(fit, profile, origin=1, horizons=[2.5, 5], seed=7)

        blank, on, off = pred(None), pred(1), pred(0)
        np.testing.assert_allclose(blank, p * on + (1 - p) * off, rtol=1e-12, atol=1e-14)
        assert not np.allclose(on, off)  # the feature matters, so the mixture is a real test


def test_blank_probability_is_the_jeffreys_rate_among_cases_at_risk(fit):
    k = reference_data.known_at(fit.cases, 2, outcome=fit.settings.outcome)
    pool = k[k["at_risk"] & (k["regime_change"] == 0) & (k["treaty"] == 1)]
    assert len(pool) >= 5
    expected = (pool["violence"].sum() + 0.5) / (len(pool) + 1)
    got = hazard.blank_probability(fit, "violence", 2, {"regime_change": 0, "treaty": 1})
    assert got == pytest.approx(expected, abs=1e-12)


def test_a_fact_enters_only_after_it_is_known(tmp_path):
    d = write_synthetic(tmp_path, n=4)
    cases, _ = reference_data.load_reference(d)
    case = cases.iloc[0].copy()
    cases.loc[0, "violence"] = case["start"] + 13  # one month into episode year 2
    k1 = reference_data.known_at(cases, 1)
    k2 = reference_data.known_at(cases, 2)
    assert k1.loc[0, "violence"] == 0 and k2.loc[0, "violence"] == 1
    years = reference_data.case_years(cases)
    row = years[years["case_id"] == case["case_id"]].set_index("year")["violence"]
    assert row.get(2, 0) == 0  # known at the start of year 3, not during year 2
    if 3 in row.index:
        assert row[3] == 1


def test_a_consequence_of_the_loss_gives_the_old_model_skill_but_not_the_new(tmp_path):
    """Violence that comes a month before each loss: coded over the episode (the old rule),
    it 'predicts' retention almost perfectly; known at the origin, it is never there. With
    this data the old model's leave-one-out Brier was far below the base rate's (hindsight);
    the as-of-origin backtest must not beat the base rate by more than noise."""
    d = write_synthetic(tmp_path, n=70, seed=3, consequence=True, hazard_demand=0.12,
                        hazard_none=0.12)
    fit_new = short_hazard_fit(d)
    old_cases = reference_cases.episode_coded(fit_new.cases)
    settings = reference.load_settings().with_sampler(draws=400, tune=400, chains=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old_fit = reference.fit_reference(old_cases, settings)
        old = reference.backtest(old_fit, khat_max=1.0).pointwise
    bt = hazard_backtest.backtest(fit_new, old_model=dict(zip(old["case_id"], old["p_loo"],
                                                              strict=True)), refit=False)
    s = bt.scores[bt.scores["origin"] == 0].set_index("forecaster")
    assert s.loc["old_model", "brier"] < s.loc["base_rate", "brier"] - 0.08
    assert s.loc["hazard", "brier"] > s.loc["base_rate", "brier"] - 0.03


def test_front_loaded_losses_are_not_spread_at_a_constant_hazard(tmp_path):
    """All losses in year 1: P(kept 3 years) equals P(kept 5 years). The old conversion,
    P_3 = P_5 ** (3 / 5), put it well above (by 0.1 or more here)."""
    d = write_synthetic(tmp_path, n=80, seed=5, front_loaded=True, hazard_demand=0.45)
    fit_fl = short_hazard_fit(d)
    profile = hazard.Profile("A", {"regime_change": 1, "treaty": 1},
                             {f: 0 for f in hazard.TIME_VARYING})
    s = hazard.survival(fit_fl, profile, origin=0, horizons=[3.0, 5.0]).mean(axis=0)
    old_rule = s[1] ** (3 / 5)
    assert s[0] - s[1] < 0.06
    assert old_rule - s[0] > 0.1


def test_bad_dated_data_names_file_line_and_field(tmp_path):
    d = write_synthetic(tmp_path, n=3)
    good = (d / "events.csv").read_text().splitlines()
    n = len(good) + 1
    for row, expected in (("case_999,violence,1990-01,month,x,y",
                           f"events.csv: line {n} (case_id 'case_999'): case_id: not a case of "
                           "cases.csv"),
                          ("case_000,violence,1990-13,month,x,y",
                           f"events.csv: line {n} (case_id 'case_000'): date: must be a month "
                           "YYYY-MM (got '1990-13')"),
                          ("case_000,rumour,1990-01,month,x,y",
                           f"events.csv: line {n} (case_id 'case_000'): event:")):
        (d / "events.csv").write_text("\n".join([*good, row]) + "\n")
        with pytest.raises(ConfigError) as err:
            reference_data.load_reference(d)
        assert any(expected in p for p in err.value.problems), err.value.problems


def test_a_case_needs_exactly_one_end(tmp_path):
    d = write_synthetic(tmp_path, n=3)
    lines = [ln for ln in (d / "events.csv").read_text().splitlines()
             if not ln.startswith("case_001,exit") and not ln.startswith("case_001,censored")]
    (d / "events.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"case_001.*exactly one of .exit. or .censored."):
        reference_data.load_reference(d)


def test_a_fractional_origin_conditions_on_the_months_already_kept(fit):
    """With every feature held fixed, P(kept to h | kept to o) = S(h) / S(o) draw by draw,
    for an origin part-way into a year (the question's 'kept through last month')."""
    off = {f: 0 for f in hazard.TIME_VARYING}
    profile = hazard.Profile("B", {"regime_change": 1, "treaty": 0}, off,
                             {f: (0, 1) for f in hazard.TIME_VARYING})
    full = hazard.survival(fit, profile, origin=0, horizons=[1.5, 3.25], seed=11)
    part = hazard.survival(fit, profile, origin=1.5, horizons=[3.25], seed=11)
    np.testing.assert_allclose(part[:, 0], full[:, 1] / full[:, 0], rtol=1e-10)


def test_kaplan_meier_by_hand():
    """Losses at 6 and 18 months, censoring at 12 and 30: S(2 years) = 3/4 * 1/2 = 3/8.
    The naive share not lost (2 of 4) gives 1/2, as if the case censored at 12 months
    had been seen to survive two years."""
    import pandas as pd

    cases = pd.DataFrame({"start": [0, 0, 0, 0], "exit": [6, np.nan, 18, np.nan],
                          "facility_exit": [np.nan] * 4, "censored": [np.nan, 12, np.nan, 30]})
    assert skill.kaplan_meier(cases, 2.0) == pytest.approx(3 / 8)
    assert skill.kaplan_meier(cases, 1.0) == pytest.approx(3 / 4)


# ------------------------------------------------------------------ the class as known at a date


def test_the_class_as_known_at_a_date_ends_there(tmp_path):
    """Known on 2024-12-09 is what is dated up to 2024-11. A case lost in 2025 is a
    censored case then, seen through 2024-11, and no case-year runs past that month;
    the old rule (the class as entered) counted the 2025 loss and the years to it."""
    import datetime as dt

    d = write_synthetic(tmp_path, n=60, seed=4)
    cases, events = reference_data.load_reference(d)
    cut = reference_data.month_index("2024-12")
    i = 0  # make the first case begin in 2021-03 and be lost in 2025-02
    case_id = cases.loc[i, "case_id"]
    cases.loc[i, ["start", "exit", "facility_exit", "censored"]] = [cut - 45, cut + 2, np.nan,
                                                                   np.nan]
    known, known_events = reference_data.class_as_of(cases, events, dt.date(2024, 12, 9))
    assert (known["start"] < cut).all() and (known_events["month"].dropna() < cut).all()
    assert known.attrs["known_at"] == "2024-12-09"
    row = known.set_index("case_id").loc[case_id]
    assert np.isnan(row["exit"]) and row["censored"] == cut - 1
    full = reference_data.case_years(cases)
    years = reference_data.case_years(known)
    assert full[full["case_id"] == case_id]["lost"].sum() == 1
    assert years[years["case_id"] == case_id]["lost"].sum() == 0
    starts = known.set_index("case_id")["start"]
    ends = starts[years["case_id"]].to_numpy() + 12 * years["year"].to_numpy()
    # every year counted without a loss was over before the date's month (a year with a
    # loss ends at the loss, which is known)
    assert (ends[years["lost"].to_numpy() == 0] <= cut).all()
    assert (ends[years["lost"].to_numpy() == 0] > cut).sum() == 0 < (
        starts[full["case_id"]].to_numpy() + 12 * full["year"].to_numpy() > cut).sum()


def test_the_link_uses_nothing_dated_after_the_creation(tmp_path):
    """Eight episodes begun in 2020: as entered in 2024 they were running (censored in
    2024-11); as entered later they ran to 2030 with violence from 2025-06, after the
    question's creation (2024-12-09). The linked priors derived as of the creation are
    the same from both. The old rule derived them from the class as entered, whose
    onset rates (and so base rate and effects) differ; a fit of the class as entered is
    refused when it cannot be replaced by one as of the creation."""
    import shutil

    from synthetic_reference import CREATED, synthetic_hazard_fit

    from conftest import TODAY, make_question
    from forecast.config import load_question
    from forecast.reference_priors import derive, linked_survival

    then = write_synthetic(tmp_path / "then", n=60, seed=1)
    later = tmp_path / "later"
    shutil.copytree(then, later)
    _add_2020_cases(then, ["censored,2024-11"])
    _add_2020_cases(later, ["violence,2025-06", "censored,2030-01"])
    config = load_question(make_question(tmp_path, news=[]))
    assert config.question.created == CREATED
    a = synthetic_hazard_fit(then, write=False, n_draws=1000)
    b = synthetic_hazard_fit(later, write=False, n_draws=1000)
    la, lb = (derive(config, f, today=TODAY) for f in (a, b))
    assert la.baseline == lb.baseline and la.effects == lb.effects
    assert "known on 2024-12-09" in la.method
    full = [synthetic_hazard_fit(d, write=False, known_at=None, n_draws=1000)
            for d in (then, later)]
    base = [linked_survival(config, f)["base"][:, 0].mean() for f in full]
    assert abs(base[0] - base[1]) > 1e-3  # what the old rule let in
    with pytest.raises(ConfigError, match="not at the question's creation 2024-12-09"):
        derive(config, full[1])
    # the survival chart's curve "as of the start" is the same hindsight-free view: equal
    # from both as-of fits, and never drawn from a fit of the class as entered
    from forecast.history_view import survival_table

    def start_curve(fit):
        table = survival_table(config, fit, today=TODAY)
        start = table["source"] == "history, as of the start (the class as known at 2024-12-09)"
        assert start.any()
        return table[start]["p"].to_numpy()

    assert np.allclose(start_curve(a), start_curve(b))
    with pytest.raises(ConfigError, match="not at the question's creation"):
        survival_table(config, full[1], today=TODAY)


def _add_2020_cases(directory, events: list[str]) -> None:
    """Append eight episodes begun in 2020-01, each with ``events`` ("event,YYYY-MM")."""
    with open(directory / "cases.csv", "a", encoding="utf-8") as fh:
        fh.writelines(f"case_2020_{i},A,H{i},Base,shock_2020_{i},2020-01,month,0,1,x,x,"
                      "2026-12-01\n" for i in range(8))
    with open(directory / "events.csv", "a", encoding="utf-8") as fh:
        fh.writelines(f"case_2020_{i},{e},month,x,x\n" for i in range(8) for e in events)


def test_onset_counts_are_counted_once_per_left_out_set(fit, monkeypatch):
    """survival asks for the onset rates on every call (about 230 in the backtest); the
    counts behind them depend only on the shocks left out, so they are counted once."""
    calls = []
    real = hazard.onset_counts
    monkeypatch.setattr(hazard, "onset_counts", lambda data: calls.append(1) or real(data))
    fresh = hazard.HazardFit(fit.tree, fit.diagnostics, fit.cases, fit.data, fit.settings)
    for _ in range(4):
        cached = fresh.onset_rates(np.random.default_rng(0), 10)
    fresh.onset_rates(np.random.default_rng(0), 10, without=frozenset(["shock_0"]))
    assert len(calls) == 2
    other = hazard.HazardFit(fit.tree, fit.diagnostics, fit.cases, fit.data, fit.settings)
    np.testing.assert_array_equal(cached, other.onset_rates(np.random.default_rng(0), 10))


def test_the_fit_as_of_a_date_is_stored_apart_and_swapped_in_by_the_link(tmp_path,
                                                                         monkeypatch):
    """The store keys a fit on its truncation date: the fit as of the creation is not the
    fit of the class as entered, and is reused once made. Given the fit as entered (as
    `forecast reference link` passes it), derive takes the one as of the creation from
    the same store; the old rule derived from the fit it was given."""
    import datetime as dt

    from synthetic_reference import CREATED, synthetic_hazard_fit

    from conftest import TODAY, make_question
    from forecast import reference_store
    from forecast.config import load_question
    from forecast.reference_priors import derive

    d = write_synthetic(tmp_path / "class", n=60, seed=1)
    _add_2020_cases(d, ["violence,2025-06", "censored,2030-01"])  # years after the creation
    fitted = []

    def fake_fit(cases, settings, progressbar=False):  # known draws instead of MCMC
        at = cases.attrs.get("known_at")
        fitted.append(at)
        return synthetic_hazard_fit(d, write=False, n_draws=400,
                                    known_at=dt.date.fromisoformat(at) if at else None)

    monkeypatch.setattr(hazard, "fit_hazard", fake_fit)
    out = tmp_path / "out"
    full, how = reference_store.cached_hazard_fit(out, directory=d)
    assert how == "fit" and full.known_at is None and full.stored_under == out
    as_of, how = reference_store.cached_hazard_fit(out, directory=d, known_at=CREATED)
    assert how == "fit" and as_of.known_at == CREATED
    again, how = reference_store.cached_hazard_fit(out, directory=d, known_at=CREATED)
    assert how == "cached" and again.known_at == CREATED
    assert len(list((out / reference_store.FOLDER).glob("hazard-*.nc"))) == 2
    assert len(again.data) == len(as_of.data) < len(full.data)
    config = load_question(make_question(tmp_path, news=[]))
    linked = derive(config, full, today=TODAY)
    assert fitted == [None, CREATED.isoformat()]  # the stored fit as of creation was reused
    assert linked == derive(config, again, today=TODAY)
    assert linked.reference.n_cases == len(again.cases)
