"""The link from the reference class to a question's priors (``prior_source``).

A synthetic hazard fit with known draws stands in for MCMC: the derivation is checked by
properties (history as of the question's creation, a horizon read off the survival curve,
the sign of each linked effect), the pooling against a numerical log-linear pool, the
staleness checks against edited files, and the importance path against the session's
MCMC fit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import numpy as np
import pytest
from scipy import stats
from synthetic_reference import synthetic_hazard_fit

from conftest import ROOT, TODAY, make_question
from forecast.config import CASE_FILE, LINK_FILE, ConfigError, load_question
from forecast.elicit import log_linear_pool, prior_origins, resolved_priors
from forecast.prior import Dist


@pytest.fixture(scope="module")
def synthetic_fit(tmp_path_factory):
    """Violence and a red line raise the yearly hazard of loss; separatist backing lowers it."""
    return synthetic_hazard_fit(tmp_path_factory.mktemp("synthetic_class"))


def _question(tmp_path, *, days: int | None = None):
    """A copy of the default question; ``days`` from creation to horizon if given."""
    q = make_question(tmp_path, news=[])
    if days is not None:
        text = (q / "question.yaml").read_text()
        created = dt.date.fromisoformat(re.search(r"created: (\S+)", text).group(1))
        horizon = created + dt.timedelta(days=days)
        text = re.sub(r"horizon: \S+", f"horizon: {horizon.isoformat()}", text)
        (q / "question.yaml").write_text(text)
    (q / LINK_FILE).unlink(missing_ok=True)
    return q


def test_each_linked_effect_has_the_sign_of_history(tmp_path, synthetic_fit):
    """Violence raises the hazard of loss (beta +0.7), so escalation must lower the odds of
    keeping; a red line refused raises it, so extradition (its negation) raises them;
    separatist backing lowers the hazard, so it raises them. The Beta matches the base
    draws' first two moments."""
    from forecast.reference_priors import derive, linked_survival

    config = load_question(_question(tmp_path))
    linked = derive(config, synthetic_fit, today=TODAY)
    assert linked.effects["escalation"].mean < -0.1
    assert linked.effects["assad_extradition"].mean > 0.1
    assert linked.effects["separatist_backing"].mean > 0.1
    base = linked_survival(config, synthetic_fit)["base"][:, 0]
    a, b = linked.baseline.dist.kwargs["alpha"], linked.baseline.dist.kwargs["beta"]
    assert stats.beta(a, b).mean() == pytest.approx(base.mean(), rel=1e-9)
    assert stats.beta(a, b).var() == pytest.approx(base.var(ddof=1), rel=1e-9)


def test_the_horizon_is_read_off_the_curve_not_converted(tmp_path, synthetic_fit):
    """A horizon of 2.5 years gives P(kept) at 2.5 years from the hazard model, which lies
    between its values at 2 and 3 years. The old rule, P_5 ** (h / 5), spread a five-year
    rate evenly; with this front-loaded baseline it gave about 4 points more."""
    from forecast.reference_priors import derive, linked_survival

    config = load_question(_question(tmp_path, days=913))  # 2.4997 years
    linked = derive(config, synthetic_fit, today=TODAY)
    curve = linked_survival(config, synthetic_fit, horizons=[2.0, 2.4997, 3.0, 5.0])["base"]
    s = curve.mean(axis=0)
    assert s[2] < linked.baseline.mean < s[0]
    assert linked.baseline.mean == pytest.approx(s[1], abs=1e-3)
    old_rule = np.mean(curve[:, 3] ** (2.4997 / 5))
    assert old_rule - linked.baseline.mean > 0.02


def test_nothing_dated_after_the_creation_enters_the_linked_priors(tmp_path, synthetic_fit):
    """The question's priors state what was known at its creation; the dated events since
    (the attack, the refused extradition) are in the ledger. Dropping them from the case
    leaves the derived priors unchanged."""
    from forecast.reference_priors import derive

    q = _question(tmp_path)
    before = derive(load_question(q), synthetic_fit, today=TODAY)
    text = (q / CASE_FILE).read_text()
    head, rest = text.split("events:\n", 1)
    (q / CASE_FILE).write_text(head + "events: []\n" + rest[rest.index("checked_through"):])
    after = derive(load_question(q), synthetic_fit, today=TODAY)
    assert after.baseline == before.baseline and after.effects == before.effects
    assert after.reference.case_sha256 != before.reference.case_sha256


