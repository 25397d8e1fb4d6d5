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
from pathlib import Path

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
