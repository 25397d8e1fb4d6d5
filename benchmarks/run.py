"""Benchmarks of `forecast` at scale: one command, one CSV, one chart, one summary.

    python benchmarks/run.py --out benchmarks/results [--repeats 3] [--quick]

Everything runs side by side in the same invocation, on copies of the seed question
in a temporary folder (the real ``priors/`` are never written):

``run``       ``forecast run`` cold (fresh out dir AND fresh PyTensor/numba compile caches,
              via ``PYTENSOR_FLAGS=base_compiledir=...`` and ``NUMBA_CACHE_DIR``), warm
              (fresh out dir, warm compile cache: a real refit), cached (fit on disk), and
              ``benchmarks/plain_pymc.py`` (the same model written the obvious way, rebuilt
              each time), with ESS per second of the headline P(keep).
``update``    ``forecast update`` (fast path: PSIS reweighting of the cached fit) against a
              full refit of the same ledger, and the difference in P(keep).
``ledger``    ``forecast update`` with 10 ... 10,000 items already in the ledger, and the
              in-process cost of reading/validating the ledger and of an append.
``evidence``  the model with 3, 6, 9, 12 evidence variables: exact enumeration per draw in
              NumPy, a fast-path reweighting of 6,000 draws, and a (smaller) fit.
``profile``   where the time of one ``forecast update`` goes (``-X importtime``, cProfile).
``priors``    ``forecast reference compare``: the forecast under three prior sources by
              importance sampling from 20,000 prior draws each (no MCMC), in a fresh process.
``notebooks`` wall time of ``pytest tests/test_notebooks.py`` when notebooks/*.ipynb exist.

Every subprocess is timed by wall clock and its peak resident memory read from
``os.wait4``; reported figures are medians over ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
SEED_QUESTION = ROOT / "priors" / "russia_syria_bases"
PY = sys.executable
FORECAST = [PY, "-m", "forecast"]
TODAY = dt.date.today()
ITEM_ARGS = ["--date", (TODAY - dt.timedelta(days=3)).isoformat(), "--headline",
             "Perimeter attack kills two", "--source", "wire", "--reliability", "B2",
             "--bears-on", "escalation", "--lr", "2:6"]

ROWS: list[dict] = []


def record(benchmark: str, variant: str, param: float | str = "", **values) -> dict:
    row = {"benchmark": benchmark, "variant": variant, "param": param, **values}
    ROWS.append(row)
    return row


#: Forks and execs the measured command from a small process, and reports its wall time and
#: peak RSS. A child forked straight from this (large) benchmark process would count this
#: process's resident pages in its own ``ru_maxrss``: measured here, a 400 MB parent made
#: ``true`` look like a 407 MB program.
_LAUNCHER = r"""
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as fh:
    json.dump({"seconds": seconds, "maxrss_kb": usage.ru_maxrss}, fh)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_timed(cmd: list[str], *, env: dict | None = None, cwd: Path = ROOT,
              timeout: float = 1800) -> tuple[float, float, str, str, int]:
    """Run a command; return (wall seconds, peak RSS in MB, stdout, stderr, exit status).

    Time and memory are the command's own, measured by :data:`_LAUNCHER` around its
    fork and exec (not this process's start-up of the launcher).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "usage.json"
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(report), *cmd],
                                stdout=out, stderr=err, cwd=cwd, start_new_session=True,
                                env={**os.environ, **(env or {})})
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)  # the launcher and the command with it
            proc.wait()
        usage = json.loads(report.read_text()) if report.exists() else {
            "seconds": float("nan"), "maxrss_kb": float("nan")}
        out.seek(0)
        err.seek(0)
        return (usage["seconds"], usage["maxrss_kb"] / 1024, out.read().decode(),
                err.read().decode(), proc.returncode)


def check(code: int, err: str, what: str) -> None:
    if code not in (0, 3):
        raise SystemExit(f"{what} failed (exit {code}):\n{err[-3000:]}")


def fresh_cache(work: Path, name: str) -> dict:
    """Environment for a compile cache of its own (cold when the folder is new)."""
    base = work / "caches" / name
    (base / "numba").mkdir(parents=True, exist_ok=True)
    return {"PYTENSOR_FLAGS": f"base_compiledir={base / 'pytensor'}",
            "NUMBA_CACHE_DIR": str(base / "numba")}


def copy_question(src: Path, dst: Path, *, ledger: bool = False) -> Path:
    ignore = None if ledger else shutil.ignore_patterns("news.yaml*")
    shutil.copytree(src, dst, ignore=ignore)
    return dst


def stored_ess(out: Path, qid: str, base: str) -> float:
    from forecast.store import load_fit

    fit = load_fit(out / qid / "posterior.nc")
    return float(fit.ess_mean[f"p_keep[{base}]"])


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


# --------------------------------------------------------------------------------------
def bench_run(work: Path, repeats: int) -> dict:
    """`forecast run` cold / warm / cached, and the plain PyMC script."""
    q = copy_question(SEED_QUESTION, work / "run" / "q")
    qid, base = "russia_syria_bases", "khmeimim"
    warm_env = fresh_cache(work, "warm")
    # Warm the shared compile cache once (not timed).
    s, _, _, err, code = run_timed([*FORECAST, "run", str(q), "--out", str(work / "warmup"),
                                    "--json"], env=warm_env)
    check(code, err, "warm-up run")
    summary: dict = {}
    for variant in ("cold", "warm", "cached"):
        for i in range(repeats):
            if variant == "cold":
                env, out = fresh_cache(work, f"cold{i}"), work / "run" / f"cold{i}"
            elif variant == "warm":
                env, out = warm_env, work / "run" / f"warm{i}"
            else:
                env, out = warm_env, work / "run" / "warm0"  # already holds the fit
            s, rss, stdout, err, code = run_timed(
                [*FORECAST, "run", str(q), "--out", str(out), "--json"], env=env)
            check(code, err, f"forecast run ({variant})")
            result = json.loads(stdout)
            ess = stored_ess(out, qid, base)
            record("run", f"forecast_{variant}", i, seconds=s, peak_rss_mb=rss,
                   p_keep=result["bases"][base]["p_keep"], ess=ess, ess_per_s=ess / s,
                   note=result["diagnostics"]["path"])
    for i in range(repeats):
        s, rss, stdout, err, code = run_timed(
            [PY, str(ROOT / "benchmarks" / "plain_pymc.py"), str(q), "--json", "--seed",
             str(i + 1)], env=warm_env)
        check(code, err, "plain_pymc.py")
        result = json.loads(stdout.strip().splitlines()[-1])
        record("run", "plain_pymc", i, seconds=s, peak_rss_mb=rss,
               p_keep=result["p_keep"][base], ess=result["ess_p_keep"],
               ess_per_s=result["ess_p_keep"] / s,
               note=f"pm.sample defaults, {result['draws']} draws, "
                    f"{result['divergences']} divergences")
    for variant in ("forecast_cold", "forecast_warm", "forecast_cached", "plain_pymc"):
        rows = [r for r in ROWS if r["benchmark"] == "run" and r["variant"] == variant]
        summary[variant] = {k: median([r[k] for r in rows])
                            for k in ("seconds", "peak_rss_mb", "p_keep", "ess", "ess_per_s")}
    return summary


def ensure_warm_fit(work: Path) -> Path:
    """The no-news fit the synthetic-ledger benchmarks reweight (made by ``run``, or here)."""
    out = work / "run" / "warm0"
    if not (out / "russia_syria_bases" / "fits").is_dir():
        q = work / "run" / "q"
        if not q.exists():
            copy_question(SEED_QUESTION, q)
        _, _, _, err, code = run_timed([*FORECAST, "run", str(q), "--out", str(out), "--json"],
                                       env=fresh_cache(work, "warm"))
        check(code, err, "forecast run for the ledger benchmarks")
    return out


def ensure_ledger_fit(work: Path) -> Path:
    """The fit of the seed question WITH its real news ledger, which the update benchmarks
    reweight: an analyst's update lands on the question as it stands, not on an empty one."""
    out = work / "ledger_fit"
    if not (out / "russia_syria_bases" / "fits").is_dir():
        q = copy_question(SEED_QUESTION, work / "ledger_fit_q", ledger=True)
        _, _, _, err, code = run_timed([*FORECAST, "run", str(q), "--out", str(out), "--json"],
                                       env=fresh_cache(work, "warm"))
        check(code, err, "forecast run for the update benchmarks")
    return out


