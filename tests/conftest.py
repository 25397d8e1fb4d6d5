"""Shared, seeded, session-scoped fixtures.

Real MCMC is expensive (a compile costs ~10-30 s), so the suite makes exactly
two small fits per session, in a copy of the default question whose sampler
settings are reduced: one with no news and one with a fixed set of news items.
Everything else reuses their draws. The shipped reference class is fitted once
(``shipped_reference_out``) for the end-to-end CLI tests.
"""

from __future__ import annotations

import datetime as dt
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUESTION = ROOT / "priors" / "russia_syria_bases"
TODAY = dt.date(2026, 11, 25)
SEED = 12345

#: Smaller than model.yaml's settings, large enough for the stated tolerances.
SMALL_SAMPLER = {"chains": 2, "draws": 1000, "tune": 600, "target_accept": 0.9, "seed": SEED}

#: News used by the "with news" fit: states and one outcome, a cluster, an interval.
NEWS = [
    {"id": "n1", "date": "2025-01-29", "headline": "Talks freeze over extradition",
     "source": "Reuters", "reliability": "B2", "bears_on": "assad_extradition", "lr": 0.4},
    {"id": "n2", "date": "2025-05-20", "headline": "Perimeter attack kills two",
     "source": "wire", "reliability": "B2", "bears_on": "escalation",
     "lr": {"lower": 2.0, "upper": 6.0}},
    {"id": "n3", "date": "2025-05-21", "headline": "Repeat of the wire story",
     "source": "outlet", "reliability": "C3", "bears_on": "escalation", "lr": 3.0,
     "cluster": "wire-attack"},
    {"id": "n4", "date": "2025-05-21", "headline": "Same wire story again",
     "source": "outlet 2", "reliability": "B3", "bears_on": "escalation", "lr": 2.5,
     "cluster": "wire-attack"},
    {"id": "n5", "date": "2025-06-10", "headline": "Russia restricts access at Khmeimim",
     "source": "local media", "reliability": "C2", "bears_on": "khmeimim", "lr": 1.5},
]


class HalfWriter:
    """A file object that writes half of the first thing it is given, then calls ``die``.

    The fault tests wrap the atomic writer's file in it (``die`` raises, or hangs a child
    process until it is killed) to show a write cut off part-way leaves the old file intact.
    """

    def __init__(self, fh, die):
        self.fh, self.die = fh, die

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()

    def write(self, data):
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        self.die()

    def __getattr__(self, name):
        return getattr(self.fh, name)


def run_and_kill_in_write(args: list[str], marker: Path, *, before_kill=None):
    """Start a child process (``args``), wait until it writes ``marker`` (it announces it is
    inside a write), call ``before_kill`` if given, then SIGKILL it; return the killed child.

    The fault tests kill writers this way, with no race window: the kill lands while the
    child is inside the write it announced.
    """
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, f"the child ended early: {proc.communicate()}"
            assert time.monotonic() < deadline, "the child never reached the write"
            time.sleep(0.02)
        if before_kill is not None:
            before_kill()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return proc


