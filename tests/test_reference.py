"""The reference class: CSV validation, parameter recovery, LOO backtest, scores, Syria case.

One MCMC fit per session (300 simulated cases, 2 chains x 400 draws, ~10 s) serves
every test that needs posterior draws; one more compile serves the exact-refit test.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import (
    DEFAULT_QUESTION,
    N_SIM,
    ROOT,
    SETTINGS,
    SIM_SEED,
    TRUE_ALPHA,
    TRUE_BETA,
    simulate,
)
from forecast.config import ConfigError, load_question
from forecast.errors import ConvergenceWarning
from forecast.reference import (
    COLUMNS,
    FEATURES,
    OUTCOME,
    backtest,
    brier_score,
    calibration_table,
    load_cases,
    load_settings,
    log_score,
    loo_base_rate,
    predict,
    score_table,
)

FIXTURES = ROOT / "tests" / "fixtures" / "reference"

PREDICT_COLS = ("case_id", *FEATURES)


# ------------------------------------------------------------------ validation, one bad CSV each


def _error(name: str, **kwargs) -> str:
    path = FIXTURES / name
    with pytest.raises(ConfigError) as info:
        load_cases(path, **kwargs)
    message = str(info.value)
    assert str(path) in message, "the error must name the file"
    return message


def test_good_file_loads_with_types_and_line_numbers():
    cases = load_cases(FIXTURES / "good.csv")
    assert list(cases.columns) == [*COLUMNS, "line"]
    assert len(cases) == 4
    assert cases[[*FEATURES, OUTCOME, "start_year"]].dtypes.map(
        pd.api.types.is_integer_dtype).all()
    assert cases["bases"].iloc[0] == "Alexandria, Mersa Matruh"  # quoted comma survives
    assert list(cases["line"]) == [2, 3, 4, 5]
    assert len(cases.attrs["sha256"]) == 64


def test_missing_column():
    assert "missing columns ['source']" in _error("missing_column.csv")


def test_unexpected_column():
    assert "unexpected columns ['extra']" in _error("extra_column.csv")


def test_value_not_0_or_1_names_row_case_and_column():
    msg = _error("not_binary.csv")
    assert "line 3 (case_id 'b'): host_demand: must be 0 or 1 (got 2)" in msg


def test_value_not_a_number():
    msg = _error("not_a_number.csv")
    assert "line 3 (case_id 'b'): violence: must be a whole number (got 'yes')" in msg


def test_year_out_of_range():
    msg = _error("year_out_of_range.csv")
    assert "line 3 (case_id 'b'): start_year: must be a year in 1945..2025 (got 1938)" in msg


def test_duplicate_case_id():
    assert "line 4 (case_id 'a'): case_id: duplicate of line 2" in _error("duplicate_case_id.csv")


def test_empty_source():
    assert "line 3 (case_id 'b'): source: is empty" in _error("empty_source.csv")


def test_empty_notes():
    assert "line 3 (case_id 'b'): notes: is empty: every case says how it was coded" in _error(
        "empty_notes.csv")


def test_short_row():
    assert "line 3 (case_id 'b'): (row): fewer cells than the header" in _error("short_row.csv")


def test_empty_file_and_header_only():
    assert "the file is empty" in _error("empty.csv")
    assert "no cases" in _error("header_only.csv")


def test_missing_file():
    with pytest.raises(ConfigError, match="file not found"):
        load_cases(FIXTURES / "no_such.csv")


def test_every_problem_is_listed_at_once(tmp_path):
    bad = tmp_path / "two.csv"
    lines = (FIXTURES / "not_binary.csv").read_text().splitlines()
    bad.write_text("\n".join([*lines, "c,UK,Kenya,y,1900,0,1,0,0,0,1,1,1,a note,src"]) + "\n")
    with pytest.raises(ConfigError) as info:
        load_cases(bad)
    assert len(info.value.problems) == 2


def test_cases_to_predict_need_only_id_and_features():
    new = load_cases(FIXTURES / "predict.csv", for_prediction=True)
    assert list(new["case_id"]) == ["known_patron", "new_patron"]
    with pytest.raises(ConfigError, match="missing columns"):
        load_cases(FIXTURES / "missing_column.csv", for_prediction=False)


def test_settings_file_is_valid_and_refuses_unknown_fields(tmp_path):
    settings = load_settings(SETTINGS)
    assert set(settings.priors.coefficients) == set(FEATURES)
    case = load_question(DEFAULT_QUESTION).reference_case
    assert set(case.start) | {e.feature for e in case.events} | set(case.links) <= set(FEATURES)
    data = yaml.safe_load(SETTINGS.read_text())
    data["priors"]["coefficients"]["treaty"]["dist"]["kwargs"]["sigma"] = -1
    data["extra_field"] = 1
    del data["priors"]["coefficients"]["violence"]
    bad = tmp_path / "model.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_settings(bad)
    msg = str(info.value)
    assert f"{bad}: extra_field: Extra inputs are not permitted" in msg
    assert "priors.coefficients" in msg


# ------------------------------------------------------------------ score arithmetic by hand


def test_brier_and_log_score_by_hand():
    p, y = [0.8, 0.3, 0.5], [1, 0, 1]
    assert brier_score(p, y) == pytest.approx((0.04 + 0.09 + 0.25) / 3)
    assert log_score(p, y) == pytest.approx((math.log(0.8) + math.log(0.7) + math.log(0.5)) / 3)
    assert log_score([1.0, 0.0], [0, 1]) == -math.inf


def test_loo_base_rate_leaves_each_case_out():
    y = np.array([1, 1, 0, 0, 1])
    # case 0: the others hold 2 of 4 kept -> (2 + 1) / (4 + 2); case 2: 3 of 4 -> 4 / 6.
    np.testing.assert_allclose(loo_base_rate(y), [3 / 6, 3 / 6, 4 / 6, 4 / 6, 3 / 6])


def test_score_table_baselines():
    y = np.array([1, 0, 1, 1])
    table = score_table(y, {"fifty": np.full(4, 0.5)}).iloc[0]
    assert table["brier"] == pytest.approx(0.25)
    assert table["log_score"] == pytest.approx(math.log(0.5))
    assert table["n_cases"] == 4


def test_calibration_table_by_hand():
    p = np.array([0.05, 0.15, 0.55, 0.58, 0.95, 1.0])
    y = np.array([0, 1, 1, 0, 1, 1])
    table = calibration_table(p, y, bins=5)
    assert list(table["count"]) == [2, 0, 2, 0, 2]
    assert table.loc[0, "mean_predicted"] == pytest.approx(0.10)
    assert table.loc[0, "observed_frequency"] == pytest.approx(0.5)
    assert table.loc[2, "mean_predicted"] == pytest.approx(0.565)
    assert table.loc[4, "observed_frequency"] == pytest.approx(1.0)
    assert np.isnan(table.loc[1, "mean_predicted"])


# ------------------------------------------------------------------ one fit on simulated cases


@pytest.fixture(scope="session")
def sim_backtest(sim_fit):
    return backtest(sim_fit)


@pytest.mark.slow
def test_fit_has_named_dims_log_likelihood_and_passes_the_gate(sim_fit):
    post = sim_fit.tree["posterior"]
    assert list(post["beta"].coords["feature"].values) == list(FEATURES)
    assert set(post["alpha_group"].coords["group"].values) == set(TRUE_ALPHA)
    ll = sim_fit.tree["log_likelihood"][OUTCOME]
    assert ll.dims == ("chain", "draw", "case") and ll.sizes["case"] == N_SIM
    d = sim_fit.diagnostics
    assert d["passed"], d["failures"]
    assert d["r_hat_max"] <= 1.01 and d["divergences"] == 0


@pytest.mark.slow
def test_parameter_recovery(sim_fit):
    """The true log odds ratios lie in the 90% intervals.

    Tolerance: at most one of the seven may fall outside its 90% interval (with
    seven calibrated intervals, about 0.7 miss by chance), and none outside the
    99% interval. With the fixed seed all seven are inside the 90% intervals.
    """
    beta = sim_fit.draws()["beta"]
    lo90, hi90 = np.quantile(beta, [0.05, 0.95], axis=0)
    lo99, hi99 = np.quantile(beta, [0.005, 0.995], axis=0)
    outside90 = [f for f, t, lo, hi in zip(FEATURES, TRUE_BETA, lo90, hi90, strict=True)
                 if not lo <= t <= hi]
    assert len(outside90) <= 1, outside90
    assert np.all((lo99 <= TRUE_BETA) & (TRUE_BETA <= hi99))
    # The table on the odds scale, against the simulation's true odds ratios (not the
    # table's own formula): intervals that cover them, and each effect's direction.
    table = sim_fit.coefficients().set_index("feature").loc[list(FEATURES)]
    true_or = np.exp(TRUE_BETA)
    covered = (table["or_lower"] <= true_or) & (true_or <= table["or_upper"])
    assert covered.sum() >= len(FEATURES) - 1, table
    assert list(table["odds_ratio"] > 1) == list(TRUE_BETA > 0), table


@pytest.mark.slow
def test_backtest_psis_matches_arviz_and_beats_the_baselines(sim_fit, sim_backtest):
    from arviz_stats import loo

    bt = sim_backtest
    pw = bt.pointwise
    assert len(pw) == N_SIM and set(pw["method"]) == {"psis"}
    ref = loo(sim_fit.tree, pointwise=True, var_name=OUTCOME)
    own = np.where(pw["y"] == 1, np.log(pw["p_loo"]), np.log1p(-pw["p_loo"]))
    np.testing.assert_allclose(own, ref.elpd_i.values, atol=1e-9)  # p_loo is PSIS-LOO's
    scores = bt.scores.set_index("forecaster")
    assert set(scores["n_cases"]) == {N_SIM}
    assert scores.loc["fifty", "brier"] == pytest.approx(0.25)
    assert scores.loc["model", "brier"] < scores.loc["base_rate", "brier"] < 0.25 + 1e-9
    assert scores.loc["model", "log_score"] > scores.loc["base_rate", "log_score"]
    assert bt.calibration["count"].sum() == N_SIM
    assert bt.summary()["n_cases"] == N_SIM


@pytest.mark.slow
def test_high_pareto_k_cases_are_refitted_exactly(sim_fit, sim_backtest):
    """Exactly the cases whose k exceeds ``khat_max`` are refitted.

    Identical cases (same patron, features and outcome; the simulation has some) have
    identical log-likelihood columns and so bitwise-identical k, so a threshold equal
    to one of the k (say the third largest) may be exceeded by none. The threshold
    lies midway between two distinct k instead: below the fewest top cases, at least
    two, that it does not split.
    """
    pw = sim_backtest.pointwise
    k = pw["pareto_k"].to_numpy()
    assert np.all(np.isfinite(k))
    distinct = np.unique(k)[::-1]
    j = next(j for j, v in enumerate(distinct) if np.sum(k >= v) >= 2)
    assert j + 1 < distinct.size
    threshold = float((distinct[j] + distinct[j + 1]) / 2)
    expected = list(pw["case_id"][k > threshold])
    assert len(expected) >= 2
    # A k equal to khat_max does not exceed it: no refit, and PSIS is recomputed the same.
    at_max = backtest(sim_fit, khat_max=float(k.max()))
    assert set(at_max.pointwise["method"]) == {"psis"} and at_max.refits == []
    np.testing.assert_array_equal(at_max.pointwise["pareto_k"].to_numpy(), k)
    with warnings.catch_warnings():
        # 2 x 400 draws per refit: R-hat may touch 1.01; each refit's gate is recorded.
        warnings.simplefilter("ignore", ConvergenceWarning)
        bt = backtest(sim_fit, khat_max=threshold)
    np.testing.assert_array_equal(bt.pointwise["pareto_k"].to_numpy(), k)
    refitted = bt.pointwise[bt.pointwise["method"] == "refit"]
    assert list(refitted["case_id"]) == expected
    assert [r["case_id"] for r in bt.refits] == expected
    assert all({"r_hat_max", "divergences", "passed"} <= set(r) for r in bt.refits)
    assert bt.summary()["n_exact_refits"] == len(expected)
    psis = sim_backtest.pointwise.set_index("case_id").loc[refitted["case_id"], "p_loo"]
    # An exact refit and PSIS agree closely where k is modest (MC error of 800 draws).
    np.testing.assert_allclose(refitted["p_loo"].to_numpy(), psis.to_numpy(), atol=0.05)


@pytest.mark.slow
def test_predict_known_and_new_patron(sim_fit):
    new = load_cases(FIXTURES / "predict.csv", for_prediction=True)
    table = predict(sim_fit, new)
    assert list(table["known_group"]) == [True, False]
    assert ((table["lower"] < table["p_retained"]) & (table["p_retained"] < table["upper"])).all()
    # The new patron's intercept is drawn from the population: its interval is wider.
    known = sim_fit.intercepts().set_index("group")
    assert known.loc["USSR", "n_cases"] > 0
    # Same seed, same answer.
    pd.testing.assert_frame_equal(table, predict(sim_fit, new))
    bad = new.assign(violence=[0, 2])
    with pytest.raises(ValueError, match="0 or 1"):
        predict(sim_fit, bad)


@pytest.mark.slow
def test_era_groups_from_start_year():
    from forecast.reference import Hierarchy, group_labels

    h = Hierarchy(group="era", era_breaks=[1992], rationale="Cold War or after")
    cases = pd.DataFrame({"start_year": [1945, 1991, 1992, 2025]})
    assert group_labels(cases, h) == ["1945-1991", "1945-1991", "1992-2025", "1992-2025"]
    with pytest.raises(ValueError, match="era_breaks"):
        Hierarchy(group="era", rationale="no breaks")


@pytest.mark.slow
def test_a_failed_gate_is_warned_not_printed(sim_fit, capsys):
    """Library code warns and the command line decides what to print: the old
    report_gate also wrote "WARNING: ..." to stderr itself."""
    from forecast.reference import ReferenceGate, diagnose, report_gate

    strict = ReferenceGate(r_hat_max=1.0000001, divergences_max=0, ess_bulk_min=1e7)
    d = diagnose(sim_fit.tree, strict)
    assert not d["passed"] and any("bulk ESS" in f for f in d["failures"])
    with pytest.warns(ConvergenceWarning, match="FAILED the convergence gate"):
        report_gate(d, "this fit")
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------ the stored fit (no new MCMC)


def _sim_inputs(tmp_path, sim_settings):
    """The simulated cases and the test's settings as files, as an analyst would have them."""
    cases_csv = tmp_path / "sim.csv"
    simulate(N_SIM, SIM_SEED).to_csv(cases_csv, index=False)
    settings_yaml = tmp_path / "model.yaml"
    settings_yaml.write_text(yaml.safe_dump(sim_settings.model_dump(mode="json")))
    return cases_csv, settings_yaml