def bench_update(work: Path, repeats: int) -> dict:
    """`forecast update` (fast path) against a full refit of the same ledger: the seed
    question with its real ledger, plus one new item."""
    warm_env = fresh_cache(work, "warm")
    fit_out = ensure_ledger_fit(work)
    updates, afters = [], []
    for i in range(max(repeats, 5)):
        q = copy_question(SEED_QUESTION, work / "update" / f"q{i}", ledger=True)
        out = work / "update" / f"out{i}"
        shutil.copytree(fit_out / "russia_syria_bases" / "fits",
                        out / "russia_syria_bases" / "fits")
        s, rss, stdout, err, code = run_timed(
            [*FORECAST, "update", str(q), "--out", str(out), "--json", *ITEM_ARGS],
            env=warm_env)
        check(code, err, "forecast update")
        result = json.loads(stdout)
        afters.append(result["bases"]["khmeimim"]["p_keep"])
        updates.append(s)
        record("update", "fast_path", i, seconds=s, peak_rss_mb=rss, p_keep=afters[-1],
               note=result["diagnostics"]["path"]
               + f" khat={result['diagnostics'].get('pareto_khat', float('nan')):.2f}")
    refits, refit_p = [], []
    for i in range(repeats):
        q = work / "update" / "q0"  # holds the ledger with the one item
        out = work / "update" / f"refit{i}"
        s, rss, stdout, err, code = run_timed(
            [*FORECAST, "run", str(q), "--out", str(out), "--json"], env=warm_env)
        check(code, err, "refit")
        result = json.loads(stdout)
        refits.append(s)
        refit_p.append(result["bases"]["khmeimim"]["p_keep"])
        record("update", "full_refit", i, seconds=s, peak_rss_mb=rss, p_keep=refit_p[-1],
               note=result["diagnostics"]["path"])
    return {"update_s": median(updates), "refit_s": median(refits),
            "speedup": median(refits) / median(updates),
            "p_update": median(afters), "p_refit": median(refit_p),
            "dp_pp": 100 * (median(afters) - median(refit_p))}


