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
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import DEFAULT_QUESTION, ROOT, run_and_kill_in_write

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

    sys.path.insert(0, "tests")  # the child runs in the repository (cwd=ROOT)
    from conftest import HalfWriter

    os.fdopen = lambda fd, *a, **k: HalfWriter(real_fdopen(fd, *a, **k), announce_and_hang)
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
    proc = run_and_kill_in_write([sys.executable, "-c", script, str(marker), *args], marker)
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
    _kill_in_write(CHILD_SAVE_FIT, ["fsync", str(q), str(tiny[2].fit.file), str(out)], tmp_path)
    # The dead writer's temporary file may remain, but under a name no reader looks for.
    assert all(p.name.startswith(".") for p in fits_dir(out, config).iterdir()
               if p.name not in before)
    # No new fit-*.nc: the half-saved file never got its final name.
    assert sorted(p.name for p in fits_dir(out, config).glob("fit-*.nc")) == before
    assert [f.file.name for f in candidate_fits(out, config)] == before
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
    path = out / "q" / "fits" / tiny[2].fit.file.name
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
    shutil.copy(tiny[2].fit.file, planted)
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
    """A copy of the package, imported in another process from another directory, hashes
    as this one does; a line of code added to a module outside ``FIT_MODULES`` leaves the
    hash alone, and one added to each module in it changes it."""
    import forecast
    from forecast.store import FIT_MODULES, source_hash

    copy = tmp_path / "copy"
    shutil.copytree(Path(forecast.__file__).parent, copy / "forecast",
                    ignore=shutil.ignore_patterns("__pycache__"))

    def hash_of_copy() -> str:
        code = ("import forecast, forecast.store as s; "
                "print(forecast.__file__); print(s.source_hash())")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(copy)},
                              check=True, timeout=120)
        where, digest = proc.stdout.split()
        assert Path(where).parent == copy / "forecast"  # the copy, not the installed package
        return digest

    def add_code(module: str) -> None:
        path = copy / "forecast" / f"{module}.py"
        path.write_text(path.read_text() + "\n_EDITED = 1\n")

    ours = source_hash()
    assert hash_of_copy() == ours
    add_code(next(m for m in ("fmt", "display", "tables") if m not in FIT_MODULES))
    assert hash_of_copy() == ours
    seen = {ours}
    for module in FIT_MODULES:
        add_code(module)
        seen.add(hash_of_copy())
    assert len(seen) == len(FIT_MODULES) + 1  # every module counts


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


# ------------------------------------------------------------------ a held lock
UPDATE_ARGS = ["--date", "2025-05-20", "--headline", "Perimeter attack", "--source", "wire",
               "--reliability", "B2", "--bears-on", "escalation", "--lr", "3", "--id", "k2"]


def _lock_of(path: Path):
    """The writers' lock of ``path``, taken as forecast.ledger takes it (an OS file lock)."""
    from filelock import FileLock

    return FileLock(str(path) + ".lock")


def _watch_waiting(monkeypatch):
    """An Event set when a ledger writer finds the lock held and starts to wait for it.

    filelock calls ``cancel_check`` only while an acquire is contended, before each retry.
    """
    import threading

    from filelock import FileLock

    import forecast.ledger

    waiting = threading.Event()

    class Watched(FileLock):
        def acquire(self, *args, **kwargs):
            return super().acquire(*args, cancel_check=lambda: waiting.set() or False,
                                   **kwargs)

    monkeypatch.setattr(forecast.ledger.storage, "FileLock", Watched)
    return waiting


def test_a_ledger_locked_too_long_is_a_clear_error_with_exit_4(tmp_path, monkeypatch, capsys):
    from forecast.cli import EXIT_LOCKED, main
    from forecast.config import load_question
    from forecast.ledger import LockedError, append_item, ledger_path, parse_item

    q = _tiny_question(tmp_path / "q", ledger=LEDGER)
    ledger = ledger_path(load_question(q))
    before = ledger.read_bytes()
    monkeypatch.setenv("FORECAST_LOCK_TIMEOUT", "0.2")
    with _lock_of(ledger):  # another writer, holding it throughout
        with pytest.raises(LockedError) as info:
            append_item(load_question(q), parse_item(dict(ITEM)), today=TODAY)
        assert info.value.path == ledger and info.value.timeout == 0.2
        capsys.readouterr()
        assert main(["update", str(q), "--out", str(tmp_path / "out"), *UPDATE_ARGS]) == 4
    err = capsys.readouterr().err
    assert EXIT_LOCKED == 4
    assert err.startswith(f"error: {ledger} is locked by another writer (waited 0.2 s); "
                          "nothing was written")
    assert "Traceback" not in err
    assert ledger.read_bytes() == before