def test_a_stored_fit_round_trips_and_a_stale_one_is_refused(tmp_path, sim_fit, sim_settings,
                                                            sim_backtest):
    from forecast.reference import outside_view
    from forecast.reference_store import (
        load_reference_fit,
        reference_fit_path,
        reference_key,
        save_reference_fit,
    )
    from forecast.store import StaleFitError

    cases = sim_fit.cases
    key = reference_key(cases, sim_settings)
    path = save_reference_fit(sim_fit, reference_fit_path(tmp_path, key), key=key)
    assert path.parent == tmp_path / "reference_class" and not list(path.parent.glob(".*tmp"))
    loaded = load_reference_fit(path, cases, sim_settings, expected_key=key)
    for name, values in sim_fit.draws().items():
        np.testing.assert_array_equal(loaded.draws()[name], values)
    assert loaded.diagnostics == sim_fit.diagnostics and loaded.groups == sim_fit.groups
    # the backtest of the stored fit is the backtest of the fit
    pd.testing.assert_frame_equal(backtest(loaded).pointwise, sim_backtest.pointwise)
    view = outside_view(loaded)
    pd.testing.assert_frame_equal(view.coefficients, sim_fit.coefficients())
    assert view.n_cases == N_SIM and view.base_rate == pytest.approx(cases[OUTCOME].mean())

    # any changed number in the settings, or other cases, is another key: refused
    other = sim_settings.with_sampler(seed=SIM_SEED + 1)
    assert reference_key(cases, other) != key
    with pytest.raises(StaleFitError, match="other inputs"):
        load_reference_fit(path, cases, other, expected_key=reference_key(cases, other))
    flipped = cases.copy()
    flipped.attrs = {"sha256": "0" * 64}
    assert reference_key(flipped, sim_settings) != key
    # a truncated file is unreadable, never half-trusted
    broken = tmp_path / "broken.nc"
    broken.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(StaleFitError, match="cannot be read"):
        load_reference_fit(broken, cases, sim_settings, expected_key=key)