@pytest.mark.parametrize("w", [0.2, 0.5, 0.8])
def test_pooling_is_the_normalised_log_linear_pool(w):
    grid = np.linspace(1e-4, 1 - 1e-4, 20001)
    e, r = {"alpha": 6.5, "beta": 5.9}, {"alpha": 4.1, "beta": 3.4}
    pooled = stats.beta.pdf(grid, e["alpha"], e["beta"]) ** (1 - w) * stats.beta.pdf(
        grid, r["alpha"], r["beta"]) ** w
    pooled /= np.trapezoid(pooled, grid)
    p = log_linear_pool(Dist("Beta", e), Dist("Beta", r), w).parameters
    assert np.allclose(pooled, stats.beta.pdf(grid, p["alpha"], p["beta"]), atol=1e-6)
    # The pooled mean is a mediant of the two: it lies between them.
    lo, hi = sorted([e["alpha"] / (e["alpha"] + e["beta"]), r["alpha"] / (r["alpha"] + r["beta"])])
    assert lo < p["alpha"] / (p["alpha"] + p["beta"]) < hi

    x = np.linspace(-8, 8, 40001)
    ne, nr = {"mu": -1.06, "sigma": 0.51}, {"mu": 0.60, "sigma": 0.49}
    dens = stats.norm.pdf(x, ne["mu"], ne["sigma"]) ** (1 - w) * stats.norm.pdf(
        x, nr["mu"], nr["sigma"]) ** w
    dens /= np.trapezoid(dens, x)
    q = log_linear_pool(Dist("Normal", ne), Dist("Normal", nr), w).parameters
    assert np.allclose(dens, stats.norm.pdf(x, q["mu"], q["sigma"]), atol=1e-6)


def _linked_question(tmp_path, synthetic_fit, source: str = "elicited"):
    from forecast.reference_priors import derive, write

    q = _question(tmp_path)
    config = load_question(q)
    write(config, derive(config, synthetic_fit, today=TODAY))
    if source != "elicited":
        text = (q / "model.yaml").read_text()
        assert "prior_source: elicited" in text
        (q / "model.yaml").write_text(text.replace("prior_source: elicited",
                                                   f"prior_source: {source}", 1))
    return q


def test_each_source_sets_the_linked_priors_and_the_input_hash(tmp_path, synthetic_fit):
    q = _linked_question(tmp_path, synthetic_fit)
    configs = {s: load_question(q, prior_source=s) for s in ("elicited", "reference_class", "both")}
    assert len({c.input_hash() for c in configs.values()}) == 3
    linked = configs["both"].linked
    pri = {s: resolved_priors(c) for s, c in configs.items()}
    w = configs["both"].model.reference_weight
    for i, _ in enumerate(configs["both"].bases):
        e, r, b = (pri[s].p_base.entry(i) for s in ("elicited", "reference_class", "both"))
        assert {k: float(v) for k, v in r.parameters.items()} == pytest.approx(
            linked.baseline.dist.kwargs)
        # the pooled Beta's parameters are the weighted sums of the two (log-linear pool)
        for k in ("alpha", "beta"):
            assert float(b.parameters[k]) == pytest.approx(
                (1 - w) * float(e.parameters[k]) + w * float(r.parameters[k]))
    variables = configs["both"].variables
    for k, var in enumerate(variables):
        mu = {s: float(pri[s].effect_mu.parameters["mu"][k]) for s in pri}
        if var in linked.effects:
            assert mu["reference_class"] == pytest.approx(linked.effects[var].dist.kwargs["mu"])
            assert min(mu["elicited"], mu["reference_class"]) < mu["both"] < max(
                mu["elicited"], mu["reference_class"])
        else:  # a variable with no reference-class feature keeps its elicited prior
            assert mu["reference_class"] == mu["elicited"] == mu["both"]
    origins = prior_origins(configs["reference_class"])
    assert origins["p_base"] == ["reference class"] * len(configs["both"].bases)
    assert [o != "elicited" for o in origins["effect_mu"]] == [v in linked.effects
                                                               for v in variables]
    # The file's own setting is honoured too.
    q2 = _linked_question(tmp_path / "b", synthetic_fit, "both")
    assert load_question(q2).prior_source == "both"


def test_a_stale_link_is_refused_when_used_and_ignored_when_not(tmp_path, synthetic_fit):
    q = _linked_question(tmp_path, synthetic_fit)
    path = q / LINK_FILE
    text = path.read_text()
    path.write_text(re.sub(r"settings_sha256: [0-9a-f]{64}", "settings_sha256: " + "a" * 64,
                           text))
    config = load_question(q)  # elicited: the stale file does not block the forecast
    assert config.linked is None and config.link_problems
    with pytest.raises(ConfigError, match=r"reference\.settings_sha256: .*stale"):
        config.with_prior_source("both")
    with pytest.raises(ConfigError, match=r"reference_priors\.yaml: reference\.settings_sha256"):
        load_question(q, prior_source="reference_class")
    # A changed horizon makes the derivation stale as well.
    path.write_text(text)
    qtext = (q / "question.yaml").read_text()
    (q / "question.yaml").write_text(qtext.replace("horizon: 2027-12-31", "horizon: 2028-12-31"))
    with pytest.raises(ConfigError, match=r"horizon_years: derived for 3\.058 years"):
        load_question(q, prior_source="both")