def test_a_bad_lock_timeout_is_refused(tmp_path, monkeypatch, capsys):
    from forecast.cli import main

    q = _tiny_question(tmp_path / "q", ledger=LEDGER)
    monkeypatch.setenv("FORECAST_LOCK_TIMEOUT", "soon")
    assert main(["update", str(q), "--out", str(tmp_path / "out"), *UPDATE_ARGS]) == 2
    assert "error: FORECAST_LOCK_TIMEOUT=soon: give the seconds" in capsys.readouterr().err


def test_a_second_writer_waits_for_the_lock_and_then_lands(tmp_path, monkeypatch):
    import threading

    from forecast.config import load_question
    from forecast.ledger import append_item, ledger_path, load_ledger, parse_item

    q = _tiny_question(tmp_path / "q", ledger=LEDGER)
    config = load_question(q)
    ledger = ledger_path(config)
    before = ledger.read_bytes()
    waiting = _watch_waiting(monkeypatch)
    outcome = {}

    def second_writer():
        try:
            outcome["items"] = append_item(config, parse_item(dict(ITEM)), today=TODAY)
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    holder = _lock_of(ledger)
    holder.acquire()
    try:
        writer = threading.Thread(target=second_writer)
        writer.start()
        assert waiting.wait(timeout=30), "the second writer never met the held lock"
        assert ledger.read_bytes() == before and not outcome  # it waits: nothing written yet
    finally:
        holder.release()
    writer.join(timeout=30)
    assert not writer.is_alive() and "error" not in outcome, outcome
    assert [i.id for i in outcome["items"]] == ["e1", "k1"]
    assert ledger.read_bytes().startswith(before)  # appended: the old bytes untouched
    assert [i.id for i in load_ledger(config, today=TODAY)] == ["e1", "k1"]


def test_a_writer_killed_holding_the_lock_loses_nothing(tmp_path, monkeypatch):
    """The first writer is SIGKILLed inside its append (holding the lock) while a second
    waits for the lock: the OS frees the dead writer's lock, the second lands, and the
    ledger is the old one plus the second item, never a part of the first's."""
    import threading

    from forecast.config import load_question
    from forecast.ledger import append_item, ledger_path, load_ledger, parse_item

    q = _tiny_question(tmp_path / "q", ledger=LEDGER)
    config = load_question(q)
    ledger = ledger_path(config)
    before = ledger.read_bytes()
    marker = tmp_path / "marker"
    waiting = _watch_waiting(monkeypatch)
    outcome = {}

    def second_writer():
        try:
            outcome["items"] = append_item(config, parse_item({**ITEM, "id": "k2"}),
                                           today=TODAY)
        except BaseException as exc:
            outcome["error"] = exc

    writer = threading.Thread(target=second_writer)

    def start_the_second_writer():  # while the first holds the lock, inside its write
        writer.start()
        assert waiting.wait(timeout=30), "the second writer never met the held lock"

    run_and_kill_in_write([sys.executable, "-c", CHILD_APPEND, str(marker), "fsync", str(q)],
                          marker, before_kill=start_the_second_writer)
    writer.join(timeout=30)
    assert not writer.is_alive() and "error" not in outcome, outcome
    assert ledger.read_bytes().startswith(before)
    assert [i.id for i in load_ledger(config, today=TODAY)] == ["e1", "k2"]  # no k1


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


