"""``forecast validate``, ``run`` and ``new``: a question's files, its forecast, a new one."""

from __future__ import annotations

import io
import json
import os
import sys
import textwrap
import warnings
from pathlib import Path

from forecast import fmt
from forecast.cli.common import (
    DEFAULT_QUESTION,
    EXIT_INPUT,
    EXIT_UNCONVERGED,
    NOT_ISSUED,
    exit_code,
    headless,
    issued_text,
    pct,
)
from forecast.errors import ConfigError, LedgerError, LockedError


def forecast_text(fc, table) -> str:
    """The forecast as ``forecast run`` prints it: title, line per outcome, diagnostics."""
    q = fc.config.question
    lines = [q.title,
             f"as of {fc.as_of} | horizon {q.horizon} | {len(fc.evidence.item_ids)} news items | "
             f"path: {fc.path}" + (f" (Pareto k-hat {fc.khat:.2f})" if fc.khat is not None
                                   else ""),
             f"priors: {fc.config.prior_source}"]
    width = max(len(s) for s in table["label"]) + 2
    mass = f"{fc.config.model.credible_mass:.0%} interval"
    lines.append(f"{'':{width}} {fc.config.wording.probability:>7}   {mass:16}  MCSE")
    for _, r in table[table["stage"] == "posterior"].iterrows():
        lines.append(f"{r['label']:{width}} {pct(r['p'])}   [{pct(r['lower'])}, "
                     f"{pct(r['upper'])}]   {r['mcse']:.4f}  {r['word']}")
    d = fc.diagnostics()
    gate = "PASSED" if d["converged"] else "FAILED: " + "; ".join(fc.fit.diagnostics["failures"])
    if fc.engine == "exact":
        lines.append(f"engine: exact ({fc.fit.shape[1]:,} prior draws weighted by the news) | "
                     f"Pareto k-hat {d.get('pareto_khat', 0.0):.2f} | effective draws "
                     f"{d['ess_bulk_min']:,.0f} | gate {gate}")
    else:
        lines.append(f"engine: nuts | R-hat max {d['r_hat_max']:.4f} | bulk ESS min "
                     f"{d['ess_bulk_min']:.0f} | divergences {d['divergences']} | gate {gate}")
    lines += [f"note: {note}" for note in fc.notes]
    return "\n".join(lines)


def cmd_validate(args) -> int:
    """``forecast validate``: check a question's files; list values still marked TODO."""
    from forecast.record import RECORD_FILE
    from forecast.workflow import validate_question

    v = validate_question(args.question)  # near-point intervals: main prints the warnings
    config = v.config
    print(f"OK: {config.directory} ({config.id}): {len(config.bases)} outcomes, "
          f"{len(config.variables)} evidence variables, {v.n_items} news items, "
          f"{len(config.scenarios)} named scenarios; priors: {config.prior_source}")
    if config.linked is not None:
        print(f"reference_priors.yaml: current (generated {config.linked.generated})")
    for problem in config.link_problems:  # unused by this prior source, but say so
        print(f"note: reference_priors.yaml is not usable: {problem}")
    if v.n_issued is not None:
        print(f"{RECORD_FILE}: {fmt.counted(v.n_issued, 'issued forecast')}")
    if v.todo:
        level = "error" if args.strict else "warning"
        print(f"{level}: {fmt.counted(len(v.todo), 'value')} still marked "
              "TODO (valid, but not yet the analyst's):", file=sys.stderr)
        for line in v.todo:
            print(f"  {line}", file=sys.stderr)
        if args.strict:
            return EXIT_INPUT
    return 0


def _run_one(question: Path, out: Path, seed: int | None, as_json: bool,
             progressbar: bool, prior_source: str | None = None,
             engine: str | None = None, issue: bool = False) -> tuple[dict, int, str]:
    """Fit one question and write its files; return its JSON, exit code and printed text.

    Run in this process or in a worker's: the text is returned, not printed, so that
    the parent prints each question's whole in the order given.
    """
    from forecast.findings import key_judgements
    from forecast.workflow import RUN_FILES, run_question

    headless()
    r = run_question(question, out, seed=seed, prior_source=prior_source, engine=engine,
                     issue=issue, progressbar=progressbar)
    text = io.StringIO()
    if not as_json:
        print(forecast_text(r.forecast, r.table), file=text)
        print("", file=text)
        for paragraph in str(key_judgements(r.forecast, r.items)).split("\n\n"):
            print(textwrap.fill(paragraph, 96), file=text)
        print(f"wrote {r.directory}/: {', '.join(RUN_FILES)}", file=text)
    if issue:  # after the files are written: what is issued is what the analyst was shown
        said = issued_text(r.issued, r.forecast.config) if r.passed else NOT_ISSUED
        print(said, file=sys.stderr if as_json else text)
    return r.summary, 0 if r.passed else EXIT_UNCONVERGED, text.getvalue()


def _quiet_worker() -> None:
    """A ``forecast run`` worker process: the parent has already shown the input's warnings."""
    from forecast.elicit import DegenerateIntervalWarning

    warnings.simplefilter("ignore", DegenerateIntervalWarning)


def _run_parallel(questions: list, args) -> tuple[list, BaseException | None]:
    """One process per question, as many at once as there are cores.

    Spawned, not forked: this process may already run threads (BLAS, compilers), and
    a fork copies their locks in whatever state they are, which can deadlock the child.
    One question's error is said under its name; the others still finish. A fault of
    the program is returned, to be raised (its traceback last) after the others print.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    crash = None
    workers = min(len(questions), os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers, initializer=_quiet_worker,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_run_one, Path(q), args.out, args.seed, args.json, False,
                               args.prior_source, args.engine, args.issue) for q in questions]
        outcomes = []
        for q, future in zip(questions, futures, strict=True):
            try:
                outcomes.append(future.result())
            except (ConfigError, LedgerError, LockedError) as exc:
                print(f"error: {q}: {exc}", file=sys.stderr)
                outcomes.append((None, exit_code(exc), ""))
            except Exception as exc:
                print(f"error: {q}: {type(exc).__name__}: {exc}", file=sys.stderr)
                outcomes.append((None, 1, ""))
                crash = crash or exc
    return outcomes, crash


def cmd_run(args) -> int:
    """``forecast run``: fit (or reuse) each question's posterior and write its files."""
    from forecast.workflow import check_questions

    questions = args.questions or [DEFAULT_QUESTION]
    # Everything is validated before anything is written; its warnings are printed once
    # here (not by the worker processes).
    check_questions(questions, prior_source=args.prior_source, issue=args.issue)
    bar = not args.json and sys.stderr.isatty()
    crash = None
    if len(questions) == 1:
        outcomes = [_run_one(Path(questions[0]), args.out, args.seed, args.json, bar,
                             args.prior_source, args.engine, args.issue)]
    else:
        outcomes, crash = _run_parallel(questions, args)
    for _, _, text in outcomes:
        print(text, end="")
    if args.json:
        results = [r for r, _, _ in outcomes if r is not None]
        print(json.dumps(results[0] if len(questions) == 1 else results, indent=2))
    if crash is not None:
        raise crash
    return max(code for _, code, _ in outcomes)


def cmd_new(args) -> int:
    """``forecast new``: scaffold a question directory from the template."""
    from forecast.scaffold import new_question

    path = new_question(args.name, root=args.root)
    print(f"created {path}: edit its files, then run: forecast validate {path}")
    return 0