def synthetic_items(n: int, variables: list[str]) -> list[dict]:
    """``n`` valid items in pairs whose ratios cancel (r, 1/r), so the posterior stays put
    and the fast path stays trusted: the cost measured is that of the items themselves."""
    items = []
    for i in range(n):
        var = variables[(i // 2) % len(variables)]
        lr = 1.25 if i % 2 == 0 else 0.8
        items.append({
            "id": f"syn-{i:06d}", "date": (TODAY - dt.timedelta(days=30 + i % 300)).isoformat(),
            "headline": f"Synthetic report {i} on {var}", "source": "benchmark generator",
            "reliability": "B2", "bears_on": var, "lr": lr,
            "url": f"https://example.org/report/{i}",
            **({"cluster": f"c{i // 6}"} if i % 3 == 0 else {}),
        })
    return items


def write_ledger(q: Path, items: list[dict]) -> None:
    ledger = {"schema_version": 1, "question": "russia_syria_bases", "items": items}
    (q / "news.yaml").write_text(yaml.safe_dump(ledger, sort_keys=False, width=88))


def bench_ledger(work: Path, repeats: int, sizes: list[int]) -> dict:
    """`forecast update` and ledger read/validate cost against the ledger's length."""
    from forecast.config import load_question
    from forecast.ledger import append_item, evidence_from, load_ledger, parse_item, read_ledger

    warm_env = fresh_cache(work, "warm")
    fit_out = ensure_warm_fit(work)
    summary = {}
    variables = ["assad_extradition", "escalation", "separatist_backing", "basing_agreement",
                 "armed_group_integration", "khmeimim", "tartus"]
    for n in sizes:
        items = synthetic_items(n, variables)
        times, reads = [], []
        for i in range(repeats if n < 10_000 else 1):  # 10,000 items: one run is minutes
            q = copy_question(SEED_QUESTION, work / "ledger" / f"n{n}" / f"q{i}")
            write_ledger(q, items)
            out = work / "ledger" / f"n{n}" / f"out{i}"
            shutil.copytree(fit_out / "russia_syria_bases" / "fits",
                            out / "russia_syria_bases" / "fits")
            s, rss, stdout, err, code = run_timed(
                [*FORECAST, "update", str(q), "--out", str(out), "--json", *ITEM_ARGS],
                env=warm_env)
            check(code, err, f"update with {n} items")
            path = json.loads(stdout)["diagnostics"]["path"]
            times.append(s)
            record("ledger", "update_subprocess", n, seconds=s, peak_rss_mb=rss, note=path)
            # In process: read + validate, reduce, and one append (on the same copy).
            config = load_question(q)
            t0 = time.perf_counter()
            loaded, raw = read_ledger(config)
            t_read = time.perf_counter() - t0
            peak = None
            if i == 0:  # tracemalloc slows Python down: measure memory in a separate read
                tracemalloc.start()
                load_ledger(config)
                peak = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
            t0 = time.perf_counter()
            evidence_from(config, loaded)
            t_reduce = time.perf_counter() - t0
            item = parse_item({"id": f"extra-{i}", "date": TODAY.isoformat(), "headline": "x",
                               "source": "y", "reliability": "C3", "bears_on": "escalation",
                               "lr": 1.1})
            # As `forecast update` appends: under the lock, after its own read of the ledger.
            t0 = time.perf_counter()
            append_item(config, item, known=(loaded, raw))
            t_append = time.perf_counter() - t0
            reads.append(t_read)
            size_kb = (q / "news.yaml").stat().st_size / 1024
            record("ledger", "read_validate", n, seconds=t_read, peak_py_mb=peak,
                   note=f"{size_kb:.0f} KB")
            record("ledger", "evidence_reduce", n, seconds=t_reduce)
            record("ledger", "append_item", n, seconds=t_append)
        summary[n] = {"update_s": median(times), "read_s": median(reads),
                      "append_s": median([r["seconds"] for r in ROWS if r["benchmark"] ==
                                          "ledger" and r["variant"] == "append_item"
                                          and r["param"] == n]),
                      "path": path}
    return summary


def question_with_k(work: Path, k: int, sampler: dict) -> Path:
    """A copy of the seed question with ``k`` evidence variables (the five, cycled)."""
    q = copy_question(SEED_QUESTION, work / "evidence" / f"k{k}")
    for name in ("scenarios.yaml", "reference_priors.yaml"):  # they name the seed's variables
        (q / name).unlink(missing_ok=True)
    ev = yaml.safe_load((q / "evidence.yaml").read_text())
    seed_vars = ev["variables"]
    out = []
    for j in range(k):
        v = dict(seed_vars[j % len(seed_vars)])
        if j >= len(seed_vars):
            v["id"] = f"{v['id'][:40]}_{j}"
        out.append(v)
    ev["variables"] = out
    (q / "evidence.yaml").write_text(yaml.safe_dump(ev, sort_keys=False))
    model = yaml.safe_load((q / "model.yaml").read_text())
    model["sampler"].update(sampler)
    model["gate"].update({"ess_bulk_min": 400, "mcse_max": 0.01})
    (q / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
    return q


def bench_evidence(work: Path, ks: list[int], fit: bool, repeats: int) -> dict:
    """Exact enumeration per draw (NumPy), a 6,000-draw reweighting, and a fit, against K."""
    from forecast.config import load_question
    from forecast.elicit import prior_draws
    from forecast.engine import psis
    from forecast.exact import Params, enumerate_states, log_likelihood

    sampler = {"chains": 2, "draws": 1000, "tune": 500}
    summary = {}
    for k in ks:
        q = question_with_k(work, k, sampler)
        config = load_question(q)
        draws = prior_draws(config, 6000, seed=1)
        params = Params(draws["p_state"], draws["p_base"], draws["beta"])
        u = np.full(k, 0.3)
        v = np.array([0.2, -0.1])
        times, reweights = [], []
        for _ in range(max(repeats, 3)):
            # As engine.reweight does it: the stored fit's news (here: some on the outcomes,
            # so its likelihood needs the enumeration too) against the new news.
            t0 = time.perf_counter()
            target = enumerate_states(params, u, v)
            times.append(time.perf_counter() - t0)
            base = log_likelihood(params, u * 0.5, v * 0.5)
            psis(target.loglik - base)
            reweights.append(time.perf_counter() - t0)
        per_draw_us = 1e6 * median(times) / params.n
        record("evidence", "enumerate_6000_draws", k, seconds=median(times),
               note=f"{2**k} states; {per_draw_us:.1f} us per draw")
        record("evidence", "reweight_6000_draws", k, seconds=median(reweights))
        entry = {"states": 2**k, "enum_per_draw_us": per_draw_us,
                 "reweight_s": median(reweights)}
        if fit:
            out = work / "evidence" / f"out{k}"
            s, rss, stdout, err, code = run_timed(
                [*FORECAST, "run", str(q), "--out", str(out), "--json"],
                env=fresh_cache(work, "warm"), timeout=1800)
            check(code, err, f"fit with K={k}")
            d = json.loads(stdout)["diagnostics"]
            record("evidence", "fit_2x1000", k, seconds=s, peak_rss_mb=rss,
                   note=f"ess_bulk_min={d['ess_bulk_min']:.0f} converged={d['converged']}")
            entry["fit_s"] = s
            entry["fit_rss_mb"] = rss
        summary[k] = entry
    return summary


def bench_profile(work: Path, results: Path) -> dict:
    """Where the time of one `forecast update` goes: imports and functions."""
    warm_env = fresh_cache(work, "warm")
    fit_out = ensure_warm_fit(work)

    def fresh(i):
        q = copy_question(SEED_QUESTION, work / "profile" / f"q{i}")
        out = work / "profile" / f"out{i}"
        shutil.copytree(fit_out / "russia_syria_bases" / "fits",
                        out / "russia_syria_bases" / "fits")
        return q, out

    q, out = fresh(0)
    s, _, _, err, code = run_timed(
        [PY, "-X", "importtime", "-m", "forecast", "update", str(q), "--out", str(out),
         *ITEM_ARGS], env=warm_env)
    check(code, err, "importtime update")
    imports = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            imports.append((int(m.group(2)), len(m.group(3)), m.group(4)))
    top_level = sorted([i for i in imports if i[1] <= 1], reverse=True)
    total_import = sum(c for c, _, _ in top_level) / 1e6
    lines = [f"{c / 1e6:7.3f} s  {name}" for c, _, name in top_level[:25]]
    (results / "update_importtime.txt").write_text(
        f"python -X importtime: cumulative import time of top-level modules "
        f"(total {total_import:.2f} s of a {s:.2f} s run)\n" + "\n".join(lines) + "\n")
    for c, _, name in top_level[:12]:
        record("profile", "import", name, seconds=c / 1e6)

    q, out = fresh(1)
    prof = work / "update.prof"
    s, _, _, err, code = run_timed(
        [PY, "-m", "cProfile", "-o", str(prof), "-m", "forecast", "update", str(q),
         "--out", str(out), *ITEM_ARGS], env=warm_env)
    check(code, err, "cProfile update")
    buf = io.StringIO()
    stats = pstats.Stats(str(prof), stream=buf)
    stats.sort_stats("cumulative").print_stats(45)
    (results / "update_cprofile.txt").write_text(buf.getvalue())
    # The library's own stages, by cumulative time.
    stages = {}
    wanted = {"load_question": "config.py", "load_ledger": "ledger.py",
              "append_item": "ledger.py", "compute": "engine.py",
              "enumerate_states": "exact.py", "psislw": "psis.py", "load_fit": "store.py",
              "candidate_fits": "store.py", "update": "news.py", "resolved_priors": "elicit.py",
              "fit_key": "store.py", "package_versions": "store.py", "main": "cli.py",
              "probabilities": "engine.py", "to_dict": "news.py"}
    for (filename, _, func), (_, _, _, cum, _) in stats.stats.items():
        if func in wanted and filename.endswith(wanted[func]) and "forecast" in filename:
            stages[func] = max(stages.get(func, 0.0), cum)
    for func, cum in sorted(stages.items(), key=lambda x: -x[1]):
        record("profile", "stage", func, seconds=cum)
    return {"import_s": total_import, "wall_s": s, "stages": stages,
            "top_imports": [(name, c / 1e6) for c, _, name in top_level[:8]]}


def bench_in_process_update(work: Path, repeats: int) -> dict:
    """`forecast update` inside a warm Python process: the cost without imports."""
    from forecast.cli import main

    fit_out = ensure_ledger_fit(work)
    times = []
    for i in range(max(repeats, 5)):
        q = copy_question(SEED_QUESTION, work / "inproc" / f"q{i}", ledger=True)
        out = work / "inproc" / f"out{i}"
        shutil.copytree(fit_out / "russia_syria_bases" / "fits",
                        out / "russia_syria_bases" / "fits")
        sink = io.StringIO()
        stdout, sys.stdout = sys.stdout, sink
        try:
            t0 = time.perf_counter()
            code = main(["update", str(q), "--out", str(out), "--json", *ITEM_ARGS])
            times.append(time.perf_counter() - t0)
        finally:
            sys.stdout = stdout
        assert code == 0
        if i:  # the first call pays for imports
            record("update", "in_process_warm", i, seconds=times[-1])
    return {"first_s": times[0], "warm_s": median(times[1:])}


def bench_priors(work: Path, repeats: int) -> dict:
    """`forecast reference compare`: three prior sources, 20,000 prior draws each,
    posterior by importance sampling, in a fresh process; against one MCMC fit."""
    q = copy_question(SEED_QUESTION, work / "priors" / "q", ledger=True)
    times = []
    khat = float("nan")
    for i in range(repeats):
        s, rss, stdout, err, code = run_timed(
            [*FORECAST, "reference", "compare", str(q), "--json",
             "--out", str(work / "priors" / "out")])
        check(code, err, "forecast reference compare")
        rows = json.loads(stdout)
        khat = max(r["khat"] for r in rows if r["khat"] is not None)
        paths = sorted({r["path"] for r in rows})
        times.append(s)
        record("priors", "compare_3_sources", i, seconds=s, peak_rss_mb=rss,
               note=f"paths {'/'.join(paths)}; max k-hat {khat:.2f}")
    return {"compare_s": median(times), "khat_max": khat}


def bench_notebooks() -> dict:
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        record("notebooks", "suite", 0, note="no notebooks/*.ipynb")
        return {"n": 0}
    s, rss, stdout, _, code = run_timed(
        [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_notebooks.py"])
    last = (stdout.strip().splitlines() or ["?"])[-1]
    record("notebooks", "suite", len(notebooks), seconds=s, peak_rss_mb=rss,
           note=f"exit {code}: {last}")
    return {"n": len(notebooks), "seconds": s, "exit": code, "last": last}


# --------------------------------------------------------------------------------------
def load_previous(results: Path, only: set[str]) -> tuple[dict, list[dict]]:
    """Earlier summary and CSV rows of the steps that are not being rerun."""
    import csv

    summary = json.loads((results / "summary.json").read_text())
    rows = []
    with open(results / "benchmarks.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["benchmark"] in only:
                continue
            for key in ("seconds", "peak_rss_mb", "peak_py_mb", "p_keep", "ess", "ess_per_s"):
                row[key] = float(row[key]) if row.get(key) else None
            rows.append({k: v for k, v in row.items() if v not in (None, "")})
    for step in list(summary):
        if step.split("_")[0] in only:
            del summary[step]
    # JSON turned integer keys (ledger sizes, K) into text.
    for step in ("ledger", "evidence"):
        if step in summary:
            summary[step] = {int(k): v for k, v in summary[step].items()}
    return summary, rows


def write_outputs(results: Path, summary: dict) -> None:
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fields = ["benchmark", "variant", "param", "seconds", "peak_rss_mb", "peak_py_mb",
              "p_keep", "ess", "ess_per_s", "note"]
    with open(results / "benchmarks.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for row in ROWS:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v)
                             for k, v in row.items() if k in fields})
    (results / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    ax = axes[0, 0]
    run = summary.get("run", {})
    if run:
        names = list(run)
        secs = [run[n]["seconds"] for n in names]
        bars = ax.bar(names, secs, color=["#8c564b", "#1f77b4", "#2ca02c", "#7f7f7f"])
        for b, n in zip(bars, names, strict=True):
            ax.annotate(f"{run[n]['seconds']:.1f} s\n{run[n]['ess_per_s']:.0f} ESS/s",
                        (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                        va="bottom", fontsize=8)
        ax.axhline(30, ls="--", c="k", lw=0.8)
        ax.set_ylim(0, max(secs) * 1.3)
        ax.set_ylabel("wall seconds (median)")
        ax.set_title("forecast run vs plain PyMC (target: warm < 30 s)")
        ax.tick_params(axis="x", labelsize=8)
    ax = axes[0, 1]
    upd = summary.get("update")
    if upd:
        ax.bar(["update (fast path)", "full refit"], [upd["update_s"], upd["refit_s"]],
               color=["#2ca02c", "#1f77b4"])
        ax.axhline(2, ls="--", c="k", lw=0.8)
        ax.set_yscale("log")
        ax.set_ylabel("wall seconds (median, log)")
        ax.set_title(f"update {upd['speedup']:.0f}x faster than refit; "
                     f"ΔP(keep) {upd['dp_pp']:+.2f} pp")
    ax = axes[1, 0]
    led = summary.get("ledger")
    if led:
        ns = sorted(led)
        ax.loglog(ns, [led[n]["update_s"] for n in ns], "o-", label="forecast update (wall)")
        ax.loglog(ns, [led[n]["read_s"] for n in ns], "s-", label="ledger read + validate")
        ax.loglog(ns, [led[n]["append_s"] for n in ns], "^-", label="append (in process)")
        ref = led[ns[-1]]["read_s"]
        ax.loglog(ns, [ref * n / ns[-1] for n in ns], "k:", lw=0.8, label="linear")
        ax.axhline(2, ls="--", c="k", lw=0.8)
        ax.set_xlabel("items in the ledger")
        ax.set_ylabel("seconds")
        ax.set_title("cost against ledger length")
        ax.legend(fontsize=8)
    ax = axes[1, 1]
    evd = summary.get("evidence")
    if evd:
        ks = sorted(evd)
        ax.semilogy(ks, [evd[k]["reweight_s"] for k in ks], "o-",
                    label="fast-path reweighting, 6,000 draws")
        ax.semilogy(ks, [evd[k]["enum_per_draw_us"] / 1e6 for k in ks], "s-",
                    label="enumeration per draw")
        if all("fit_s" in evd[k] for k in ks):
            ax.semilogy(ks, [evd[k]["fit_s"] for k in ks], "^-",
                        label="forecast run (2 chains x 1000)")
        ax.set_xticks(ks)
        ax.set_xlabel("evidence variables K (2**K states)")
        ax.set_ylabel("seconds (log)")
        ax.set_title("cost against the number of evidence variables")
        ax.legend(fontsize=8)
    fig.suptitle(f"forecast benchmarks ({dt.datetime.now():%Y-%m-%d %H:%M}, "
                 f"{os.cpu_count()} cores)")
    fig.tight_layout()
    fig.savefig(results / "benchmarks.png", dpi=120)


def print_summary(summary: dict) -> None:
    print("\n=== summary (medians) ===")
    run = summary.get("run")
    if run:
        for name, r in run.items():
            print(f"{name:16} {r['seconds']:7.2f} s  peak {r['peak_rss_mb']:6.0f} MB  "
                  f"P(keep) {r['p_keep']:.4f}  ESS {r['ess']:7.0f}  {r['ess_per_s']:7.1f} ESS/s")
        warm = run["forecast_warm"]["seconds"]
        print(f"target warm run < 30 s: {'MET' if warm < 30 else 'MISSED'} ({warm:.1f} s)")
    upd = summary.get("update")
    if upd:
        print(f"update {upd['update_s']:.2f} s vs refit {upd['refit_s']:.2f} s: "
              f"{upd['speedup']:.0f}x; P(keep) {upd['p_update']:.4f} vs {upd['p_refit']:.4f} "
              f"({upd['dp_pp']:+.2f} pp)")
        print(f"target update < 2 s and >= 20x: "
              f"{'MET' if upd['update_s'] < 2 and upd['speedup'] >= 20 else 'MISSED'}")
    inproc = summary.get("update_in_process")
    if inproc:
        print(f"update in a warm process: first {inproc['first_s']:.2f} s, "
              f"then {inproc['warm_s']:.3f} s")
    led = summary.get("ledger")
    if led:
        for n, r in sorted(led.items()):
            print(f"ledger {n:6d} items: update {r['update_s']:6.2f} s, read+validate "
                  f"{r['read_s']:.3f} s, append {r['append_s']:.3f} s ({r['path']})")
        ns = sorted(led)
        if len(ns) > 1:
            slope = np.polyfit(np.log(ns[1:]), np.log([led[n]["read_s"] for n in ns[1:]]), 1)[0]
            print(f"ledger read cost grows as N^{slope:.2f} (1 = linear)")
    evd = summary.get("evidence")
    if evd:
        for k, r in sorted(evd.items()):
            fit = f", fit {r['fit_s']:.1f} s" if "fit_s" in r else ""
            print(f"K={k:2d} ({r['states']:5d} states): {r['enum_per_draw_us']:8.1f} us/draw, "
                  f"reweight 6000 draws {r['reweight_s']:.3f} s{fit}")
    prof = summary.get("profile")
    if prof:
        print(f"update profile: {prof['import_s']:.2f} s of imports in a {prof['wall_s']:.2f} s "
              f"run; top imports: " + ", ".join(f"{n} {s:.2f}s" for n, s in prof["top_imports"]))
    pr = summary.get("priors")
    if pr:
        print(f"forecast reference compare (3 prior sources, importance sampling): "
              f"{pr['compare_s']:.2f} s, max k-hat {pr['khat_max']:.2f}")
    nb = summary.get("notebooks")
    if nb:
        print("notebooks: " + (f"{nb['n']} .ipynb, suite {nb['seconds']:.1f} s ({nb['last']})"
                               if nb["n"] else "no notebooks/*.ipynb"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 repeat, small sizes, no fits")
    parser.add_argument("--only",
                        default="run,update,ledger,evidence,profile,priors,notebooks")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--merge", action="store_true",
                        help="keep earlier results of the steps not in --only")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    only = set(args.only.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="forecast-bench-"))
    summary: dict = {"date": dt.datetime.now().isoformat(timespec="seconds"),
                     "cores": os.cpu_count(), "repeats": repeats}
    if args.merge:
        summary, kept = load_previous(args.out, only)
        ROWS.extend(kept)
        summary["rerun"] = {"date": dt.datetime.now().isoformat(timespec="seconds"),
                            "steps": sorted(only)}
    try:
        steps = [
            ("run", lambda: bench_run(work, repeats)),
            ("update", lambda: bench_update(work, repeats)),
            ("update_in_process", lambda: bench_in_process_update(work, repeats)),
            ("ledger", lambda: bench_ledger(work, repeats, [10, 100, 1000] if args.quick
                                            else [10, 100, 1000, 10000])),
            ("evidence", lambda: bench_evidence(work, [3, 6, 9] if args.quick
                                                else [3, 6, 9, 12], not args.quick, repeats)),
            ("profile", lambda: bench_profile(work, args.out)),
            ("priors", lambda: bench_priors(work, repeats)),
            ("notebooks", bench_notebooks),
        ]
        for name, step in steps:
            if name.split("_")[0] not in only:
                continue
            t0 = time.perf_counter()
            print(f"[{dt.datetime.now():%H:%M:%S}] {name} ...", flush=True)
            summary[name] = step()
            print(f"    done in {time.perf_counter() - t0:.0f} s", flush=True)
            write_outputs(args.out, summary)  # keep partial results if a later step fails
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_summary(summary)
    print(f"\nwrote {args.out / 'benchmarks.csv'}, {args.out / 'benchmarks.png'}, "
          f"{args.out / 'summary.json'}")
    if summary.get("notebooks", {}).get("exit"):
        print("FAILED: the notebook suite did not pass (see benchmarks.csv)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
