"""Faults: killed writes, corrupted or stale fits, concurrent updates, reproducibility.

One real MCMC fit for the whole file (module-scoped, 2 chains x 300 draws, in a copy
of the seed question whose model.yaml is shrunk and whose gate is relaxed to match).
Processes are killed with SIGKILL in the middle of a write: the child patches
``os.fsync`` (or the write itself) to announce itself and sleep, and the parent kills
it there, the worst moment for a non-atomic writer.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import DEFAULT_QUESTION, ROOT

TODAY = dt.date(2026, 11, 25)
TINY_SAMPLER = {"chains": 2, "draws": 300, "tune": 300, "target_accept": 0.9, "seed": 777}
ITEM = {"id": "k1", "date": "2025-05-20", "headline": "Perimeter attack", "source": "wire",
        "reliability": "B2", "bears_on": "escalation", "lr": 3.0}
LEDGER = {"schema_version": 1, "question": "russia_syria_bases", "items": [
    {"id": "e1", "date": "2025-01-29", "headline": "Talks freeze", "source": "Reuters",
     "reliability": "B2", "bears_on": "assad_extradition", "lr": 0.4},
]}


def _tiny_question(target: Path, ledger: dict | None = None) -> Path:
    shutil.copytree(DEFAULT_QUESTION, target, ignore=shutil.ignore_patterns("news.yaml*"))
    model = yaml.safe_load((target / "model.yaml").read_text())
    model["sampler"] = TINY_SAMPLER
    model["gate"].update({"r_hat_max": 1.1, "ess_bulk_min": 100, "ess_tail_min": 100,
                          "mcse_max": 0.05, "divergences_max": 5})
    (target / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
    if ledger is not None:
        (target / "news.yaml").write_text(yaml.safe_dump(ledger, sort_keys=False))
    return target


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The file's one real fit: (question dir, out dir, Forecast) with no news."""
    from forecast.config import load_question
    from forecast.engine import compute

    root = tmp_path_factory.mktemp("faults")
    q = _tiny_question(root / "q")
    out = root / "out"
    fc = compute(load_question(q), [], out=out, as_of=TODAY, allow_reweight=False, engine="nuts")
    assert fc.path == "fit"
    return q, out, fc


def _workspace(tmp_path: Path, tiny, ledger: dict | None = None) -> tuple[Path, Path]:
    """A copy of the tiny question (same inputs, so its fit applies) and of its fits."""
    q_src, out_src, _ = tiny
    q = tmp_path / "q"
    shutil.copytree(q_src, q, ignore=shutil.ignore_patterns("news.yaml*"))
    if ledger is not None:
        (q / "news.yaml").write_text(yaml.safe_dump(ledger, sort_keys=False))
    out = tmp_path / "out"
    shutil.copytree(out_src, out)
    from forecast.store import OWNER_FILE

    for owner in out.glob(f"*/{OWNER_FILE}"):  # the copied results now belong to the copy
        owner.write_text(str(q.resolve()) + "\n")
    return q, out


# ------------------------------------------------------------------ killed in mid-write
CHILD_PATCH = r'''
import os, sys, time
from pathlib import Path

marker = Path(sys.argv[1])
mode = sys.argv[2]

def announce_and_hang():
    marker.write_text("in the write")
    time.sleep(120)

if mode == "fsync":
    os.fsync = lambda fd: announce_and_hang()
elif mode == "half_write":
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, fh):
            self.fh = fh
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.fh.close()
        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            announce_and_hang()
        def __getattr__(self, name):
            return getattr(self.fh, name)

    os.fdopen = lambda fd, *a, **k: HalfWriter(real_fdopen(fd, *a, **k))
'''

CHILD_APPEND = CHILD_PATCH + r'''
from forecast.config import load_question
from forecast.ledger import append_item, parse_item
import datetime as dt
config = load_question(sys.argv[3])
append_item(config, parse_item(dict(id="k1", date="2025-05-20", headline="h", source="s",
            reliability="B2", bears_on="escalation", lr=3.0)), today=dt.date(2026, 11, 25))
print("appended")
'''

