"""Benchmarks of `forecast` at scale: one command, one CSV, one chart, one summary.

    python benchmarks/run.py --out benchmarks/results [--repeats 3] [--quick]

Everything runs side by side in the same invocation, on copies of the seed question
(with its news ledger) in a temporary folder (the real ``priors/`` are never written):

``run``       ``forecast run`` with the exact engine (the default) and with ``--engine nuts``,
              each cold (fresh results folder AND fresh caches: PyTensor's and numba's compile
              caches via ``PYTENSOR_FLAGS=base_compiledir=...`` and ``NUMBA_CACHE_DIR``, and
              forecast's PreliZ maxent fits via ``XDG_CACHE_HOME``) and warm (fresh results
              folder, warm caches: for NUTS a real refit); both warm also with ``--json``
              (which skips the key judgements); and ``benchmarks/plain_pymc.py`` (the model
              written the obvious way, rebuilt each time; it models no news) warm. Rows
              carry P(keep) and its MCSE per base; the summary has the ratios exact vs nuts
              (warm): speed, the difference in P(keep) in combined MCSEs, and the speed at
              equal MCSE (time x MCSE^2).
``update``    ``forecast update`` (one new item on the seed ledger) with the exact engine
              (the default) and with ``--engine nuts`` (PSIS reweighting of the stored NUTS
              fit of the ledger), and the difference of their answers; also in a warm process.
``ledger``    ``forecast update`` with 10 ... 10,000 items already in the ledger, and the
              in-process cost of reading/validating the ledger and of an append.
``evidence``  ``exact_forecast`` in process with 3, 6, 9, 12 evidence variables (12 is the
              validator's limit), at ``engine.draws`` and at 40,000 draws (``--evidence-draws``).
``profile``   where the time of one ``forecast update`` and one ``forecast run`` goes
              (``-X importtime``, cProfile).
``priors``    ``forecast reference compare``: the forecast under three prior sources by
              importance sampling from 20,000 prior draws each (no MCMC), in a fresh process.
``notebooks`` wall time of ``pytest tests/system/test_notebooks.py`` when notebooks/*.ipynb exist.

Every subprocess is timed by wall clock and its peak resident memory read from
``os.wait4``; reported figures are medians over ``--repeats`` runs. The load average is
recorded before and after each step (the machine may be shared). What is measured is a copy
of the working tree taken at the start (``SNAPSHOT_PARTS``, imported through ``PYTHONPATH``),
so that edits made meanwhile do not mix into one run; ``--in-place`` measures the tree itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
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

REPO = Path(__file__).resolve().parents[1]  # the working tree
#: What is measured: a copy of the working tree taken at the start (:func:`snapshot`), so that
#: edits made while the benchmark runs (others may be working in the tree) do not mix into it.
ROOT = REPO
SEED_QUESTION = ROOT / "priors" / "russia_syria_bases"
#: The parts of the tree the benchmark runs: the package, the questions, the notebooks and
#: their tests (the suite's configuration with them), the baseline script.
SNAPSHOT_PARTS = ("forecast", "priors", "tests", "notebooks", "benchmarks/plain_pymc.py",
                  "pyproject.toml", "ARCHITECTURE.md", "README.md")
BASES = [o["id"] for o in yaml.safe_load((SEED_QUESTION / "question.yaml").read_text())["outcomes"]]
PY = sys.executable
FORECAST = [PY, "-m", "forecast"]
TODAY = dt.date.today()
ITEM_ARGS = ["--date", (TODAY - dt.timedelta(days=3)).isoformat(), "--headline",
             "Perimeter attack kills two", "--source", "wire", "--reliability", "B2",
             "--bears-on", "escalation", "--lr", "2:6"]
#: The targets of issue 13.
TARGETS = {"exact_vs_nuts_warm": 10.0, "run_warm_s": 2.0, "run_cold_s": 5.0, "update_s": 0.5,
           "notebooks_s": 30.0}

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


def run_timed(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None,
              timeout: float = 1800) -> tuple[float, float, str, str, int]:
    """Run a command; return (wall seconds, peak RSS in MB, stdout, stderr, exit status).

    Time and memory are the command's own, measured by :data:`_LAUNCHER` around its
    fork and exec (not this process's start-up of the launcher).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "usage.json"
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(report), *cmd],
                                stdout=out, stderr=err, cwd=cwd or ROOT,
                                start_new_session=True,
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
    """Environment for caches of its own (cold when the folder is new): PyTensor's and numba's
    compile caches, and through ``XDG_CACHE_HOME`` forecast's on-disk PreliZ maxent fits
    (which moves matplotlib's font cache too)."""
    base = work / "caches" / name
    (base / "numba").mkdir(parents=True, exist_ok=True)
    (base / "xdg").mkdir(parents=True, exist_ok=True)
    return {"PYTENSOR_FLAGS": f"base_compiledir={base / 'pytensor'}",
            "NUMBA_CACHE_DIR": str(base / "numba"), "XDG_CACHE_HOME": str(base / "xdg")}