def test_cached_reference_fit_fits_once_and_rebuilds_a_corrupted_cache(
        tmp_path, monkeypatch, sim_fit, sim_settings):
    import forecast.reference_store as rs

    cases_csv, settings_yaml = _sim_inputs(tmp_path, sim_settings)
    calls = []

    def fake_fit(cases, settings):  # the simulated fit stands in for the sampler
        calls.append(settings)
        return type(sim_fit)(sim_fit.tree, sim_fit.diagnostics, cases, settings,
                             sim_fit.groups)

    monkeypatch.setattr(rs, "fit_reference", fake_fit)
    out = tmp_path / "out"
    kw = {"cases_csv": cases_csv, "settings_path": settings_yaml}
    fit, how = rs.cached_reference_fit(out, **kw)
    assert how == "fit" and len(calls) == 1
    (stored,) = (out / "reference_class").glob("fit-*.nc")
    fit2, how2 = rs.cached_reference_fit(out, **kw)
    assert how2 == "cached" and len(calls) == 1
    np.testing.assert_array_equal(fit2.draws()["beta"], fit.draws()["beta"])
    stored.write_bytes(b"not a netCDF file")
    _, how3 = rs.cached_reference_fit(out, **kw)
    assert how3 == "fit" and len(calls) == 2
    assert rs.load_reference_fit(stored, fit.cases, fit.settings,
                                 expected_key=rs.reference_key(fit.cases, fit.settings))
    _, how4 = rs.cached_reference_fit(out, refit=True, **kw)
    assert how4 == "fit" and len(calls) == 3