CHILD_SAVE_FIT = CHILD_PATCH + r'''
import json
from forecast.config import load_question
from forecast.ledger import evidence_from
from forecast.store import fit_key, fit_path, load_fit, open_tree, save_fit
config = load_question(sys.argv[3])
source = Path(sys.argv[4])
out = Path(sys.argv[5])
stored = load_fit(source)
evidence = evidence_from(config, [])
key = fit_key(config, evidence, 4242)
save_fit(open_tree(source), fit_path(out, config, key), config=config, evidence=evidence,
         key=key, seed=4242, diagnostics=stored.diagnostics)
print("saved")
'''


def _kill_in_write(script: str, args: list[str], tmp_path: Path) -> None:
    """Run a child until it announces it is inside the write, then SIGKILL it."""
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", script, str(marker), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"child ended early: {proc.communicate()}")
            assert time.monotonic() < deadline, "child never reached the write"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert b"appended" not in proc.stdout.read()


@pytest.mark.parametrize("mode", ["fsync", "half_write"])
@pytest.mark.parametrize("existing", [True, False], ids=["ledger", "no-ledger"])
def test_a_killed_ledger_append_leaves_the_ledger_intact(mode, existing, tmp_path):
    from forecast.config import load_question
    from forecast.ledger import append_item, load_ledger, parse_item

    q = _tiny_question(tmp_path / "q", ledger=LEDGER if existing else None)
    ledger = q / "news.yaml"
    before = ledger.read_bytes() if existing else None
    _kill_in_write(CHILD_APPEND, [mode, str(q)], tmp_path)
    if existing:
        assert ledger.read_bytes() == before  # byte for byte the old ledger
    else:
        assert not ledger.exists()  # cleanly absent
    config = load_question(q)
    assert [i.id for i in load_ledger(config, today=TODAY)] == (["e1"] if existing else [])
    # The dead writer's lock is gone with it: the next append lands, and reads back.
    start = time.monotonic()
    append_item(config, parse_item(dict(ITEM)), today=TODAY)
    assert time.monotonic() - start < 10
    assert [i.id for i in load_ledger(config, today=TODAY)][-1] == "k1"


def test_a_killed_fit_save_leaves_no_fit(tiny, tmp_path):
    from forecast.config import load_question
    from forecast.engine import NeedsRefitError, compute
    from forecast.store import candidate_fits, fits_dir

    q, out = _workspace(tmp_path, tiny)
    config = load_question(q)
    before = sorted(p.name for p in fits_dir(out, config).glob("fit-*.nc"))
    _kill_in_write(CHILD_SAVE_FIT, ["fsync", str(q), str(tiny[2].fit.path), str(out)], tmp_path)
    # The dead writer's temporary file may remain, but under a name no reader looks for.
    assert all(p.name.startswith(".") for p in fits_dir(out, config).iterdir()
               if p.name not in before)
    # No new fit-*.nc: the half-saved file never got its final name.
    assert sorted(p.name for p in fits_dir(out, config).glob("fit-*.nc")) == before
    assert [f.path.name for f in candidate_fits(out, config)] == before
    # The seed-4242 fit is cleanly absent: asking for it refuses rather than using junk.
    with pytest.raises(NeedsRefitError):
        compute(config, [], out=out, as_of=TODAY, seed=4242, allow_fit=False,
                allow_reweight=False, engine="nuts")


# -------------------------------------------------------------- corrupted or stale fits
def test_a_truncated_fit_is_detected_and_not_used(tiny, tmp_path):
    from forecast.config import load_question
    from forecast.engine import NeedsRefitError, compute
    from forecast.store import StaleFitError, load_fit

    q, out = _workspace(tmp_path, tiny)
    config = load_question(q)
    path = out / "q" / "fits" / tiny[2].fit.path.name
    assert compute(config, [], out=out, as_of=TODAY, allow_fit=False,
                   engine="nuts").path == "cached"
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 3)
    with pytest.raises(StaleFitError, match="cannot be read"):
        load_fit(path)
    with pytest.raises(NeedsRefitError, match="ignored a stored fit"):
        compute(config, [], out=out, as_of=TODAY, allow_fit=False, engine="nuts")