def copy_question(src: Path, dst: Path, *, ledger: bool = False) -> Path:
    """Copy a question directory to ``dst`` (its results go to ``<out>/<dst.name>/``)."""
    ignore = None if ledger else shutil.ignore_patterns("news.yaml*")
    shutil.copytree(src, dst, ignore=ignore)
    return dst


def results_of(out: Path, q: Path) -> Path:
    """A question's results folder under the results root ``out`` (named after its directory)."""
    return out / q.name


def answers(result: dict) -> dict:
    """P(keep) and its MCSE per base, from ``forecast run``/``update`` JSON."""
    row = {}
    for b in BASES:
        row[f"p_keep_{b}"] = result["bases"][b]["p_keep"]
        row[f"mcse_{b}"] = result["bases"][b]["mcse"]
    return row


def path_note(d: dict) -> str:
    """The engine's path and the diagnostics that say whether to trust it."""
    note = f"path {d['path']}"
    if "pareto_khat" in d:
        note += f"; k-hat {d['pareto_khat']:.2f}"
    if d.get("engine") == "exact" or d["path"] == "exact":
        return note + f"; effective draws {d['ess_bulk_min']:.0f}"
    return note + (f"; bulk ESS min {d['ess_bulk_min']:.0f}; divergences {d['divergences']}"
                   f"; converged {d['converged']}")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def available_gb() -> float:
    """Memory available to a new process (``MemAvailable``), in GB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024 / 1e9
    return float("inf")


def code_state(root: Path) -> str:
    """A hash of the library, the seed question, the notebooks and the baseline script."""
    import hashlib

    h = hashlib.sha256()
    paths = [*(root / "forecast").rglob("*.py"), *(root / "forecast").rglob("*.yaml"),
             *(root / "priors" / "russia_syria_bases").glob("*.yaml"),
             *(root / "notebooks").glob("*.py"), root / "benchmarks" / "plain_pymc.py"]
    for path in sorted(paths):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def snapshot(work: Path) -> Path:
    """Copy :data:`SNAPSHOT_PARTS` of the working tree to ``work/src`` (bytecode caches
    included, with their sources' times, so that they stay valid), to be measured there."""
    src = work / "src"
    for part in SNAPSHOT_PARTS:
        a, b = REPO / part, src / part
        if a.is_dir():
            shutil.copytree(a, b, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        elif a.exists():
            b.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(a, b)
    return src


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


# --------------------------------------------------------------------------------------
#: Runs benchmarks/plain_pymc.py unchanged and, after it, prints the MCSE of P(keep) per
#: base from its own draws (sd / sqrt(ESS for the mean), as forecast computes it). The
#: script returns nothing, so its ``pm.sample`` is wrapped to keep the InferenceData.
_PLAIN_PYMC = r"""
import json, runpy, sys
import numpy as np
import pymc
kept = []
_sample = pymc.sample
def sample(*args, **kwargs):
    kept.append(_sample(*args, **kwargs))
    return kept[-1]
pymc.sample = sample
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
from arviz_stats.base import array_stats
p = kept[0].posterior["p_keep"]
mcse = {}
for i, b in enumerate(p["base"].values):
    x = p.values[..., i]
    mcse[str(b)] = float(np.std(x, ddof=1) / np.sqrt(array_stats.ess(x, method="mean")))
print(json.dumps({"mcse": mcse}))
"""

RUN_VARIANTS = (("exact", "cold", ()), ("exact", "warm", ()), ("exact", "warm_json", ("--json",)),
                ("nuts", "cold", ()), ("nuts", "warm", ()), ("nuts", "warm_json", ("--json",)))
RUN_FIELDS = ("seconds", "peak_rss_mb", "ess", *(f"p_keep_{b}" for b in BASES),
              *(f"mcse_{b}" for b in BASES))


def bench_run(work: Path, repeats: int) -> dict:
    """`forecast run` exact/nuts, cold/warm, and the plain PyMC script, interleaved."""
    q = copy_question(SEED_QUESTION, work / "run" / "russia_syria_bases", ledger=True)
    warm_env = fresh_cache(work, "warm")
    plain = [PY, "-c", _PLAIN_PYMC, str(ROOT / "benchmarks" / "plain_pymc.py"), str(q), "--json"]
    # Warm the shared caches once per program (not timed).
    for engine in ("exact", "nuts"):
        _, _, _, err, code = run_timed([*FORECAST, "run", str(q), "--engine", engine, "--out",
                                        str(work / "warmup" / engine)], env=warm_env)
        check(code, err, f"warm-up run ({engine})")
    _, _, _, err, code = run_timed([*plain, "--seed", "99"], env=warm_env)
    check(code, err, "warm-up plain_pymc.py")
    # Interleaved: a change in the machine's load hits every variant alike.
    for i in range(repeats):
        for engine, state, flags in RUN_VARIANTS:
            cold = state == "cold"
            env = fresh_cache(work, f"{engine}-cold{i}") if cold else warm_env
            out = work / "run" / f"{engine}-{state}{i}"
            s, rss, stdout, err, code = run_timed(
                [*FORECAST, "run", str(q), "--engine", engine, "--out", str(out), *flags],
                env=env)
            check(code, err, f"forecast run --engine {engine} ({state})")
            result = json.loads((results_of(out, q) / "forecast.json").read_text())
            d = result["diagnostics"]
            record("run", f"{engine}_{state}", i, seconds=s, peak_rss_mb=rss,
                   **answers(result), ess=d["ess_mean_min"], note=path_note(d))
        s, rss, stdout, err, code = run_timed([*plain, "--seed", str(i + 1)], env=warm_env)
        check(code, err, "plain_pymc.py")
        result = {}
        for line in stdout.splitlines():
            if line.startswith("{"):
                result.update(json.loads(line))
        record("run", "plain_pymc", i, seconds=s, peak_rss_mb=rss,
               **{f"p_keep_{b}": result["p_keep"][b] for b in BASES},
               **{f"mcse_{b}": result["mcse"][b] for b in BASES}, ess=result["ess_p_keep"],
               note=f"pm.sample defaults, {result['draws']} draws, "
                    f"{result['divergences']} divergences; no news (the script models none)")
    summary: dict = {}
    for variant in [f"{e}_{s}" for e, s, _ in RUN_VARIANTS] + ["plain_pymc"]:
        rows = [r for r in ROWS if r["benchmark"] == "run" and r["variant"] == variant]
        summary[variant] = {k: median([r.get(k) for r in rows]) for k in RUN_FIELDS}
        summary[variant]["note"] = rows[0]["note"]
    # As typed (the key judgements printed too) and with --json (the engines' own work).
    summary["ratios"] = {mode: run_ratios(summary, f"exact_{mode}", f"nuts_{mode}")
                         for mode in ("warm", "warm_json")}
    return summary


def run_ratios(run: dict, exact: str, nuts: str) -> dict:
    """Exact vs nuts: speed, the same answer, and the speed at equal MCSE."""
    e, n = run[exact], run[nuts]
    out = {"speedup": n["seconds"] / e["seconds"],
           "speedup_vs_plain": run["plain_pymc"]["seconds"] / e["seconds"], "bases": {}}
    for b in BASES:
        pe, pn = e[f"p_keep_{b}"], n[f"p_keep_{b}"]
        me, mn = e[f"mcse_{b}"], n[f"mcse_{b}"]
        out["bases"][b] = {
            "dp_pp": 100 * (pe - pn),
            "z": (pe - pn) / math.hypot(me, mn),  # the difference in combined MCSEs
            # Time per unit of precision 1/MCSE^2: the speed-up were both run to equal MCSE.
            "equal_mcse_speedup": (n["seconds"] * mn**2) / (e["seconds"] * me**2),
        }
    return out


def ensure_nuts_ledger_fit(work: Path) -> Path:
    """The fits folder of the NUTS fit of the seed question WITH its real news ledger, which
    ``forecast update --engine nuts`` reweights: an analyst's update lands on the question as
    it stands. Made by ``run`` (its first warm NUTS run), or here."""
    q = work / "run" / "russia_syria_bases"
    out = work / "run" / "nuts-warm0"
    if not (results_of(out, q) / "fits").is_dir():
        if not q.exists():
            copy_question(SEED_QUESTION, q, ledger=True)
        _, _, _, err, code = run_timed([*FORECAST, "run", str(q), "--engine", "nuts", "--out",
                                        str(out), "--json"], env=fresh_cache(work, "warm"))
        check(code, err, "forecast run --engine nuts for the update benchmarks")
    return results_of(out, q) / "fits"


def bench_update(work: Path, repeats: int) -> dict:
    """`forecast update` (the seed question with its real ledger, plus one new item) with the
    exact engine (the default) and with ``--engine nuts`` (reweighting the stored NUTS fit)."""
    warm_env = fresh_cache(work, "warm")
    fits = ensure_nuts_ledger_fit(work)
    for i in range(max(repeats, 5)):
        for engine in ("exact", "nuts"):
            q = copy_question(SEED_QUESTION, work / "update" / f"{engine}{i}" /
                              "russia_syria_bases", ledger=True)
            out = work / "update" / f"{engine}-out{i}"
            flags = []
            if engine == "nuts":
                shutil.copytree(fits, results_of(out, q) / "fits")
                flags = ["--engine", "nuts"]
            s, rss, stdout, err, code = run_timed(
                [*FORECAST, "update", str(q), "--out", str(out), "--json", *flags, *ITEM_ARGS],
                env=warm_env)
            check(code, err, f"forecast update ({engine})")
            result = json.loads(stdout)
            record("update", engine, i, seconds=s, peak_rss_mb=rss, **answers(result),
                   note=path_note(result["diagnostics"])
                   + f"; before: {result['before']['diagnostics']['path']}")
    summary: dict = {}
    for engine in ("exact", "nuts"):
        rows = [r for r in ROWS if r["benchmark"] == "update" and r["variant"] == engine]
        summary[engine] = {k: median([r.get(k) for r in rows])
                           for k in ("seconds", "peak_rss_mb", *RUN_FIELDS[3:])}
        summary[engine]["note"] = rows[0]["note"]
    e, n = summary["exact"], summary["nuts"]
    summary["nuts_over_exact"] = n["seconds"] / e["seconds"]
    summary["bases"] = {b: {"dp_pp": 100 * (e[f"p_keep_{b}"] - n[f"p_keep_{b}"]),
                            "z": (e[f"p_keep_{b}"] - n[f"p_keep_{b}"])
                            / math.hypot(e[f"mcse_{b}"], n[f"mcse_{b}"])} for b in BASES}
    return summary


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
    """`forecast update` (default engine) and ledger read/validate cost against its length."""
    from forecast.config import load_question
    from forecast.ledger import append_item, evidence_from, load_ledger, parse_item, read_ledger

    warm_env = fresh_cache(work, "warm")
    summary = {}
    variables = ["assad_extradition", "escalation", "separatist_backing", "basing_agreement",
                 "armed_group_integration", "khmeimim", "tartus"]
    draws = yaml.safe_load((SEED_QUESTION / "model.yaml").read_text())["engine"]["draws"]
    for n in sizes:
        # The new item's ratio is an interval, so the exact engine draws every item's ratio
        # per draw: about six (draws x items) float64 arrays (1.9 GB measured at 1,000 items).
        need_gb = 6 * 8 * draws * n / 1e9
        if need_gb > 0.5 * available_gb():
            record("ledger", "update_subprocess", n,
                   note=f"skipped: would need about {need_gb:.0f} GB "
                        f"({available_gb():.0f} GB available)")
            summary[n] = {"skipped": True, "need_gb": need_gb}
            continue
        items = synthetic_items(n, variables)
        times, reads = [], []
        for i in range(repeats if n < 10_000 else 1):  # 10,000 items: one run is enough
            q = copy_question(SEED_QUESTION, work / "ledger" / f"n{n}" / f"q{i}")
            write_ledger(q, items)
            out = work / "ledger" / f"n{n}" / f"out{i}"
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


def question_with_k(work: Path, k: int) -> Path:
    """A copy of the seed question with ``k`` evidence variables (the five, cycled)."""
    q = copy_question(SEED_QUESTION, work / "evidence" / f"k{k}" / "russia_syria_bases")
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
    return q


def bench_evidence(work: Path, ks: list[int], repeats: int, draws: list[int] | None) -> dict:
    """``exact_forecast`` (in process) against the number K of evidence variables.

    Each K's question is the seed's with its variables cycled to K; the news are the seed
    ledger's items that bear on a variable or base the copy has (all 34 from K = 5 on). The
    time includes the prior draws (timed alone too), the enumeration of the ``2**K`` states
    for every draw and the Pareto smoothing of the weights. Timed at ``draws`` (default: the
    question's ``engine.draws`` and 40,000); the summary's top level is at ``engine.draws``.
    """
    from forecast.config import load_question
    from forecast.engine import exact_forecast, prior_forecast
    from forecast.ledger import load_ledger

    seed_items = load_ledger(load_question(SEED_QUESTION))
    summary = {}
    for k in ks:
        config = load_question(question_with_k(work, k))
        keep = set(config.variables) | set(config.bases)
        items = [it for it in seed_items if it.bears_on in keep]
        default = config.model.engine.draws
        exact_forecast(config, items, n=2000)  # maxent fits and imports: not timed
        entry: dict = {"states": 2**k, "items": len(items), "draws": default, "by_draws": {}}
        for n in sorted(set(draws or [default, 40_000])):
            times, prior_times = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                prior_forecast(config, n=n, enumerate=False)
                prior_times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                fc = exact_forecast(config, items, n=n)
                times.append(time.perf_counter() - t0)
            d = fc.fit.diagnostics
            t, t_prior = median(times), median(prior_times)
            record("evidence", f"exact_forecast_{n}", k, seconds=t,
                   note=f"{2**k} states, {n} draws, {len(items)} items; k-hat "
                        f"{d['pareto_khat']:.2f}, effective draws {d['ess_bulk_min']:.0f}, gate "
                        f"{'passed' if d['passed'] else 'FAILED'}")
            record("evidence", f"prior_draws_{n}", k, seconds=t_prior)
            entry["by_draws"][str(n)] = {
                "exact_s": t, "prior_draws_s": t_prior,
                "ns_per_draw_state": 1e9 * (t - t_prior) / (n * 2**k),
                "khat": d["pareto_khat"], "ess": d["ess_bulk_min"], "passed": d["passed"]}
        top = entry["by_draws"].get(str(default)) or next(iter(entry["by_draws"].values()))
        entry.update(top)
        if str(default) not in entry["by_draws"]:
            entry["draws"] = int(next(iter(entry["by_draws"])))
        summary[k] = entry
    return summary


def bench_profile(work: Path, results: Path) -> dict:
    """Where the time of one `forecast update` and one `forecast run` goes (exact engine,
    warm caches, as typed: no --json): imports and functions."""
    warm_env = fresh_cache(work, "warm")
    wanted = ["forecast/cli/main.py:main", "forecast/cli/questions.py:_run_one",
              "forecast/workflow.py:run_question", "forecast/cli/news.py:cmd_update",
              "forecast/workflow.py:save_posterior", "forecast/config/load.py:load_question",
              "forecast/ledger/storage.py:load_ledger", "forecast/ledger/storage.py:read_ledger",
              "forecast/ledger/storage.py:append_item", "forecast/ledger/evidence.py:evidence_from",
              "forecast/news.py:update", "forecast/engine.py:compute",
              "forecast/engine.py:exact_forecast", "forecast/engine.py:prior_forecast",
              "forecast/posterior.py:probabilities", "forecast/posterior.py:to_dict",
              "forecast/prior.py:draw", "forecast/elicit.py:_constrained",
              "forecast/elicit.py:check_intervals", "forecast/exact.py:enumerate_states",
              "forecast/psis.py:psislw", "forecast/store.py:save_draws",
              "forecast/tables.py:headline_table", "forecast/charts/headline.py:plot_headline",
              "forecast/charts/theme.py:save", "forecast/findings.py:key_judgements"]
    summary = {}
    for name in ("update", "run"):
        def command(i, name=name):
            q = copy_question(SEED_QUESTION, work / "profile" / f"{name}{i}" /
                              "russia_syria_bases", ledger=True)
            out = work / "profile" / f"{name}-out{i}"
            return [name, str(q), "--out", str(out), *(ITEM_ARGS if name == "update" else [])]

        s, _, _, err, code = run_timed([PY, "-X", "importtime", "-m", "forecast", *command(0)],
                                       env=warm_env)
        check(code, err, f"importtime {name}")
        imports = []
        for line in err.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
            if m:
                imports.append((int(m.group(2)), len(m.group(3)), m.group(4)))
        top_level = sorted([i for i in imports if i[1] <= 1], reverse=True)
        total_import = sum(c for c, _, _ in top_level) / 1e6
        lines = [f"{c / 1e6:7.3f} s  {mod}" for c, _, mod in top_level[:25]]
        (results / f"{name}_importtime.txt").write_text(
            f"python -X importtime -m forecast {name} (exact engine, warm caches): cumulative "
            f"import time of top-level modules (total {total_import:.2f} s of a {s:.2f} s "
            f"run)\n" + "\n".join(lines) + "\n")
        for c, _, mod in top_level[:12]:
            record("profile", f"{name}_import", mod, seconds=c / 1e6)

        prof = work / f"{name}.prof"
        s_prof, _, _, err, code = run_timed(
            [PY, "-m", "cProfile", "-o", str(prof), "-m", "forecast", *command(1)], env=warm_env)
        check(code, err, f"cProfile {name}")
        buf = io.StringIO()
        stats = pstats.Stats(str(prof), stream=buf)
        stats.sort_stats("cumulative").print_stats(45)
        (results / f"{name}_cprofile.txt").write_text(buf.getvalue())
        stages: dict[str, float] = {}  # the library's own stages, by cumulative time
        for (filename, _, func), (_, _, _, cum, _) in stats.stats.items():
            for want in wanted:
                where, _, fn = want.partition(":")
                if func == fn and filename.endswith(where):
                    stages[want] = max(stages.get(want, 0.0), cum)
        for stage, cum in sorted(stages.items(), key=lambda x: -x[1]):
            record("profile", f"{name}_stage", stage, seconds=cum)
        summary[name] = {"import_s": total_import, "wall_s": s, "profiled_wall_s": s_prof,
                         "stages": dict(sorted(stages.items(), key=lambda x: -x[1])),
                         "top_imports": [(mod, c / 1e6) for c, _, mod in top_level[:8]]}
    return summary


def bench_in_process_update(work: Path, repeats: int) -> dict:
    """`forecast update` inside a warm Python process: the cost without imports."""
    from forecast.cli import main

    fits = ensure_nuts_ledger_fit(work)
    summary = {}
    for engine in ("exact", "nuts"):
        times = []
        for i in range(max(repeats, 5)):
            q = copy_question(SEED_QUESTION, work / "inproc" / f"{engine}{i}" /
                              "russia_syria_bases", ledger=True)
            out = work / "inproc" / f"{engine}-out{i}"
            if engine == "nuts":
                shutil.copytree(fits, results_of(out, q) / "fits")
            sink = io.StringIO()
            stdout, sys.stdout = sys.stdout, sink
            try:
                t0 = time.perf_counter()
                code = main(["update", str(q), "--out", str(out), "--json", "--engine", engine,
                             *ITEM_ARGS])
                times.append(time.perf_counter() - t0)
            finally:
                sys.stdout = stdout
            assert code == 0, f"in-process update ({engine}) exited {code}"
            if i:  # the first call pays for imports
                record("update", f"in_process_warm_{engine}", i, seconds=times[-1],
                       note=json.loads(sink.getvalue())["diagnostics"]["path"])
        summary[engine] = {"first_s": times[0], "warm_s": median(times[1:])}
    return summary


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


def bench_notebooks(results: Path) -> dict:
    """The notebooks executed as the test suite does; its output goes to notebooks_pytest.txt."""
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        record("notebooks", "suite", 0, note="no notebooks/*.ipynb")
        return {"n": 0}
    s, rss, stdout, stderr, code = run_timed(
        [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=15",
         "tests/system/test_notebooks.py"])
    (results / "notebooks_pytest.txt").write_text(
        f"pytest -q tests/system/test_notebooks.py: exit {code}, {s:.1f} s\n\n{stdout[-20000:]}"
        f"{stderr[-5000:]}")
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
            for key in list(row):
                if key not in ("benchmark", "variant", "param", "note") and row[key]:
                    row[key] = float(row[key])
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
              *(f"p_keep_{b}" for b in BASES), *(f"mcse_{b}" for b in BASES), "ess"]
    fields += [*sorted({k for r in ROWS for k in r} - {*fields, "note"}), "note"]
    with open(results / "benchmarks.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for row in ROWS:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v)
                             for k, v in row.items() if k in fields})
    (results / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    ax = axes[0, 0]
    run = {k: v for k, v in summary.get("run", {}).items() if k != "ratios"}
    if run:
        names = list(run)
        secs = [run[n]["seconds"] for n in names]
        colors = ["#2ca02c" if n.startswith("exact") else "#1f77b4" if n.startswith("nuts")
                  else "#7f7f7f" for n in names]
        bars = ax.bar(names, secs, color=colors)
        for b, n in zip(bars, names, strict=True):
            ax.annotate(f"{run[n]['seconds']:.1f} s\n{run[n]['peak_rss_mb']:.0f} MB",
                        (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                        va="bottom", fontsize=8)
        ax.axhline(TARGETS["run_warm_s"], ls="--", c="k", lw=0.8)
        ax.axhline(TARGETS["run_cold_s"], ls=":", c="k", lw=0.8)
        ax.set_yscale("log")
        ax.set_ylim(min(*secs, TARGETS["run_warm_s"]) / 2, max(secs) * 3)
        ax.set_ylabel("wall seconds (median, log)")
        ratios = summary["run"].get("ratios", {})
        typed, bare = (ratios.get(m, {}).get("speedup", float("nan"))
                       for m in ("warm", "warm_json"))
        ax.set_title(f"forecast run: exact {typed:.1f}x faster than nuts warm ({bare:.1f}x with "
                     "--json);\ntargets: >= 10x, warm < 2 s, cold < 5 s", fontsize=9)
        ax.tick_params(axis="x", labelsize=7, labelrotation=25)
    ax = axes[0, 1]
    upd = summary.get("update")
    if upd:
        names = ["exact", "nuts"]
        ax.bar([f"update ({n})" for n in names], [upd[n]["seconds"] for n in names],
               color=["#2ca02c", "#1f77b4"])
        ax.axhline(TARGETS["update_s"], ls="--", c="k", lw=0.8)
        ax.set_ylabel("wall seconds (median)")
        ax.set_title(f"forecast update, one new item (target < {TARGETS['update_s']} s)")
    ax = axes[1, 0]
    led = summary.get("ledger")
    if led:
        ns = sorted(n for n in led if not led[n].get("skipped"))
        ax.loglog(ns, [led[n]["update_s"] for n in ns], "o-", label="forecast update (wall)")
        ax.loglog(ns, [led[n]["read_s"] for n in ns], "s-", label="ledger read + validate")
        ax.loglog(ns, [led[n]["append_s"] for n in ns], "^-", label="append (in process)")
        ref = led[ns[-1]]["read_s"]
        ax.loglog(ns, [ref * n / ns[-1] for n in ns], "k:", lw=0.8, label="linear")
        ax.set_xlabel("items in the ledger")
        ax.set_ylabel("seconds")
        ax.set_title("cost against ledger length")
        ax.legend(fontsize=8)
    ax = axes[1, 1]
    evd = summary.get("evidence")
    if evd:
        ks = sorted(evd)
        for n in evd[ks[-1]].get("by_draws", {}):
            ax.semilogy(ks, [evd[k]["by_draws"][n]["exact_s"] for k in ks], "o-",
                        label=f"exact_forecast, {int(n):,} draws")
            ax.semilogy(ks, [evd[k]["by_draws"][n]["prior_draws_s"] for k in ks], "s:",
                        label=f"of which prior draws ({int(n):,})")
        ax.set_xticks(ks)
        ax.set_xlabel("evidence variables K (2**K states)")
        ax.set_ylabel("seconds (log)")
        ax.set_title("exact engine against the number of evidence variables")
        ax.legend(fontsize=8)
    fig.suptitle(f"forecast benchmarks ({dt.datetime.now():%Y-%m-%d %H:%M}, "
                 f"{os.cpu_count()} cores)")
    fig.tight_layout()
    fig.savefig(results / "benchmarks.png", dpi=120)
    plt.close(fig)


def met(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def print_summary(summary: dict) -> None:
    print("\n=== summary (medians) ===")
    run = summary.get("run")
    if run:
        for name, r in run.items():
            if name == "ratios":
                continue
            ps = "  ".join(f"{b} {r[f'p_keep_{b}']:.4f} ±{r[f'mcse_{b}']:.4f}" for b in BASES)
            print(f"{name:16} {r['seconds']:7.2f} s  peak {r['peak_rss_mb']:6.0f} MB  P(keep) "
                  f"{ps}  ({r['note']})")
        for mode, rat in run["ratios"].items():
            print(f"exact vs nuts ({mode}): {rat['speedup']:.1f}x faster; vs plain PyMC "
                  f"{rat['speedup_vs_plain']:.1f}x")
            for b, r in rat["bases"].items():
                print(f"  {b}: exact - nuts {r['dp_pp']:+.2f} pp = {r['z']:+.2f} combined "
                      f"MCSEs; at equal MCSE exact is {r['equal_mcse_speedup']:.1f}x faster")
        rat = run["ratios"]["warm"]
        warm, cold = run["exact_warm"]["seconds"], run["exact_cold"]["seconds"]
        print(f"target run >= {TARGETS['exact_vs_nuts_warm']:.0f}x faster than --engine nuts "
              f"(warm): {met(rat['speedup'] >= TARGETS['exact_vs_nuts_warm'])} "
              f"({rat['speedup']:.1f}x)")
        print(f"target run warm < {TARGETS['run_warm_s']} s: "
              f"{met(warm < TARGETS['run_warm_s'])} ({warm:.2f} s)")
        print(f"target run cold < {TARGETS['run_cold_s']} s: "
              f"{met(cold < TARGETS['run_cold_s'])} ({cold:.2f} s)")
    upd = summary.get("update")
    if upd:
        for engine in ("exact", "nuts"):
            r = upd[engine]
            print(f"update ({engine}) {r['seconds']:.2f} s, peak {r['peak_rss_mb']:.0f} MB, "
                  f"P(keep) " + ", ".join(f"{b} {r[f'p_keep_{b}']:.4f}" for b in BASES)
                  + f" ({r['note']})")
        print("  exact - nuts: " + "; ".join(f"{b} {r['dp_pp']:+.2f} pp = {r['z']:+.2f} MCSEs"
                                             for b, r in upd["bases"].items()))
        e = upd["exact"]["seconds"]
        print(f"target update < {TARGETS['update_s']} s: {met(e < TARGETS['update_s'])} "
              f"({e:.2f} s)")
    inproc = summary.get("update_in_process")
    if inproc:
        for engine, r in inproc.items():
            print(f"update in a warm process ({engine}): first {r['first_s']:.2f} s, "
                  f"then {r['warm_s']:.3f} s")
    led = summary.get("ledger")
    if led:
        for n, r in sorted(led.items()):
            if r.get("skipped"):
                print(f"ledger {n:6d} items: skipped (would need about {r['need_gb']:.0f} GB)")
                continue
            print(f"ledger {n:6d} items: update {r['update_s']:6.2f} s, read+validate "
                  f"{r['read_s']:.3f} s, append {r['append_s']:.3f} s ({r['path']})")
        ns = sorted(n for n in led if not led[n].get("skipped"))
        if len(ns) > 2:
            slope = np.polyfit(np.log(ns[1:]), np.log([led[n]["read_s"] for n in ns[1:]]), 1)[0]
            print(f"ledger read cost grows as N^{slope:.2f} (1 = linear)")
    evd = summary.get("evidence")
    if evd:
        for k, entry in sorted(evd.items()):
            for n, r in entry.get("by_draws", {}).items():
                print(f"K={k:2d} ({entry['states']:5d} states, {int(n):6d} draws, "
                      f"{entry['items']} items): exact_forecast {r['exact_s']:.3f} s (prior draws "
                      f"{r['prior_draws_s']:.3f} s; {r['ns_per_draw_state']:.1f} ns per "
                      f"draw-state), k-hat {r['khat']:.2f}, "
                      f"gate {'passed' if r['passed'] else 'FAILED'}")
    prof = summary.get("profile")
    if prof:
        for name, p in prof.items():
            print(f"{name} profile: {p['import_s']:.2f} s of imports in a {p['wall_s']:.2f} s "
                  f"run; top imports: " + ", ".join(f"{n} {s:.2f}s" for n, s in p["top_imports"]))
    pr = summary.get("priors")
    if pr:
        print(f"forecast reference compare (3 prior sources, importance sampling): "
              f"{pr['compare_s']:.2f} s, max k-hat {pr['khat_max']:.2f}")
    nb = summary.get("notebooks")
    if nb:
        if nb["n"]:
            print(f"notebooks: {nb['n']} .ipynb, suite {nb['seconds']:.1f} s ({nb['last']}); "
                  f"target < {TARGETS['notebooks_s']:.0f} s: "
                  f"{met(nb['seconds'] < TARGETS['notebooks_s'])}")
        else:
            print("notebooks: no notebooks/*.ipynb")
    loads = summary.get("load")
    if loads:
        print("load average (1/5/15 min) before and after each step: "
              + "; ".join(f"{k} {v['before']} -> {v['after']}" for k, v in loads.items()))


def main(argv=None) -> int:
    global ROOT, SEED_QUESTION
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 repeat, small sizes")
    parser.add_argument("--only",
                        default="run,update,ledger,evidence,profile,priors,notebooks")
    parser.add_argument("--evidence-draws", default=None, metavar="N[,N...]",
                        help="draws of the K-scaling step (default: engine.draws and 40000)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--in-place", action="store_true",
                        help="measure the working tree itself, not a copy taken at the start")
    parser.add_argument("--merge", action="store_true",
                        help="keep earlier results of the steps not in --only")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    evidence_draws = ([int(n) for n in args.evidence_draws.split(",")]
                      if args.evidence_draws else None)
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
    summary.setdefault("load", {})
    if not args.in_place:
        ROOT = snapshot(work)
        SEED_QUESTION = ROOT / "priors" / "russia_syria_bases"
        # Subprocesses (and notebook kernels) import forecast from the copy, and so does this
        # process (nothing has imported it yet).
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
        sys.path.insert(0, str(ROOT))
        where = subprocess.run([PY, "-c", "import forecast; print(forecast.__file__)"], cwd="/",
                               capture_output=True, text=True, check=True).stdout.strip()
        if not Path(where).is_relative_to(ROOT):
            raise SystemExit(f"the copy is not what gets imported ({where}): use --in-place")
    summary["code"] = {"measured": str(ROOT), "measured_state": code_state(ROOT),
                       "tree_state": {"start": code_state(REPO)}}
    try:
        steps = [
            ("run", lambda: bench_run(work, repeats)),
            ("update", lambda: bench_update(work, repeats)),
            ("update_in_process", lambda: bench_in_process_update(work, repeats)),
            ("ledger", lambda: bench_ledger(work, repeats, [10, 100, 1000] if args.quick
                                            else [10, 100, 1000, 10000])),
            ("evidence", lambda: bench_evidence(work, [3, 6, 9] if args.quick
                                                else [3, 6, 9, 12], repeats,
                                                evidence_draws)),
            ("profile", lambda: bench_profile(work, args.out)),
            ("priors", lambda: bench_priors(work, repeats)),
            ("notebooks", lambda: bench_notebooks(args.out)),
        ]
        for name, step in steps:
            if name.split("_")[0] not in only:
                continue
            t0 = time.perf_counter()
            before = load()
            print(f"[{dt.datetime.now():%H:%M:%S}] {name} ... (load {before})", flush=True)
            summary[name] = step()
            summary["load"][name] = {"before": before, "after": load()}
            summary["code"]["tree_state"][name] = code_state(REPO)
            summary.setdefault("measured_state_by_step", {})[name] = summary["code"][
                "measured_state"]
            print(f"    done in {time.perf_counter() - t0:.0f} s", flush=True)
            write_outputs(args.out, summary)  # keep partial results if a later step fails
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_summary(summary)
    code = summary["code"]
    print(f"measured: {'a copy of the tree taken at the start' if not args.in_place else 'the '
                       'working tree'}, state {code['measured_state']}")
    if len(set(code["tree_state"].values())) > 1:
        print(f"note: the working tree changed while the benchmark ran ({code['tree_state']})"
              + ("; the copy measured did not" if not args.in_place else
                 "; the steps measured different code"), file=sys.stderr)
    print(f"\nwrote {args.out / 'benchmarks.csv'}, {args.out / 'benchmarks.png'}, "
          f"{args.out / 'summary.json'}")
    if summary.get("notebooks", {}).get("exit"):
        print("FAILED: the notebook suite did not pass (see benchmarks.csv)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
