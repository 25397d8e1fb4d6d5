"""forecast.gate: the one convergence check of the question's fit and the outside views'."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from forecast.gate import failures, variable_diagnostics

QUESTION_GATE = SimpleNamespace(r_hat_max=1.01, ess_bulk_min=1000, ess_tail_min=400,
                                divergences_max=0, mcse_max=0.005)
REFERENCE_GATE = SimpleNamespace(r_hat_max=1.01, ess_bulk_min=400, divergences_max=0)


def test_chains_that_disagree_fail_and_chains_that_agree_pass():
    rng = np.random.default_rng(0)
    good = rng.normal(size=(4, 1000, 3))
    bad = good.copy()
    bad[3] += 1.0  # one chain stuck elsewhere
    ok, off = variable_diagnostics(good, mcse=True), variable_diagnostics(bad)
    assert ok["r_hat_max"] < 1.01 and ok["ess_bulk_min"] > 3000  # iid: ESS near 4,000
    assert 0.01 < ok["mcse_max"] < 0.02  # about 1 / sqrt(4000)
    assert len(ok["ess_mean"]) == 3
    assert off["r_hat_max"] > 1.1
    # 4,000 iid draws meet every limit but the MCSE one (0.005 needs some 40,000)
    missed = failures({**ok, "divergences": 0}, QUESTION_GATE)
    assert len(missed) == 1 and missed[0].startswith("MCSE 0.01")
    assert failures({**off, "divergences": 0}, REFERENCE_GATE)[0].startswith("R-hat ")


def test_each_gate_checks_only_the_limits_it_sets():
    """The reference gate sets no tail-ESS or MCSE limit, so those never fail it."""
    result = {"r_hat_max": 1.0, "ess_bulk_min": 5000.0, "ess_tail_min": 10.0,
              "divergences": 0, "mcse_max": 0.5}
    assert failures(result, REFERENCE_GATE) == []
    assert failures(result, QUESTION_GATE) == ["tail ESS 10 < 400", "MCSE 0.5000 > 0.005"]
    assert failures({**result, "divergences": 3}, REFERENCE_GATE) == [
        "3 divergent transitions > 0"]


def test_a_diagnostic_that_could_not_be_computed_fails():
    """NaN R-hat (e.g. every element of a variable constant) is no pass. The question's old
    gate tested ``r_hat > max``, which is False for NaN, so it passed such a fit."""
    result = {"r_hat_max": float("nan"), "ess_bulk_min": 5000.0, "ess_tail_min": 5000.0,
              "divergences": 0, "mcse_max": 0.001}
    assert failures(result, QUESTION_GATE) == ["R-hat nan > 1.01"]