def test_a_fit_of_edited_priors_is_stale_and_not_used(tiny, tmp_path):
    from forecast.config import load_question
    from forecast.engine import NeedsRefitError, compute
    from forecast.store import StaleFitError, candidate_fits, fit_key, fit_path, load_fit

    q, out = _workspace(tmp_path, tiny)
    old = load_question(q)
    assert candidate_fits(out, old)
    text = (q / "evidence.yaml").read_text()
    (q / "evidence.yaml").write_text(text.replace("{lower: 0.20, upper: 0.60",
                                                  "{lower: 0.25, upper: 0.60", 1))
    new = load_question(q)
    assert new.input_hash() != old.input_hash()
    assert candidate_fits(out, new) == []
    with pytest.raises(NeedsRefitError, match="no stored fit"):
        compute(new, [], out=out, as_of=TODAY, allow_fit=False, engine="nuts")
    # Even planted under the new key's name, the old file is refused by its stored key.
    from forecast.ledger import evidence_from

    planted = fit_path(out, new, fit_key(new, evidence_from(new, []), new.model.sampler.seed))
    shutil.copy(tiny[2].fit.path, planted)
    with pytest.raises(StaleFitError, match="other inputs"):
        load_fit(planted, expected_key=fit_key(new, evidence_from(new, []), 777))
    with pytest.raises(NeedsRefitError, match="ignored a stored fit"):
        compute(new, [], out=out, as_of=TODAY, allow_fit=False, engine="nuts")


def test_a_fit_made_by_other_model_code_is_stale_and_not_used(tiny, tmp_path, monkeypatch):
    """The version number does not see an edit to the model's code; the source hash does."""
    import forecast.store as store
    from forecast.config import load_question
    from forecast.engine import NeedsRefitError, compute
    from forecast.ledger import evidence_from

    q, out = _workspace(tmp_path, tiny)
    config = load_question(q)
    assert compute(config, [], out=out, as_of=TODAY, allow_fit=False,
                   engine="nuts").path == "cached"
    key = store.fit_key(config, evidence_from(config, []), config.model.sampler.seed)
    assert tiny[2].fit.versions["forecast-source"] == store.source_hash()
    monkeypatch.setattr(store, "source_hash", lambda modules=store.FIT_MODULES: "0" * 16)
    assert store.fit_key(config, evidence_from(config, []), config.model.sampler.seed) != key
    assert store.candidate_fits(out, config) == []  # not even as a base for reweighting
    with pytest.raises(NeedsRefitError, match="no stored fit"):
        compute(config, [], out=out, as_of=TODAY, allow_fit=False, engine="nuts")


def test_the_source_hash_follows_the_code(tmp_path):
    from forecast.store import FIT_MODULES, source_hash

    assert source_hash() == source_hash()  # deterministic
    assert source_hash(FIT_MODULES[:-1]) != source_hash()  # every module counts


# ----------------------------------------------------------------- concurrent updates
def test_two_concurrent_updates_both_land(tiny, tmp_path):
    from forecast.config import load_question
    from forecast.ledger import load_ledger

    q, out = _workspace(tmp_path, tiny, ledger=LEDGER)
    procs = []
    for n, var in ((1, "escalation"), (2, "basing_agreement")):
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "forecast", "update", str(q), "--out", str(out), "--json",
             "--id", f"c{n}", "--date", "2025-06-0" + str(n), "--headline", f"report {n}",
             "--source", "wire", "--reliability", "B2", "--bears-on", var, "--lr", "1.5",
             "--engine", "nuts"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [p.communicate(timeout=120) for p in procs]
    for p, (stdout, stderr) in zip(procs, results, strict=True):
        assert p.returncode == 0, stderr
        assert json.loads(stdout)["diagnostics"]["path"] in {"reweighted", "cached"}
    ids = [i.id for i in load_ledger(load_question(q), today=dt.date.today())]
    assert ids[0] == "e1" and sorted(ids[1:]) == ["c1", "c2"]
    assert not list(q.glob(".news.yaml.*.tmp"))