def make_question(tmp: Path, *, sampler: dict | None = None, news: list | None = None) -> Path:
    """Copy the default question into ``tmp`` with other sampler settings and ledger."""
    target = tmp / "question"
    # never the real record of issued forecasts: a scratch question starts without one
    shutil.copytree(DEFAULT_QUESTION, target,
                    ignore=shutil.ignore_patterns("news.yaml*", "record.jsonl*"))
    model = yaml.safe_load((target / "model.yaml").read_text())
    model["sampler"] = sampler or SMALL_SAMPLER
    model["gate"]["ess_bulk_min"] = 400  # two short chains
    model["gate"]["mcse_max"] = 0.01
    (target / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
    if news is not None:
        ledger = {"schema_version": 1, "question": "russia_syria_bases", "items": news}
        (target / "news.yaml").write_text(yaml.safe_dump(ledger, sort_keys=False))
    return target


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("session")


@pytest.fixture(scope="session")
def question(session_dir) -> Path:
    """A question directory with small sampler settings and the NEWS ledger."""
    return make_question(session_dir, news=NEWS)


@pytest.fixture(scope="session")
def config(question):
    from forecast.config import load_question

    return load_question(question)


@pytest.fixture(scope="session")
def items(config):
    from forecast.ledger import load_ledger

    return load_ledger(config, today=TODAY)


@pytest.fixture(scope="session")
def fits_out(session_dir) -> Path:
    return session_dir / "out"


@pytest.fixture(scope="session")
def fit_no_news(config, fits_out):
    """A real MCMC fit with no news (stored under ``fits_out``)."""
    from forecast.engine import compute

    return compute(config, [], out=fits_out, as_of=TODAY, allow_reweight=False, engine="nuts")


@pytest.fixture(scope="session")
def fit_news(config, items, fits_out):
    """A real MCMC fit with the NEWS ledger (stored under ``fits_out``)."""
    from forecast.engine import compute

    return compute(config, items, out=fits_out, as_of=TODAY, allow_reweight=False, engine="nuts")


@pytest.fixture(scope="session")
def shipped_reference_out(session_dir) -> Path:
    """An output folder holding the real fit of the shipped reference class (one per session).

    The CLI tests of ``forecast reference`` and of the chart export reuse it from the
    cache, as an analyst's second command would.
    """
    from forecast.reference_store import cached_hazard_fit, cached_reference_fit

    out = session_dir / "reference_out"
    fit, how = cached_reference_fit(out)
    assert how == "fit" and fit.converged, fit.diagnostics
    hazard, how = cached_hazard_fit(out)
    assert how == "fit" and hazard.converged, hazard.diagnostics
    return out


@pytest.fixture
def fresh_question(tmp_path) -> Path:
    """A writable copy of the default question with an empty ledger."""
    return make_question(tmp_path, news=[])


# ----------------------------------------------------------- helpers the test modules share


def store_fit_from_prior(config, items, out: Path, *, seed: int = 7, pool: int = 40_000) -> Path:
    """Store a fit whose draws come from the prior, resampled to the news (no MCMC).

    Sampling-importance-resampling: independent prior draws (every parameter of
    the PyMC model, so the tree looks like a sampled one) are resampled with
    weights proportional to the exact likelihood of the news. Stored under the
    key :func:`forecast.engine.compute` expects, so it is found as a cached fit.
    """
    import xarray as xr

    from forecast.elicit import resolved_priors
    from forecast.exact import Params, enumerate_states
    from forecast.ledger import evidence_from
    from forecast.sampling import diagnose
    from forecast.store import fit_key, fit_path, save_fit

    s = config.model.sampler
    rng = np.random.default_rng(seed)
    pr = resolved_priors(config)
    k, b = len(config.variables), len(config.bases)
    draws = {
        "p_state": pr.p_state.draw(rng, (pool, k)),
        "p_base": pr.p_base.draw(rng, (pool, b)),
        "effect_mu": pr.effect_mu.draw(rng, (pool, k)),
        "effect_sd": pr.effect_sd.draw(rng, (pool,)),
        "effect_z": rng.normal(size=(pool, b, k)),
    }
    draws["beta"] = draws["effect_mu"][:, None, :] + draws["effect_sd"][:, None, None] * draws[
        "effect_z"]
    evidence = evidence_from(config, items)
    params = Params(draws["p_state"], draws["p_base"], draws["beta"],
                    config.model.outcome_dependence.value)
    values = enumerate_states(params, evidence.state_loglr, evidence.outcome_loglr)
    w = np.exp(values.loglik - values.loglik.max())
    n = s.chains * s.draws
    idx = rng.choice(pool, size=n, p=w / w.sum())
    draws.update(p_keep=values.p_keep, p_all=values.p_all, p_any=values.p_any,
                 p_state_post=values.p_state)
    dims = {"p_state": ["evidence"], "p_base": ["base"], "effect_mu": ["evidence"],
            "effect_sd": [], "effect_z": ["base", "evidence"], "beta": ["base", "evidence"],
            "p_keep": ["base"], "p_all": [], "p_any": [], "p_state_post": ["evidence"]}
    post = xr.Dataset(
        {name: (["chain", "draw", *d], draws[name][idx].reshape(s.chains, s.draws, *draws[
            name].shape[1:])) for name, d in dims.items()},
        coords={"chain": np.arange(s.chains), "draw": np.arange(s.draws),
                "base": config.bases, "evidence": config.variables},
    )
    stats = xr.Dataset({"diverging": (["chain", "draw"], np.zeros((s.chains, s.draws), bool))})
    tree = xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})
    key = fit_key(config, evidence, s.seed)
    return save_fit(tree, fit_path(out, config, key), config=config, evidence=evidence, key=key,
                    seed=s.seed, diagnostics=diagnose(tree, config))


NAMED = {"Russia extradites Assad": {"assad_extradition": 1},
         "Escalation and separatist backing": {"escalation": 1, "separatist_backing": 1}}