def test_a_link_for_unknown_variables_or_another_question_is_refused(tmp_path, synthetic_fit):
    q = _linked_question(tmp_path, synthetic_fit)
    path = q / LINK_FILE
    text = path.read_text()
    path.write_text(text.replace("  escalation:\n", "  escalashun:\n", 1))
    with pytest.raises(ConfigError, match=r"effects: \['escalashun'\] are not variables"):
        load_question(q, prior_source="both")
    path.write_text(text.replace("question: russia_syria_bases", "question: another_one"))
    with pytest.raises(ConfigError, match=r"question: made for 'another_one'"):
        load_question(q, prior_source="both")
    path.write_text(text.replace("dist: Beta", "dist: Normal", 1))
    with pytest.raises(ConfigError, match=r"reference_priors\.yaml: baseline\.dist: Normal"):
        load_question(q, prior_source="both")


def test_the_committed_link_is_current():
    """``priors/russia_syria_bases/reference_priors.yaml`` matches the reference class files.

    If this fails, the cases or the reference model changed: run
    ``forecast reference link`` and commit the new file.
    """
    config = load_question(ROOT / "priors" / "russia_syria_bases", prior_source="both")
    assert config.linked is not None
    ref = ROOT / config.linked.reference.directory
    assert config.linked.reference.cases_sha256 == hashlib.sha256(
        (ref / "cases.csv").read_bytes()).hexdigest()


def test_importance_sampling_agrees_with_mcmc(config, items, fit_news):
    """Prior draws weighted by the news likelihood reproduce the MCMC posterior."""
    from forecast.engine import importance_forecast

    imp = importance_forecast(config, items, as_of=TODAY, n=20_000, seed=3)
    assert imp.path == "importance" and imp.khat <= config.model.fast_path.khat_max
    a, b = imp.probabilities(), fit_news.probabilities()
    for name in [*config.bases, "all", "any"]:
        tol = 4 * np.hypot(a[name].mcse, b[name].mcse)
        assert abs(a[name].mean - b[name].mean) < tol, (name, a[name], b[name])


def test_compare_prior_sources_table(tmp_path, synthetic_fit):
    from forecast.analysis import compare_prior_sources, linked_prior_table
    from forecast.engine import importance_forecast
    from forecast.ledger import load_ledger

    q = _linked_question(tmp_path, synthetic_fit)
    config = load_question(q)
    items = load_ledger(config)
    table = compare_prior_sources(config, items, as_of=TODAY, n=4000, seed=1, allow_fit=False)
    assert len(table) == 3 * 2 * (len(config.bases) + 2)
    assert set(table["path"]) == {"prior", "importance"}
    post = table[(table["source"] == "elicited") & (table["stage"] == "posterior")]
    direct = importance_forecast(config, items, as_of=TODAY, n=4000, seed=1).probabilities()
    for r in post.itertuples():
        assert r.p == pytest.approx(direct[r.outcome].mean)
    assert (table["lower"] <= table["p"]).all() and (table["p"] <= table["upper"]).all()
    assert set(table.loc[table["source"] == "elicited", "linked"]) == {0}
    linked = len(config.bases) + len(config.linked.effects)
    assert set(table.loc[table["source"] != "elicited", "linked"]) == {linked}
    priors = linked_prior_table(config)
    assert len(priors) == 3 * linked
    assert priors.loc[priors["used"], "source"].unique().tolist() == ["elicited"]


def test_cli_link_writes_the_file_and_refuses_train(tmp_path, synthetic_fit, monkeypatch,
                                                     capsys):
    from forecast import reference_store
    from forecast.cli import main

    q = _question(tmp_path)
    monkeypatch.setattr(reference_store, "cached_hazard_fit",
                        lambda *a, **k: (synthetic_fit, "fit"))
    assert main(["reference", "link", str(q), "--train", "x.csv"]) == 2
    assert "--train is not allowed" in capsys.readouterr().err
    # a question not coded as a case is told what to write, before anything is fitted
    sudan = ROOT / "priors" / "russia_sudan_port"
    assert main(["reference", "link", str(sudan)]) == 2
    assert f"{sudan / 'reference_case.yaml'}: not found" in capsys.readouterr().err
    assert not (sudan / LINK_FILE).exists()
    assert not (q / LINK_FILE).exists()
    assert main(["reference", "link", str(q)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {q / LINK_FILE}" in out and "p_base[khmeimim]" in out
    assert load_question(q, prior_source="reference_class").linked is not None
    assert not list(q.glob(f".{LINK_FILE}.*"))  # no temporary file left behind
    # An unconverged reference fit writes nothing.
    (q / LINK_FILE).unlink()
    bad = type(synthetic_fit)(synthetic_fit.tree, {"passed": False, "failures": ["R-hat 1.2"]},
                              synthetic_fit.cases, synthetic_fit.data, synthetic_fit.settings)
    monkeypatch.setattr(reference_store, "cached_hazard_fit", lambda *a, **k: (bad, "fit"))
    assert main(["reference", "link", str(q)]) == 3
    assert not (q / LINK_FILE).exists()


def test_cli_run_refuses_an_unknown_or_unavailable_prior_source(tmp_path, capsys):
    from forecast.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["run", "--prior-source", "history"])
    assert exc.value.code == 2
    q = _question(tmp_path)
    assert main(["run", str(q), "--prior-source", "both", "--out", str(tmp_path / "o")]) == 2
    assert "forecast reference link" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