# ------------------------------------------------------------------ a failed gate, exit 3
@pytest.fixture(scope="module")
def unconverged(tmp_path_factory):
    """A question whose model.yaml asks for NUTS, with a stored fit that failed its gate
    (its draws are the prior's, no MCMC; its diagnostics say R-hat 1.0712): what every
    command that forecasts from it finds in the cache."""
    import h5py

    from conftest import store_fit_from_prior
    from forecast.config import load_question
    from forecast.ledger import load_ledger

    root = tmp_path_factory.mktemp("unconverged")
    q = _tiny_question(root / "q", ledger=LEDGER)
    model = yaml.safe_load((q / "model.yaml").read_text())
    model["engine"]["default"] = "nuts"
    (q / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
    config = load_question(q)
    out = root / "out"
    fit = store_fit_from_prior(config, load_ledger(config), out, pool=4000)
    with h5py.File(fit, "r+") as fh:  # as if the sampler had not converged
        d = json.loads(fh.attrs["forecast_diagnostics"])
        d.update(passed=False, failures=["R-hat 1.0712 > 1.01"])
        fh.attrs["forecast_diagnostics"] = json.dumps(d)
    return q, out


def _no_outside_view(monkeypatch):
    """The briefing without the reference-class fits (a minute of MCMC, beside the point
    here: the gate in question is the forecast's)."""
    from forecast import export

    real = export.build_briefing
    monkeypatch.setattr(export, "build_briefing", lambda *a, **k: real(
        *a, **{**k, "outside": False, "hazard_fit": False, "backtest": False}))


@pytest.mark.parametrize("command", ["history", "history --json", "charts", "report",
                                     "score --hindsight", "score --hindsight --json"])
def test_commands_from_a_fit_that_failed_its_gate_say_so_and_exit_3(
        command, unconverged, tmp_path, monkeypatch, capsys):
    from forecast.cli import EXIT_UNCONVERGED, main

    q_src, out_src = unconverged
    q, out = tmp_path / "q", tmp_path / "out"
    shutil.copytree(q_src, q)
    shutil.copytree(out_src, out)
    from forecast.store import OWNER_FILE

    for owner in out.glob(f"*/{OWNER_FILE}"):
        owner.write_text(str(q.resolve()) + "\n")
    name, *flags = command.split()
    extra = []
    if name in {"charts", "report"}:
        _no_outside_view(monkeypatch)
        extra = ["--format", "png", "--dpi", "20"] if name == "charts" else []
    if name == "score":
        assert main(["resolve", str(q), "--outcome", "khmeimim=1,tartus=0",
                     "--date", "2026-06-01"]) == 0
    capsys.readouterr()
    assert main([name, str(q), "--out", str(out), *flags, *extra]) == EXIT_UNCONVERGED == 3
    captured = capsys.readouterr()
    assert "FAILED its convergence gate (R-hat 1.0712 > 1.01)" in captured.err
    assert captured.out  # the output is given all the same, as `forecast run` gives it
    if name == "charts":
        assert (out / q.name / "charts" / "charts.csv").exists()
    if name == "report":
        assert list((out / q.name / "report").glob("*-briefing.html"))


def test_commands_from_a_fit_that_passed_exit_0(tmp_path, capsys):
    """The same commands exit 0 when the forecast passes (the exact engine, default)."""
    from forecast.cli import main

    q = _tiny_question(tmp_path / "q", ledger=LEDGER)
    out = tmp_path / "out"
    assert main(["history", str(q), "--out", str(out), "--csv"]) == 0
    assert main(["resolve", str(q), "--outcome", "khmeimim=1,tartus=0",
                 "--date", "2026-06-01"]) == 0
    assert main(["score", str(q), "--out", str(out), "--hindsight", "--json"]) == 0
    assert "FAILED" not in capsys.readouterr().err


# ------------------------------------------------------------------ reproducibility
def _numbers(fc) -> dict:
    probs = {k: (e.mean, e.lower, e.upper, e.mcse) for k, e in fc.probabilities().items()}
    states = {k: e.mean for k, e in fc.state_probabilities().items()}
    return {"probs": probs, "states": states, "khat": fc.khat}


def test_same_inputs_and_seed_give_identical_numbers(tiny, tmp_path):
    from forecast.config import load_question
    from forecast.engine import compute
    from forecast.ledger import parse_item

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
    # (A call compared with itself in one process proves nothing a stored fit read twice
    # does not; the prior draws' determinism across processes is the next test.)


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


# ------------------------------------------------------------------ where it runs from
@pytest.mark.slow
def test_the_package_works_from_a_non_editable_install(tmp_path):
    """``.ci/installed``: the wheel installed into a throwaway venv (borrowing this
    interpreter's dependencies), run from another directory, imports the installed copy."""
    env = {**os.environ, "FORECAST_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", str(ROOT / ".ci" / "installed"), str(tmp_path)], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"forecast imported from {tmp_path / 'venv'}" in done.stdout
    result = json.loads((tmp_path / "elsewhere" / "forecast.json").read_text())
    assert result["question"] == "russia_syria_bases"


def test_default_paths_do_not_depend_on_the_working_directory(tmp_path, monkeypatch, capsys):
    """The default question and a question's link to the reference class resolve against
    the repository (or the question's), wherever the command runs; a folder in the working
    directory that happens to share a default's name is not taken for it."""
    from forecast.cli import DEFAULT_QUESTION, main
    from forecast.config import repo_path

    decoy = tmp_path / "priors" / "reference_class"
    decoy.mkdir(parents=True)  # an empty reference class where the old rule looked first
    (tmp_path / "priors" / "russia_syria_bases").mkdir()  # and an empty question
    monkeypatch.chdir(tmp_path)
    assert DEFAULT_QUESTION == ROOT / "priors" / "russia_syria_bases"
    assert repo_path("priors/reference_class") == ROOT / "priors" / "reference_class"
    other = tmp_path / "other_checkout"  # a question in another checkout: its own class
    (other / "priors" / "reference_class").mkdir(parents=True)
    (other / "priors" / "q").mkdir()
    assert (repo_path("priors/reference_class", near=other / "priors" / "q")
            == other / "priors" / "reference_class")
    assert main(["validate"]) == 0  # the repository's question, not the empty one here
    assert f"OK: {DEFAULT_QUESTION} (russia_syria_bases)" in capsys.readouterr().out