def make_item(i, *, lr=2.0, bears_on="basing_agreement", reliability="A1", thread=None,
          cluster=None, date="2025-06-01"):
    """A news item ``i{i}`` bearing on ``bears_on`` with ratio ``lr`` (parsed, as entered)."""
    from forecast.ledger import parse_item

    raw = {"id": f"i{i}", "date": date, "headline": f"report {i}", "source": "wire",
           "reliability": reliability, "bears_on": bears_on, "lr": lr}
    if thread:
        raw["thread"] = thread
    if cluster:
        raw["cluster"] = cluster
    return parse_item(raw)


#: The shipped codes, but A1 fully credible (h = 1), so an A1 item enters at its stated ratio.
FULL_A = {"source": {"A": 1.0, "B": 0.85, "C": 0.7, "D": 0.5, "E": 0.3, "F": 0.0}}


def question_with_threads(tmp_path, *, rho=0.5, default=0.5, reliability=FULL_A):
    """A question with the thread ``talks`` (dependence ``rho``) and the reliability codes."""
    from forecast.config import load_question

    q = make_question(tmp_path, news=[])
    threads = {"schema_version": 1,
               "default_dependence": {"value": default, "rationale": "test", "source": "test"},
               "threads": [{"id": "talks", "label": "Talks", "description": "one negotiation",
                            "dependence": {"value": rho, "rationale": "test", "source": "test"}}]}
    (q / "threads.yaml").write_text(yaml.safe_dump(threads, sort_keys=False))
    if reliability is not None:
        rel = yaml.safe_load((q / "reliability.yaml").read_text())
        rel.update(reliability)
        (q / "reliability.yaml").write_text(yaml.safe_dump(rel, sort_keys=False))
    return load_question(q)


def quick_settings(settings, draws=400):
    """``settings`` sampling 2 chains of ``draws`` (tune 400): a short fit for tests."""
    return settings.model_copy(update={"sampler": settings.sampler.model_copy(
        update={"draws": draws, "tune": 400, "chains": 2})})


def short_hazard_fit(directory, draws=400, known_at=None):
    """A short fit of the class in ``directory`` (as known at ``known_at``, if given)."""
    from forecast import hazard, reference_data

    cases, events = reference_data.load_reference(directory)
    if known_at is not None:
        cases, events = reference_data.class_as_of(cases, events, known_at)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short chain may miss the ESS gate; not the point
        return hazard.fit_hazard(cases, quick_settings(hazard.load_settings(), draws))


SETTINGS = ROOT / "priors" / "reference_class" / "model.yaml"
#: The simulation's true values (log odds ratios, patron intercepts).
TRUE_BETA = np.array([-0.5, -1.5, -0.8, 0.4, 0.6, 1.2, 0.7])
TRUE_ALPHA = {"USSR": 0.2, "Russia": 0.4, "US": 0.8, "UK": -0.3, "France": 0.1}
N_SIM = 300
SIM_SEED = 20261125


def simulate(n: int, seed: int) -> pd.DataFrame:
    """Cases drawn from the model with TRUE_BETA and TRUE_ALPHA."""
    from forecast.reference import COLUMNS, FEATURES, OUTCOME

    rng = np.random.default_rng(seed)
    patrons = np.array(list(TRUE_ALPHA))[rng.integers(0, len(TRUE_ALPHA), n)]
    x = rng.binomial(1, 0.4, size=(n, len(FEATURES)))
    eta = np.array([TRUE_ALPHA[p] for p in patrons]) + x @ TRUE_BETA
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    df = pd.DataFrame(x, columns=list(FEATURES))
    df.insert(0, "case_id", [f"sim_{i:03d}" for i in range(n)])
    df.insert(1, "patron", patrons)
    df.insert(2, "host", "host")
    df.insert(3, "bases", "base")
    df.insert(4, "start_year", rng.integers(1945, 2026, n))
    df[OUTCOME] = y
    df["notes"] = "simulated from the model"
    df["source"] = "simulated"
    return df[list(COLUMNS)]


@pytest.fixture(scope="session")
def sim_settings():
    from forecast.reference import load_settings

    # Fewer draws than model.yaml; the gate's ESS floor is lowered to match (2 x 400 draws).
    s = load_settings(SETTINGS).with_sampler(chains=2, draws=400, tune=400, seed=SIM_SEED)
    return s.model_copy(update={"gate": s.gate.model_copy(update={"ess_bulk_min": 100})})


@pytest.fixture(scope="session")
def sim_fit(tmp_path_factory, sim_settings):
    from forecast.reference import fit_reference, load_cases

    path = tmp_path_factory.mktemp("reference") / "sim.csv"
    simulate(N_SIM, SIM_SEED).to_csv(path, index=False)
    cases = load_cases(path)  # through the validator, as the real file goes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return fit_reference(cases, sim_settings)