def test_a_refused_item_leaves_the_ledger_byte_for_byte(tiny, tmp_path):
    from forecast.config import load_question
    from forecast.ledger import LedgerError, append_item, parse_item
    from forecast.news import update

    q, out = _workspace(tmp_path, tiny, ledger=LEDGER)
    ledger = q / "news.yaml"
    before = ledger.read_bytes()
    fits_before = sorted(p.name for p in out.rglob("*"))
    config = load_question(q)
    bad = [{**ITEM, "id": "e1"}, {**ITEM, "bears_on": "damascus"},
           {**ITEM, "date": "2027-01-01"}, {**ITEM, "lr": 0}]
    for item in bad:
        with pytest.raises(LedgerError):
            update(config, item, out=out, today=TODAY, engine="nuts")
        assert ledger.read_bytes() == before
    with pytest.raises(LedgerError, match="after today"):  # refused under the lock as well
        append_item(config, parse_item({**ITEM, "date": "2027-01-01"}), today=TODAY)
    assert ledger.read_bytes() == before
    assert sorted(p.name for p in out.rglob("*")) == fits_before


# ------------------------------------------------------------------ reproducibility
def _numbers(fc) -> dict:
    probs = {k: (e.mean, e.lower, e.upper, e.mcse) for k, e in fc.probabilities().items()}
    states = {k: e.mean for k, e in fc.state_probabilities().items()}
    return {"probs": probs, "states": states, "khat": fc.khat}


def test_same_inputs_and_seed_give_identical_numbers(tiny, tmp_path):
    from forecast.config import load_question
    from forecast.engine import compute, prior_forecast
    from forecast.exact import enumerate_states
    from forecast.ledger import evidence_from, parse_item

    q, out = _workspace(tmp_path, tiny)
    config = load_question(q)
    items = [parse_item(dict(ITEM))]
    cached = [_numbers(compute(config, [], out=out, as_of=TODAY, allow_fit=False, engine="nuts"))
              for _ in range(2)]
    assert cached[0] == cached[1]
    reweighted = [compute(config, items, out=out, as_of=TODAY, allow_fit=False, engine="nuts")
                  for _ in range(2)]
    assert reweighted[0].path == "reweighted"
    assert _numbers(reweighted[0]) == _numbers(reweighted[1])
    np.testing.assert_array_equal(reweighted[0].log_weights, reweighted[1].log_weights)
    # The news moved the forecast, so equality above is not trivially true.
    assert _numbers(reweighted[0])["probs"] != cached[0]["probs"]
    ev = evidence_from(config, items)
    params = tiny[2].fit.params
    a = enumerate_states(params, ev.state_loglr, ev.outcome_loglr)
    b = enumerate_states(params, ev.state_loglr, ev.outcome_loglr)
    for x, y in zip(a.__dict__.values(), b.__dict__.values(), strict=True):
        np.testing.assert_array_equal(x, y)
    assert _numbers(prior_forecast(config, seed=5)) == _numbers(prior_forecast(config, seed=5))
    assert _numbers(prior_forecast(config, seed=5)) != _numbers(prior_forecast(config, seed=6))


def test_same_inputs_give_identical_output_across_processes(tiny, tmp_path):
    q, out = _workspace(tmp_path, tiny)
    outputs = []
    for run in range(2):
        target = tmp_path / f"run{run}"
        shutil.copytree(out, target)
        proc = subprocess.run([sys.executable, "-m", "forecast", "run", str(q), "--out",
                               str(target), "--json", "--engine", "nuts"], cwd=ROOT,
                              capture_output=True,
                              text=True, timeout=120, env={**os.environ, "PYTHONHASHSEED":
                                                           str(run)})
        assert proc.returncode == 0, proc.stderr
        outputs.append(json.loads(proc.stdout))
    assert outputs[0]["diagnostics"]["path"] == "cached"
    assert outputs[0] == outputs[1]


def test_a_refit_with_the_same_seed_draws_the_same_posterior(tiny, tmp_path):
    """Sampling itself is reproducible, not only the cache: refit from scratch, same draws."""
    from forecast.config import load_question
    from forecast.engine import compute

    q, out = _workspace(tmp_path, tiny)
    shutil.rmtree(out)
    again = compute(load_question(q), [], out=out, as_of=TODAY, allow_reweight=False, engine="nuts")
    assert again.path == "fit" and again.fit.key == tiny[2].fit.key
    for name in ("p_state", "p_base", "beta"):
        np.testing.assert_array_equal(getattr(again.fit.params, name),
                                      getattr(tiny[2].fit.params, name))
    assert _numbers(again) == _numbers(tiny[2])