def test_a_stored_fit_that_failed_its_gate_is_reported_again(tmp_path, sim_fit, sim_settings):
    from forecast.reference import ReferenceFit
    from forecast.reference_store import load_reference_fit, reference_key, save_reference_fit

    failed = {**sim_fit.diagnostics, "passed": False, "failures": ["R-hat 1.05 > 1.01"]}
    bad = ReferenceFit(sim_fit.tree, failed, sim_fit.cases, sim_settings, sim_fit.groups)
    key = reference_key(sim_fit.cases, sim_settings)
    path = save_reference_fit(bad, tmp_path / "fit.nc", key=key)
    with pytest.warns(ConvergenceWarning, match="R-hat 1.05"):
        loaded = load_reference_fit(path, sim_fit.cases, sim_settings, expected_key=key)
    assert not loaded.converged


# ------------------------------------------------------------------ the CLI on the shipped cases


@pytest.mark.slow
def test_cli_predict_on_the_shipped_cases(shipped_reference_out, tmp_path, capsys):
    """Today's columns still work; a blank time-varying feature is integrated over; an
    origin_year conditions on the years kept; bad input is refused before any fitting."""
    import json

    from forecast.cli import main

    out = ["--out", str(shipped_reference_out)]
    new = tmp_path / "new.csv"
    rows = [dict(zip(PREDICT_COLS, r, strict=True)) for r in (
        ("stays", 1, 0, 0, 1, 1, 1, 1),  # attacked, backs proxies, treaty, inducements
        ("asked_to_go", 1, 1, 1, 0, 0, 0, 0),  # new host demands exit, red line refused
        ("not_yet_known", 1, "", 0, 0, 0, 1, 0),  # a demand not yet known either way
    )]
    frame = pd.DataFrame(rows)
    frame["start_year"] = 2020
    frame["origin_year"] = [2020, 2020, 2021]
    frame.to_csv(new, index=False)
    assert main(["reference", "predict", str(new), *out, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["case_id"] for r in result] == ["stays", "asked_to_go", "not_yet_known"]
    for r in result:
        assert 0 < r["lower"] < r["p_kept"] < r["upper"] < 1
    # what the shipped cases say: a demand to leave and a refused red line lose bases
    assert result[0]["p_kept"] > result[1]["p_kept"] + 0.3
    assert result[2]["integrated"] == "host_demand" and result[2]["origin"] == 1
    assert main(["reference", "predict", str(new), *out, "--curve", "--json"]) == 0
    curve = pd.DataFrame(json.loads(capsys.readouterr().out))
    for _, c in curve.groupby("case_id"):
        assert c["p_kept"].iloc[0] == 1.0 and (np.diff(c["p_kept"]) <= 1e-12).all()
    # a blank start feature, or an origin past the window, names the file, line and field
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,regime_change,treaty,start_year,origin_year\nx,,1,2000,2001\n"
                   "y,1,1,2000,2007\n")
    assert main(["reference", "predict", str(bad), *out]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: line 2 (case_id 'x'): regime_change: must be 0 or 1" in err
    assert f"{bad}: line 3 (case_id 'y'): origin_year: must lie 0 to 4 years" in err


def test_cli_backtest_as_of_origin(tmp_path, capsys):
    """``forecast reference backtest --train DIR``: scores at origins 0, 1 and 2 for the
    hazard model, the base rate and the old (hindsight) model, on a small class."""
    import json

    from synthetic_reference import write_synthetic

    from forecast.cli import main

    train = write_synthetic(tmp_path / "class", n=40, seed=2)
    out = ["--out", str(tmp_path / "out"), "--train", str(train)]
    assert main(["reference", "backtest", *out, "--json"]) == 0
    bt = json.loads(capsys.readouterr().out)
    assert set(bt["origins"]) == {"0", "1", "2"}
    for o in bt["origins"].values():
        assert {"brier_hazard", "brier_base_rate", "brier_old_model"} <= set(o)
        assert 0 < o["brier_hazard"] < 0.5
    assert bt["refits_converged"] in (True, False)


def test_patron_table_and_case_summary_by_hand():
    from forecast.reference import case_summary, patron_table

    cases = load_cases(FIXTURES / "good.csv")
    table = patron_table(cases)
    assert table["n_cases"].sum() == len(cases)
    assert list(table["n_cases"]) == sorted(table["n_cases"], reverse=True)
    for r in table.itertuples():
        mine = cases[cases["patron"] == r.patron]
        assert r.retained_5y == pytest.approx(mine["retained_5y"].mean())
        assert r.treaty == pytest.approx(mine["treaty"].mean())
    text = case_summary(cases)
    assert text.startswith(f"{len(cases)} cases, {cases['patron'].nunique()} patrons, ")
    assert f"{cases['retained_5y'].mean():.0%}" in text
