"""The ``forecast`` command line.

One job: parse arguments, call the library, print a table or JSON, and map
every input error to a clear message on stderr and exit status 2 (3 when the
sampler fails its convergence gate, 4 when another writer holds the ledger's or the
record's lock too long). Nothing is written when input is bad.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import sys
import textwrap
import warnings
from pathlib import Path

from forecast.config import ConfigError, load_question, placeholders, repo_path
from forecast.errors import LockedError
from forecast.ledger import LR_BOUNDS, LedgerError

#: The question every command takes by default: the repository's, wherever the command runs.
DEFAULT_QUESTION = repo_path(Path("priors") / "russia_syria_bases")
EXIT_INPUT, EXIT_UNCONVERGED, EXIT_LOCKED = 2, 3, 4
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a program killed by it


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write YYYY-MM-DD, e.g. 2026-11-20") from None


class _TypedRatio(float):
    """A ``--lr`` number that remembers how the user typed it (for error messages)."""

    typed: str


class _TypedInterval(dict):
    """A ``--lr`` interval ``{lower, upper}`` that remembers how the user typed it."""

    typed: str


#: What ``--lr`` takes, in the syntax of the command line.
LR_RULE = (f"give a likelihood ratio between {LR_BOUNDS[0]:g} and {LR_BOUNDS[1]:g} (1 = no "
           "update), like 3, or an interval LOW:HIGH of two such numbers with LOW below HIGH, "
           "like 2:5")


def _lr(text: str):
    """``3`` or ``2:5`` (an interval), remembering the text as typed."""
    try:
        if ":" in text:
            lo, hi = text.split(":", 1)
            value = _TypedInterval(lower=float(lo), upper=float(hi))
        else:
            value = _TypedRatio(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a likelihood ratio: {LR_RULE}"
                                         ) from None
    value.typed = text
    return value


def _lr_refusal(value) -> str:
    """Why the item's validator refused ``--lr``, said in the syntax the user typed."""
    lo, hi = LR_BOUNDS
    typed = getattr(value, "typed", str(value))
    if isinstance(value, dict):
        low, high = (s.strip() for s in typed.split(":", 1))
        bad = [s for s, k in ((low, "lower"), (high, "upper"))
               if not (math.isfinite(value[k]) and lo <= value[k] <= hi)]
        if bad:
            why = (f"{' and '.join(bad)} {'are' if len(bad) > 1 else 'is'} not between "
                   f"{lo:g} and {hi:g}")
        elif value["lower"] > value["upper"]:
            why = f"the low end comes first (did you mean {high}:{low}?)"
        elif value["lower"] == value["upper"]:
            why = f"the two ends are equal; for a single value write {low}"
        else:
            why = "not a usable interval"
    elif not math.isfinite(value):
        why = "not a finite number"
    else:
        why = f"not between {lo:g} and {hi:g}" if value > 0 else "a ratio must be above 0"
    return f"--lr {typed}: {why}; {LR_RULE}"


#: Item fields and the flags of ``forecast update`` that give them.
_FLAGS = {"id": "--id", "date": "--date", "headline": "--headline", "source": "--source",
          "url": "--url", "reliability": "--reliability", "bears_on": "--bears-on",
          "lr": "--lr", "cluster": "--cluster", "thread": "--thread", "notes": "--notes"}


def _as_flags(message: str, where: str, args) -> str:
    """An item's error lines, with its fields named by the flags that gave them."""
    lines = []
    for line in message.splitlines():
        field, sep, rest = line.removeprefix(f"{where}: ").partition(": ")
        if not line.startswith(f"{where}: ") or not sep or field not in _FLAGS:
            lines.append(line)
        elif field == "lr":
            lines.append(f"{where}: {_lr_refusal(args.lr)}")
        elif field == "id" and args.id is None:  # the id was made from --date and --headline
            lines.append(f"{line}; give the item another with --id")
        else:
            lines.append(f"{where}: {_FLAGS[field]}: {rest}")
    return "\n".join(lines)


def _pct(p: float) -> str:
    return f"{100 * p:5.1f}%"


def _print_forecast(fc, table, stream=sys.stdout) -> None:
    q = fc.config.question
    print(q.title, file=stream)
    print(
        f"as of {fc.as_of} | horizon {q.horizon} | {len(fc.evidence.item_ids)} news items | "
        f"path: {fc.path}" + (f" (Pareto k-hat {fc.khat:.2f})" if fc.khat is not None else ""),
        file=stream,
    )
    print(f"priors: {fc.config.prior_source}", file=stream)
    width = max(len(s) for s in table["label"]) + 2
    mass = f"{fc.config.model.credible_mass:.0%} interval"
    prob = fc.config.wording.probability
    print(f"{'':{width}} {prob:>7}   {mass:16}  MCSE", file=stream)
    for _, r in table[table["stage"] == "posterior"].iterrows():
        print(
            f"{r['label']:{width}} {_pct(r['p'])}   [{_pct(r['lower'])}, {_pct(r['upper'])}]"
            f"   {r['mcse']:.4f}  {r['word']}",
            file=stream,
        )
    d = fc.diagnostics()
    gate = "PASSED" if d["converged"] else "FAILED: " + "; ".join(fc.fit.diagnostics["failures"])
    if fc.engine == "exact":
        print(f"engine: exact ({fc.fit.shape[1]:,} prior draws weighted by the news) | "
              f"Pareto k-hat {d.get('pareto_khat', 0.0):.2f} | effective draws "
              f"{d['ess_bulk_min']:,.0f} | gate {gate}", file=stream)
    else:
        print(
            f"engine: nuts | R-hat max {d['r_hat_max']:.4f} | bulk ESS min "
            f"{d['ess_bulk_min']:.0f} | divergences {d['divergences']} | gate {gate}",
            file=stream,
        )
    for note in fc.notes:
        print(f"note: {note}", file=stream)


def cmd_validate(args) -> int:
    """``forecast validate``: check a question's files; list values still marked TODO."""
    from forecast.ledger import load_ledger

    config = load_question(args.question)
    items = load_ledger(config)
    print(
        f"OK: {config.directory} ({config.id}): {len(config.bases)} outcomes, "
        f"{len(config.variables)} evidence variables, {len(items)} news items, "
        f"{len(config.scenarios)} named scenarios; priors: {config.prior_source}"
    )
    if config.linked is not None:
        print(f"reference_priors.yaml: current (generated {config.linked.generated})")
    for problem in config.link_problems:  # unused by this prior source, but say so
        print(f"note: reference_priors.yaml is not usable: {problem}")
    from forecast.record import read_record, record_path

    if record_path(config).exists():  # a line that fails to parse: exit 2, naming it
        print(f"{record_path(config).name}: {len(read_record(config))} issued forecast(s)")
    from forecast.elicit import check_intervals

    check_intervals(config)  # near-point intervals: main prints them as "warning: ..." lines
    todo = placeholders(config.directory)
    if todo:
        print(f"{'error' if args.strict else 'warning'}: {len(todo)} value(s) still marked "
              "TODO (valid, but not yet the analyst's):", file=sys.stderr)
        for line in todo:
            print(f"  {line}", file=sys.stderr)
        if args.strict:
            return EXIT_INPUT
    return 0


def _link(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` atomically (hard link, or copy across file systems)."""
    from forecast.files import atomic_link

    atomic_link(src, dst)


def _headless() -> None:
    """Charts are files here: draw without a screen, whatever the desktop offers.

    Only the commands that draw call it, and only for this process: the library
    never picks a backend (so notebooks show charts inline), and the environment
    is left alone (a kernel started from this process must not inherit Agg).
    """
    import matplotlib

    matplotlib.use("Agg")


def _save_posterior(fc, path: Path) -> None:
    """``posterior.nc``: the NUTS fit (linked), or the exact engine's weighted draws."""
    if fc.engine == "nuts":
        _link(fc.fit.path, path)
        return
    from forecast.store import save_draws

    v = fc.values
    save_draws(path, config=fc.config, evidence=fc.evidence, key=fc.fit.key, seed=fc.fit.seed,
               diagnostics=fc.fit.diagnostics, log_weights=fc.log_weights,
               draws={"p_keep": (("base",), v.p_keep), "p_all": ((), v.p_all),
                      "p_any": ((), v.p_any), "p_state_post": (("evidence",), v.p_state)})


def _run_one(question: Path, out: Path, seed: int | None, as_json: bool,
             progressbar: bool, prior_source: str | None = None,
             engine: str | None = None, issue: bool = False) -> tuple[dict, int, str]:
    """Fit one question and write its files; return its JSON, exit code and printed text."""
    import io

    _headless()
    from forecast.charts import plot_headline, save
    from forecast.charts.theme import footer_text
    from forecast.engine import compute, prior_forecast
    from forecast.files import atomic_write
    from forecast.ledger import read_ledger
    from forecast.store import results_dir
    from forecast.tables import headline_table

    config = load_question(question)
    target = results_dir(out, config, claim=True)
    if prior_source is not None and prior_source != config.prior_source:
        # Another source than model.yaml's: its own folder, never over the default results.
        config = config.with_prior_source(prior_source)
        target = target / f"prior_source-{prior_source}"
    items, ledger_raw = read_ledger(config)
    fc = compute(config, items, out=out, seed=seed, allow_reweight=False,
                 progressbar=progressbar, engine=engine)
    prior = prior_forecast(config, seed=seed)
    table = headline_table(fc, prior=prior)
    target.mkdir(parents=True, exist_ok=True)
    _save_posterior(fc, target / "posterior.nc")
    result = fc.to_dict()
    atomic_write(target / "forecast.json", (json.dumps(result, indent=2) + "\n").encode())
    atomic_write(target / "headline.csv", table.to_csv(index=False).encode())
    fig = plot_headline(table, title=config.question.title, footer_text=footer_text(fc),
                        mass=config.model.credible_mass, xlabel=config.wording.axis)
    save(fig, target, "headline", formats=("png",))
    issued = None
    if issue:  # after the files are written: what is issued is what the analyst was shown
        issued = (_issue(fc, items, ledger_raw) if fc.fit.diagnostics["passed"] else
                  "WARNING: not issued into the record: the forecast FAILED its convergence "
                  "gate")
    text = io.StringIO()
    if not as_json:
        from forecast.findings import key_judgements

        _print_forecast(fc, table, stream=text)
        print("", file=text)
        for paragraph in str(key_judgements(fc, items)).split("\n\n"):
            print(textwrap.fill(paragraph, 96), file=text)
        print(f"wrote {target}/: posterior.nc, forecast.json, headline.csv, headline.png",
              file=text)
    if issued is not None:
        print(issued, file=sys.stderr if as_json else text)
    return result, 0 if fc.fit.diagnostics["passed"] else EXIT_UNCONVERGED, text.getvalue()


def _issue(fc, items, ledger_raw) -> str:
    """Issue a forecast into its question's record; say where (``--issue``)."""
    from forecast.record import issue, record_path

    entry = issue(fc, items, ledger_raw)
    return (f"issued into {record_path(fc.config)} at {entry['issued']} (as of "
            f"{entry['as_of']}, {entry['ledger']['items']} items)")


def cmd_run(args) -> int:
    """``forecast run``: fit (or reuse) each question's posterior and write its files."""
    questions = args.questions or [DEFAULT_QUESTION]
    if args.issue and args.prior_source is not None:
        from forecast.record import RecordError

        for q in questions:
            if args.prior_source != load_question(q).prior_source:
                raise RecordError(f"--issue: the record holds the forecast under model.yaml's "
                                  f"prior_source, not {args.prior_source!r}; drop "
                                  "--prior-source to issue")
    from forecast.elicit import check_intervals
    from forecast.ledger import load_ledger

    for q in questions:  # validate everything before writing anything
        config = load_question(q, prior_source=args.prior_source)
        load_ledger(config)
        check_intervals(config)  # warnings, printed once here (not by the worker processes)
    bar = not args.json and sys.stderr.isatty()
    crash = None
    if len(questions) == 1:
        outcomes = [_run_one(Path(questions[0]), args.out, args.seed, args.json, bar,
                             args.prior_source, args.engine, args.issue)]
    else:
        # One process per question, as many at once as there are cores. Spawned, not
        # forked: this process may already run threads (BLAS, compilers), and a fork
        # copies their locks in whatever state they are, which can deadlock the child.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers = min(len(questions), os.cpu_count() or 1)
        with ProcessPoolExecutor(max_workers=workers, initializer=_quiet_worker,
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_run_one, Path(q), args.out, args.seed, args.json, False,
                                   args.prior_source, args.engine, args.issue)
                       for q in questions]
            outcomes = []
            for q, future in zip(questions, futures, strict=True):
                # One question's error is said under its name; the others still finish.
                try:
                    outcomes.append(future.result())
                except (ConfigError, LedgerError, LockedError) as exc:
                    print(f"error: {q}: {exc}", file=sys.stderr)
                    outcomes.append((None, _exit_code(exc), ""))
                except Exception as exc:  # a fault of the program: its traceback comes last
                    print(f"error: {q}: {type(exc).__name__}: {exc}", file=sys.stderr)
                    outcomes.append((None, 1, ""))
                    crash = crash or exc
    for _, _, text in outcomes:
        print(text, end="")
    if args.json:
        results = [r for r, _, _ in outcomes if r is not None]
        print(json.dumps(results[0] if len(questions) == 1 else results, indent=2))
    if crash is not None:
        raise crash
    return max(code for _, code, _ in outcomes)


def item_id_for(date: dt.date, headline: str, width: int = 40) -> str:
    """The id ``forecast update`` gives an item recorded without ``--id``.

    The date, then the headline in lower-case words joined by hyphens, cut to ``width``
    characters at a word boundary where one falls in the last three quarters.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", headline.lower()).strip("-")
    if len(slug) > width:
        cut = slug[: width + 1]  # the next character tells whether a word ends at ``width``
        boundary = cut.rfind("-")
        slug = cut[:boundary] if boundary > width // 4 else slug[:width]
    return f"{date.isoformat()}-{slug.strip('-') or 'item'}"


def _item_from_args(args):
    if args.item:
        from forecast.config import read_yaml

        try:
            data, _ = read_yaml(Path(args.item))
        except ConfigError as exc:
            raise LedgerError(str(exc)) from None
        if not isinstance(data, dict):
            raise LedgerError(f"{args.item}: (top level): expected a mapping of item fields")
        return data
    missing = [f"--{n.replace('_', '-')}" for n in ("date", "headline", "source", "reliability",
                                                    "bears_on", "lr") if getattr(args, n) is None]
    if missing:
        raise LedgerError(f"item: give --item FILE or all of: {', '.join(missing)}")
    data = {
        "id": args.id or item_id_for(args.date, args.headline),
        "date": args.date,
        "headline": args.headline,
        "source": args.source,
        "reliability": args.reliability,
        "bears_on": args.bears_on,
        "lr": args.lr,
    }
    for name in ("url", "cluster", "thread", "notes"):
        if getattr(args, name):
            data[name] = getattr(args, name)
    return data


def cmd_update(args) -> int:
    """``forecast update``: record one news item and print before -> after."""
    from forecast.news import update

    config = load_question(args.question)
    where = str(args.item) if args.item else "item (from the command line)"
    item = _item_from_args(args)
    try:
        result = update(config, item, out=args.out, seed=args.seed, progressbar=False,
                        where=where, engine=args.engine)
    except LedgerError as exc:
        if args.item:
            raise
        raise LedgerError(_as_flags(str(exc), where, args)) from None  # say it as typed
    after = result.after
    # The item is recorded either way; a refit that failed its gate is said loudly.
    code = 0 if after.fit.diagnostics["passed"] else EXIT_UNCONVERGED
    if code:
        print("WARNING: the refitted posterior FAILED its convergence gate ("
              + "; ".join(after.fit.diagnostics["failures"]) + "); do not brief this number",
              file=sys.stderr)
        if args.issue:
            print("WARNING: not issued into the record: the forecast FAILED its convergence "
                  "gate", file=sys.stderr)
    elif args.issue:  # the ledger is read again: it must still hold what the forecast saw
        issued = _issue(after, None, None)
        print(issued, file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
        return code
    print(f"recorded {result.item.id} ({result.item.date}, {result.item.reliability}, "
          f"bears on {result.item.bears_on})")
    khat = f" (Pareto k-hat {after.khat:.2f})" if after.khat is not None else ""
    print(f"path: {after.path}{khat}")
    print(_entered_text(config, result))
    _print_moves(config, result, after)
    return code


def _entered_text(config, result) -> str:
    """How the item entered: credibility, its ratio alone, and its thread's discount."""
    import math

    from forecast.ledger import item_credibility, item_loglr

    item, ev = result.item, result.after.evidence
    h = item_credibility(config, item.reliability)
    alone, entered = item_loglr(config, item), ev.entered.get(item.id, 0.0)
    text = (f"entered: credibility h = {h:.2f} ({item.reliability}), ratio alone "
            f"{math.exp(alone):.3g}")
    if item.cluster and item.id not in ev.counted:
        return text + f"; a repeat of cluster {item.cluster!r}: counted by a stronger item"
    if item.thread:
        n = sum(1 for i in result.ledger if i.thread == item.thread
                and i.bears_on == item.bears_on and i.id in ev.counted)
        rho = config.threads.dependence(item.thread)
        text += (f"; thread {item.thread} (rho {rho:g}): its {n} reports on {item.bears_on} "
                 f"are worth at most {n / (1 + (n - 1) * rho):.2f} independent ones, credited "
                 f"strongest first, so this one adds {math.exp(entered):.3g}")
    return text + ". The move below is this item's effect given the rest of the ledger."


_RETRACT_FLAGS = {"id": "--id", "date": "--date", "retracts": "ITEM_ID", "reason": "--reason",
                  "source": "--source", "url": "--url", "notes": "--notes"}


def cmd_retract(args) -> int:
    """``forecast retract``: withdraw an earlier ledger item by a new entry; show the move."""
    from forecast.ledger import ledger_path
    from forecast.news import retract

    config = load_question(args.question)
    date = args.date or dt.date.today()
    data = {"id": args.id or f"{date.isoformat()}-retracts-{args.item_id}"[:64].rstrip("-."),
            "date": date, "retracts": args.item_id, "reason": args.reason,
            "source": args.source}
    for name in ("url", "notes"):
        if getattr(args, name):
            data[name] = getattr(args, name)
    where = f"{ledger_path(config)}: new retraction"
    try:
        result = retract(config, data, out=args.out, seed=args.seed, where=where,
                         engine=args.engine)
    except LedgerError as exc:
        lines = []
        for line in str(exc).splitlines():
            field, sep, rest = line.removeprefix(f"{where}: ").partition(": ")
            if line.startswith(f"{where}: ") and sep and field in _RETRACT_FLAGS:
                line = f"{where}: {_RETRACT_FLAGS[field]}: {rest}"
            lines.append(line)
        raise LedgerError("\n".join(lines) + "\nnothing was written.") from None
    after = result.after
    code = 0 if after.fit.diagnostics["passed"] else EXIT_UNCONVERGED
    if code:
        print("WARNING: the forecast after the retraction FAILED its convergence gate ("
              + "; ".join(after.fit.diagnostics["failures"]) + "); do not brief this number",
              file=sys.stderr)
    elif args.issue:
        print(_issue(after, None, None), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
        return code
    r, item = result.retraction, result.item
    print(f"recorded {r.id}: retracts {item.id} ({item.date}, {item.headline!r}) as of "
          f"{r.date}")
    print(f"reason: {r.reason} (source: {r.source})")
    print(f"the item stays in the ledger; forecasts as of {r.date} or later no longer count "
          f"it (path: {after.path})")
    _print_moves(config, result, after)
    return code


def cmd_what_if(args) -> int:
    """``forecast what-if``: the forecast if a pending report arrives, or its opposite."""
    from forecast.engine import compute
    from forecast.information import pending_report, word_movers
    from forecast.ledger import load_ledger

    config = load_question(args.question)
    items = load_ledger(config)
    fc = compute(config, items, out=args.out, seed=args.seed, engine=args.engine)
    try:
        table = pending_report(fc, items, bears_on=args.bears_on, reliability=args.reliability,
                               lr=args.lr, thread=args.thread)
    except LedgerError as exc:
        raise LedgerError(_as_flags(str(exc), "pending report", args)) from None
    movers = word_movers(fc, items, reliability=args.reliability) if args.movers else None
    if args.json:
        out = {"pending": table.to_dict(orient="records")}
        if movers is not None:
            out["word_movers"] = movers.to_dict(orient="records")
        print(json.dumps(out, indent=2, default=str))
        return 0
    print(f"A pending report ({args.reliability.upper()}, bears on {args.bears_on}, "
          f"LR {getattr(args.lr, 'typed', args.lr)})"
          f" — as of {fc.as_of}, engine {fc.engine}; nothing is recorded")
    for scenario, rows in table.groupby("scenario", sort=False):
        print(f"  {scenario}:")
        for r in rows.itertuples():
            flag = "   <- the word changes" if r.word_changes else ""
            change = "" if scenario == "now" else f"  {r.change_pp:+5.1f} pp"
            print(f"    {r.label:24} {_pct(r.p)}{change}  {r.word}{flag}")
    if movers is not None:
        print(f"The weakest {args.reliability} report that would change a briefed word:")
        for r in movers.itertuples():
            print(f"  {r.target_label:38} {r.direction:8} LR {r.lr:<6.3g} {r.label}: "
                  f"{r.word_now} -> {r.word} ({_pct(r.p_now).strip()} -> {_pct(r.p).strip()})")
    return 0


def cmd_history(args) -> int:
    """``forecast history``: the issued forecasts and the reconstruction, as two layers.

    The table shows the record (what was issued, never rewritten) and the reconstruction
    (today's model on the items dated by each day) apart; ``--json`` and ``--csv`` give
    the reconstruction's rows, each labelled ``layer: reconstruction``.
    """
    from forecast.ledger import load_ledger
    from forecast.news import history
    from forecast.record import read_record, record_path, record_table

    config = load_question(args.question)
    entries = read_record(config)  # a damaged record stops here, naming the line
    full = _full_forecast(config, args.out, args.seed)  # the fit behind every row
    table = history(config, out=args.out, seed=args.seed)
    if args.json:
        print(table.to_json(orient="records", date_format="iso", indent=2))
    elif args.csv:
        print(table.to_csv(index=False), end="")
    else:
        from forecast.tables import stale_since

        record = record_table(entries)
        gone = {n: ", ".join(e["ledger"].get("retracted", []))
                for n, e in enumerate(entries, start=1)}
        record = record.assign(retracted=record["entry"].map(gone))
        print(_history_text(table, config, record, record_path(config),
                            stale_since(load_ledger(config), dt.date.today())))
    return _gate(full, "the reconstruction")


def cmd_record(args) -> int:
    """``forecast record``: the issued forecasts, oldest first (table, JSON or CSV)."""
    from forecast.record import read_record, record_path, record_table

    config = load_question(args.question)
    entries = read_record(config)
    if args.json:
        print(json.dumps(entries, indent=2, ensure_ascii=False))
        return 0
    table = record_table(entries)
    if args.csv:
        print(table.to_csv(index=False), end="")
        return 0
    if not entries:
        print(f"no forecast issued yet ({record_path(config)} is absent or empty); issue one "
              "with 'forecast run --issue'")
        return 0
    labels = {o.id: o.name for o in config.question.outcomes} | {
        "all": config.wording.all, "any": config.wording.any}
    keys = [k for k in config.headline_outcomes if k in set(table["outcome"])]
    width = max(len(labels[k]) for k in keys)
    print(f"{len(entries)} issued forecast(s) in {record_path(config)}, oldest first")
    for e, (_, rows) in zip(entries, table.groupby("entry", sort=True), strict=True):
        print(f"issued {e['issued']} | as of {e['as_of']} | {e['ledger']['items']} items "
              f"(last entered: {e['ledger']['last_item'] or 'none'}) | engine {e['engine']}, "
              f"path {e['path']}")
        by = rows.set_index("outcome")
        for k in keys:
            r = by.loc[k]
            print(f"  {labels[k]:{width}} {_pct(r['p'])}   [{_pct(r['lower'])}, "
                  f"{_pct(r['upper'])}]")
    return 0


def _moment(text: str) -> dt.date | dt.datetime:
    """A date (YYYY-MM-DD: the end of that day, UTC) or a time such as an entry's issued."""
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ)") from None


def cmd_diff(args) -> int:
    """``forecast diff``: what changed between two issued forecasts, and who moved them.

    The items that arrived (and any retracted), the inputs whose hashes changed (prior
    files by name), the change per outcome, and the Shapley credit of the news that
    changed (:func:`forecast.news.diff_attribution`, under today's model) beside what
    the rest (priors, code, versions, Monte Carlo error) moved.
    """
    from forecast.ledger import load_ledger
    from forecast.news import diff_attribution
    from forecast.record import diff_entries, entry_at, read_record, record_path

    config = load_question(args.question)
    entries, path = read_record(config), record_path(config)
    if len(entries) < 2 and (args.from_ is None or args.to is None):
        from forecast.record import RecordError

        raise RecordError(f"{path}: {len(entries)} forecast(s) issued; a diff needs two "
                          "(issue with 'forecast run --issue')")
    new = entry_at(entries, args.to, path) if args.to is not None else entries[-1]
    if args.from_ is not None:
        old = entry_at(entries, args.from_, path)
    else:
        old = entries[max(0, entries.index(new) - 1)]
    items = load_ledger(config)
    result = diff_entries(old, new, items)
    if old is not new:
        result["attribution"] = diff_attribution(config, items, old, new, out=args.out)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    labels = {o.id: o.name for o in config.question.outcomes} | {
        "all": config.wording.all, "any": config.wording.any}
    for name, e, n in (("from", old, 0), ("to", new, 1)):
        print(f"{name + ':':5} issued {e['issued']} (as of {e['as_of']}, "
              f"{result['items'][n]} items)")
    if old is new:
        print("the same issued forecast: nothing changed")
        return 0
    print(f"items entered between them (by their recorded stamps): {len(result['arrived'])}")
    for i in result["arrived"]:
        print(f"  {i['id']} ({i['date']}, bears on {i['bears_on']}, recorded {i['recorded']})")
    if result["retracted"]:
        print(f"retractions entered between them: {len(result['retracted'])}")
        for r in result["retracted"]:
            print(f"  {r['id']} retracts {r['retracts']} as of {r['date']}: {r['reason']} "
                  f"({r['source']}; recorded {r['recorded']})")
    if result["unstamped"]:
        print(f"  ({result['unstamped']} ledger item(s) carry no recorded stamp and cannot be "
              "placed)")
    print("inputs changed: " + (", ".join(result["inputs"]) or "none"))
    files = [name.removeprefix("files/") for name in result["inputs"]
             if name.startswith("files/")]
    def prior_text(p) -> str:
        return "absent" if p is None else (
            f"{p['dist']}({p['kwargs']}), interval {p['interval'][0]:.3g}-"
            f"{p['interval'][1]:.3g} ({p['origin']})")

    if result["priors"]:
        print(f"priors changed: {len(result['priors'])}")
        for r in result["priors"]:
            print(f"  {r['parameter']}: {prior_text(r['from'])} -> {prior_text(r['to'])}")
    elif files:
        print("prior files changed: " + ", ".join(files) + " (an entry issued before the "
              "record kept the priors' values carries only their hashes)")
    else:
        print("priors changed: none")
    width = max(len(labels.get(r["outcome"], r["outcome"])) for r in result["change"])
    a = result["attribution"]
    print("change per outcome: issued, then the news's part (Shapley credit under "
          "today's model) and the rest (priors, code, versions, Monte Carlo error)")
    for r in result["change"]:
        k = r["outcome"]
        news, rest = a["news_pp"].get(k), a["other_pp"].get(k)
        split = "" if news is None else f"   news {news:+5.1f} pp, rest {rest:+5.1f} pp"
        print(f"  {labels.get(k, k):{width}} {_pct(r['from'])} -> {_pct(r['to'])}  "
              f"{r['change_pp']:+5.1f} pp{split}")
    if a["items"]:
        keys = list(a["news_pp"])
        print("news credit (Shapley, percentage points; " + ", ".join(
            labels.get(k, k) for k in keys) + "):")
        for i in sorted(a["items"], key=lambda i: -max(abs(v) for v in i["pp"].values())):
            what = "retracted " if i["change"] == "retracted" else ""
            print(f"  {what}{i['id']:40} " + "  ".join(f"{i['pp'][k]:+5.1f}" for k in keys))
    else:
        print("news credit: no news changed between them")
    for side in ("from", "to"):
        found, said = a["seen"][side]
        if found != said:
            print(f"note: today's ledger gives the {side!r} forecast {found} items; it recorded "
                  f"{said} (an entry without a recorded stamp, or a hand edit)")
    return 0


def _print_moves(config, result, after) -> None:
    """Each outcome before -> after an update or a retraction, then the forecast's notes."""
    labels = {o.id: o.name for o in config.question.outcomes} | {
        "all": config.wording.all, "any": config.wording.any}
    for row in result.contribution_rows():
        print(f"  {labels[row['outcome']]:24} {_pct(row['before'])} -> {_pct(row['after'])}   "
              f"{row['change_pp']:+5.1f} pp   {row['change_logodds']:+.3f} log-odds")
    for note in after.notes:
        print(f"note: {note}")


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(
            f"invalid seed {text!r}; allowed: a whole number from 0 to {2**32 - 1}")
    return value


def _shout(label: str, name: str) -> str:
    """A layer's label with its name in capitals: 'RECONSTRUCTION (today's ...)'."""
    return name.upper() + label.removeprefix(name)


def _history_text(table, config, record=None, record_file=None, stale=None) -> str:
    """The two layers of the history, labelled: the reconstruction, one line per ledger date
    (each outcome's mean and interval, the new items and any retracted), then the issued
    forecasts of the record, one line each; "no news recorded since" a stale ledger's
    last entry."""
    from pandas import isna as pd_isna

    from forecast.tables import ISSUED, RECONSTRUCTION

    labels = {o.id: o.name for o in config.question.outcomes} | {
        "all": config.wording.all, "any": config.wording.any}
    outcomes = list(dict.fromkeys(table["outcome"]))
    width = 22

    def cells(by) -> str:
        return "  ".join(
            f"{_pct(by.loc[o, 'p']).strip():>6} [{_pct(by.loc[o, 'lower']).strip()}, "
            f"{_pct(by.loc[o, 'upper']).strip()}]".ljust(width) for o in outcomes)

    issued = record is not None and not record.empty
    none_yet = "" if issued else (
        f"; no forecast issued yet ({record_file or 'record.jsonl'} is empty: "
        "'forecast run --issue')")
    head = f"{'after':10} {'items':>5}  " + "  ".join(
        f"{labels.get(o, o)[:width]:{width}}" for o in outcomes) + "  new items"
    lines = [f"{config.question.title}: {_shout(RECONSTRUCTION, 'reconstruction')}, "
             f"after each ledger date (mean [{config.model.credible_mass:.0%} interval])"
             f"{none_yet}", head]
    # One step per ledger date (an item's, or a retraction's); the first is the priors.
    for _, rows in table.groupby(table["date"].map(lambda d: "" if pd_isna(d) else str(d)),
                                 sort=True):
        by = rows.set_index("outcome")
        first = rows.iloc[0]
        when = "prior" if pd_isna(first["date"]) else str(first["date"])
        new = [i for i in str(first["new_items"] or "").split(",") if i]
        gone = [i for i in str(first.get("retracted", "") or "").split(",") if i]
        news = ", ".join([*new, *(f"RETRACTED {i}" for i in gone)])
        lines.append(f"{when:10} {int(first['n_items']):>5}  {cells(by)}  {news}".rstrip())
    if issued:
        lines += ["", f"{_shout(ISSUED, 'issued forecasts')}, in {record_file}, oldest first",
                  f"{'issued (UTC)':19} {'as of':10} {'items':>5}  " + "  ".join(
                      f"{labels.get(o, o)[:width]:{width}}" for o in outcomes)
                  + "  last entry seen"]
        for _, rows in record.groupby("entry", sort=True):
            by = rows.set_index("outcome")
            first = rows.iloc[0]
            seen = first["last_item"] or ""
            gone = first.get("retracted", "")
            seen += f" (not counting retracted: {gone})" if gone else ""
            lines.append(f"{first['issued']:%Y-%m-%d %H:%M:%S} {first['as_of']!s:10} "
                         f"{int(first['n_items']):>5}  {cells(by)}  {seen}".rstrip())
    if stale is not None:
        lines.append(f"no news recorded since {stale}: the ledger's newest entry was entered "
                     "then")
    return "\n".join(lines)


def _dpi(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 10 <= value <= 1200:
        raise argparse.ArgumentTypeError(f"invalid dpi {text!r}; allowed: 10 to 1200")
    return value


def _formats(text: str) -> tuple[str, ...]:
    from forecast.charts.theme import FORMATS

    formats = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {', '.join(bad) or text!r}; allowed: {', '.join(FORMATS)}")
    return formats


def _full_forecast(config, out, seed=None):
    """The forecast of the whole ledger as ``history`` computes it (the fit behind it)."""
    from forecast.engine import compute
    from forecast.ledger import load_ledger

    return compute(config, load_ledger(config), out=out, seed=seed, allow_reweight=False)


def _gate(fc, what: str) -> int:
    """0, or :data:`EXIT_UNCONVERGED` if ``fc`` failed its convergence gate (then said so,
    in capitals, on stderr; the output of ``what`` is given all the same, as ``run``'s is)."""
    d = fc.fit.diagnostics
    if d["passed"]:
        return 0
    print(f"WARNING: the forecast behind {what} FAILED its convergence gate ("
          + "; ".join(d["failures"]) + "); do not brief these numbers", file=sys.stderr)
    return EXIT_UNCONVERGED


def cmd_charts(args) -> int:
    """``forecast charts``: write the briefing chart set and its index."""
    from forecast.export import build_briefing, chart_figures, write_charts
    from forecast.store import results_dir

    _headless()
    config = load_question(args.question)  # refuse bad input before writing anything
    target = results_dir(args.out, config, claim=True) / "charts"
    briefing = build_briefing(args.question, forecast_out=args.out)
    index = write_charts(chart_figures(briefing), target, formats=tuple(args.format),
                         dpi=args.dpi)
    print(f"wrote {len(index)} files to {target} (index: {target / 'charts.csv'})")
    return _gate(briefing.forecast, "the charts")


def cmd_report(args) -> int:
    """``forecast report``: write the self-contained HTML (and PDF) briefing."""
    from forecast.export import build_briefing
    from forecast.report import write_report
    from forecast.store import results_dir

    _headless()
    config = load_question(args.question)
    target = results_dir(args.out, config, claim=True) / "report"
    briefing = build_briefing(args.question, forecast_out=args.out)
    path = write_report(args.question, target, forecast_out=args.out, briefing=briefing)
    print(f"wrote {path}")
    return _gate(briefing.forecast, "the report")


def cmd_new(args) -> int:
    """``forecast new``: scaffold a question directory from the template."""
    from forecast.scaffold import new_question

    path = new_question(args.name, root=args.root)
    print(f"created {path}: edit its files, then run: forecast validate {path}")
    return 0


def _reference_fit(args):
    """The reference fit of the shipped cases (or ``--train``), from the cache under --out."""
    from forecast import reference_store

    fit, how = reference_store.cached_reference_fit(args.out, directory=args.train)
    if not args.json:
        print(f"reference-class fit: {how} ({len(fit.cases)} cases; stored under "
              f"{Path(args.out) / reference_store.FOLDER})", file=sys.stderr)
    return fit


def _reference_link(args) -> int:
    from forecast.analysis import linked_prior_table
    from forecast.reference_priors import derive, write

    if args.train is not None:
        raise ConfigError(["reference link: --train is not allowed: the link records the "
                           "shipped reference class's hashes so that staleness can be checked"])
    from forecast.reference_priors import case_coding

    config = load_question(args.path or DEFAULT_QUESTION)  # refuse bad input first
    case_coding(config)  # the question must be coded as a case before anything is fitted
    fit = _hazard_fit(args)
    if not fit.converged:
        print("error: the reference-class fit FAILED its convergence gate ("
              + "; ".join(fit.diagnostics["failures"]) + "); nothing written", file=sys.stderr)
        return EXIT_UNCONVERGED
    path = write(config, derive(config, fit))
    table = linked_prior_table(load_question(config.directory))
    if args.json:
        print(table.to_json(orient="records", indent=2))
        return 0
    print(f"wrote {path} (used when model.yaml sets prior_source: reference_class or both)")
    print(_linked_text(table))
    return 0


def _linked_text(table) -> str:
    wide = table.pivot_table(index=["parameter", "scale"], columns="source",
                             values=["mean", "lower", "upper"], sort=False)
    lines = []
    for (param, scale), row in wide.iterrows():
        cells = []
        for src in ("elicited", "reference_class", "both"):
            cells.append(f"{src}: {row[('mean', src)]:+.2f} [{row[('lower', src)]:+.2f}, "
                         f"{row[('upper', src)]:+.2f}]")
        lines.append(f"{param:36} {scale:15} " + "   ".join(cells))
    return "\n".join(lines)


def _reference_compare(args) -> int:
    from forecast.analysis import compare_prior_sources
    from forecast.ledger import load_ledger

    config = load_question(args.path or DEFAULT_QUESTION)
    table = compare_prior_sources(config, load_ledger(config), out=args.out)
    if args.json:
        print(table.to_json(orient="records", indent=2))
        return 0
    post = table[table["stage"] == "posterior"]
    print(f"{config.question.title}: the forecast under each prior source "
          f"(model.yaml uses {config.prior_source})")
    for _, rows in post.groupby("source", sort=False):
        path = rows["path"].iloc[0]
        khat = rows["khat"].iloc[0]
        print(f"{rows['source_label'].iloc[0]}  [{path}"
              + (f", k-hat {khat:.2f}]" if khat == khat else "]"))
        for r in rows.itertuples():
            print(f"  {r.label:28} {_pct(r.p)}   [{_pct(r.lower)}, {_pct(r.upper)}]")
    return 0


def _hazard_fit(args):
    """The event-history fit of the dated reference class, from the cache under --out."""
    from forecast import reference_store

    fit, how = reference_store.cached_hazard_fit(args.out, directory=args.train)
    if not args.json:
        print(f"reference-class hazard fit: {how} ({len(fit.cases)} cases, {len(fit.data)} "
              f"case-years; stored under {Path(args.out) / reference_store.FOLDER})",
              file=sys.stderr)
    return fit


def _reference_backtest(args) -> int:
    from forecast import reference_store

    fit = _hazard_fit(args)
    if args.train is None:
        bt, _ = reference_store.cached_hazard_backtest(args.out, fit)
    else:
        from forecast import hazard_backtest, reference

        old = reference.backtest(_reference_fit(args)).pointwise
        bt = hazard_backtest.backtest(fit, old_model=dict(zip(old["case_id"], old["p_loo"],
                                                              strict=True)))
    result = {**bt.summary(), "converged": fit.converged,
              "r_hat_max": fit.diagnostics["r_hat_max"],
              "divergences": fit.diagnostics["divergences"],
              "failures": fit.diagnostics["failures"]}
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    print("As-of-origin backtest: P(kept to start + 5 years) forecast 0, 1 and 2 years into each "
          "episode from what was known then, each case's shock left out (Brier: lower is "
          "better; the old model's features were coded over the whole episode: hindsight)")
    for origin, rows in bt.scores.groupby("origin"):
        print(f"origin {int(origin)} year{'s' if origin != 1 else ''} "
              f"({int(rows['n_cases'].max())} cases at risk):")
        for r in rows.itertuples():
            print(f"  {r.label:48} Brier {r.brier:.3f}  log {r.log_score:+.3f}  "
                  f"(n {r.n_cases})")
    print(f"max Pareto k {result['max_pareto_k']:.2f}; {result['n_exact_refits']} shocks "
          "refitted exactly")
    return 0


def _reference_predict(args) -> int:
    from forecast import reference_predict

    if args.path is None:
        raise ConfigError(["reference predict: give CASES.csv"])
    cases = reference_predict.read_cases(args.path)  # refuse bad input before fitting
    table = reference_predict.predict(_hazard_fit(args), cases, curve=args.curve)
    if args.json:
        print(table.to_json(orient="records", indent=2))
        return 0
    for r in table.itertuples():
        when = f"to year {r.year:g}" if args.curve else "kept 5 years"
        blank = f"  (integrated over: {r.integrated})" if r.integrated else ""
        print(f"{r.case_id:36} origin {r.origin}  {when:14} {_pct(r.p_kept)}  "
              f"[{_pct(r.lower)}, {_pct(r.upper)}]{blank}")
    return 0


def cmd_reference(args) -> int:
    """``forecast reference``: predict, backtest, link or compare with the outside view."""
    if args.action == "link":
        return _reference_link(args)
    if args.action == "compare":
        return _reference_compare(args)
    if args.action == "predict":
        return _reference_predict(args)
    return _reference_backtest(args)


def _outcomes(text: str) -> dict[str, int]:
    out = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if value not in {"0", "1"}:
            raise argparse.ArgumentTypeError(
                f"outcome {part!r}: write base=0 or base=1, e.g. khmeimim=1,tartus=0")
        out[name.strip()] = int(value)
    return out


def cmd_resolve(args) -> int:
    """``forecast resolve``: record how a question resolved."""
    from forecast.scoring import resolve

    path = resolve(args.question, args.outcome, args.date)
    print(f"recorded the resolution in {path}")
    return 0


def cmd_score(args) -> int:
    """``forecast score``: the record's scores as platforms compute them, beside others."""
    from forecast.crowd import crowd_path, read_crowd
    from forecast.scoring import comparison_forecast, load_resolution, score

    config = load_question(args.question)
    res = load_resolution(config)  # unresolved: said before anything slow
    crowd = {} if args.crowd is None else {"crowd": read_crowd(args.crowd, config)}
    hindsight = full = None
    if args.hindsight:
        from forecast.news import history

        full = _full_forecast(config, args.out)  # the fit behind the reconstruction
        hindsight = history(config, out=args.out)
    table = score(config, hindsight, **crowd)
    # The record's forecasts passed their gates when issued; the reconstruction may not.
    code = 0 if full is None else _gate(full, "the hindsight scores")
    if args.json:
        dates = {c: table[c].map(lambda d: None if d is None else d.isoformat())
                 for c in ("start", "first", "end")}
        print(table.assign(**dates).to_json(orient="records", indent=2))
        return code
    print(f"{config.question.title}: resolved {res.date} ("
          + ", ".join(f"{b} {'YES' if v else 'NO'}" for b, v in res.outcomes.items())
          + f"); open period {config.question.created} to {res.date}, "
            f"{int(table['n_days'].iloc[0])} days")
    mine = table[table["forecaster"] == "record"]
    if mine.empty:
        print("the record is empty: no forecast was issued (forecast run --issue), so only "
              "the comparison forecasters are scored")
    else:
        first = mine.iloc[0]
        print(f"record: {int(mine['n_forecasts'].max())} issued forecast(s) before the "
              f"resolution, standing from {first['first'] or 'never'} "
              f"({first['coverage']:.0%} of the open period)")
    if "crowd" in set(table["forecaster"]):
        print(f"crowd: {args.crowd or crowd_path(config)}")
    comp = comparison_forecast(config)
    print(f"reference: the dated reference class's Kaplan-Meier rate of keeping the main "
          f"facility to the horizon, {comp[config.bases[0]]:.1%} per base, all "
          f"{comp['all']:.1%}, any "
          f"{comp['any']:.1%} (outcome_dependence {config.model.outcome_dependence.value:g})")
    names = {"fifty": "50%"}
    shown = table.assign(
        forecaster=table["forecaster"].map(lambda f: names.get(f, f)),
        coverage=table["coverage"].map(lambda c: f"{c:.0%}"),
        baseline=table["baseline"].map(lambda v: f"{v:+.1f}"),
        peer=table["peer"].map(lambda v: "" if v != v else f"{v:+.1f}"))
    shown = shown[["outcome", "forecaster", "brier", "gjo_brier", "log_score", "baseline",
                   "peer", "coverage"]].rename(columns={
                       "brier": "Brier", "gjo_brier": "GJO Brier", "log_score": "log",
                       "baseline": "baseline"})
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("lower is better: Brier [0, 1], GJO Brier [0, 2]; higher is better: log (ln of the "
          "probability of what happened), baseline (Metaculus: 0 = 50%, 100 = certain; 0 "
          "before the first forecast), peer (100 x the mean log-score difference from the "
          "crowd on the days both stood; above 0, better than the crowd)")
    if hindsight is not None:
        print("hindsight: the reconstruction (today's model on the items dated by each day), "
              "scored knowing what is known now: it measures hindsight, not forecasting skill")
    return code


def cmd_crowd(args) -> int:
    """``forecast crowd import``: check a crowd's timeline and keep a copy with the question."""
    from forecast.crowd import import_crowd

    path, table = import_crowd(args.question, args.file, outcome=args.outcome)
    counts = table.groupby("outcome", sort=False).size()
    print(f"imported {len(table)} {'probability' if len(table) == 1 else 'probabilities'} ("
          + ", ".join(f"{o}: {n}" for o, n in counts.items())
          + f"; {table['date'].min()} to {table['date'].max()}) from {args.file} into {path}")
    return 0


#: What the tool is, after the module docstring's first sentence, in ``forecast --help``.
_ABOUT = ("It forecasts a question's outcomes from elicited priors and dated news items, "
          "with a Bayesian model.")


def _plain(text: str) -> str:
    """Docstring markup (double backquotes, ``:func:`` roles) as plain text for --help."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return " ".join(re.sub(r"``([^`]+)``", r"\1", text).split())


def build_parser() -> argparse.ArgumentParser:
    """The ``forecast`` argument parser, one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="forecast", description=_plain(__doc__.split("\n\n")[0]) + " " + _ABOUT,
        epilog="Run 'forecast COMMAND --help' for a command's options. Bad input: a "
               "message naming the file and field, exit status 2, nothing written.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, text, **kw):
        """A sub-command whose --help opens with the same sentence the command list shows."""
        return sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".",
                              **kw)

    def question_arg(p, nargs="?"):
        p.add_argument("question", nargs=nargs, type=Path, default=DEFAULT_QUESTION,
                       metavar="QUESTION_DIR",
                       help=f"question directory (default: {DEFAULT_QUESTION})")

    def engine_arg(p, what="how the forecast is computed"):
        p.add_argument("--engine", choices=["exact", "nuts"], default=None,  # engine.ENGINES
                       help=f"{what}: exact (prior draws weighted by the exact news "
                            "likelihood, in a second; NUTS takes over, loudly, if its weights "
                            "fail the gate) or nuts (the PyMC model sampled, the cross-check); "
                            "default: engine.default in model.yaml")

    def out_arg(p, what="where fits are stored and reused"):
        p.add_argument("--out", type=Path, default=Path("out"), metavar="DIR",
                       help=f"{what} (default: out)")

    def seed_arg(p):
        p.add_argument("--seed", type=_seed, default=None, metavar="N",
                       help="sampler seed, 0 to 2**32-1 (default: model.yaml's sampler.seed)")

    def json_arg(p, what="print the result as JSON instead of a table"):
        p.add_argument("--json", action="store_true", help=what)

    def issue_arg(p, what="the forecast"):
        p.add_argument("--issue", action="store_true",
                       help=f"issue {what} into the question's record of issued forecasts "
                            "(record.jsonl in the question directory, append-only); off by "
                            "default, and never for a forecast that failed its gate")

    p = add("validate", "check a question's prior files and news ledger")
    question_arg(p)
    p.add_argument("--strict", action="store_true",
                   help="also refuse values still marked TODO (exit 2)")
    p.set_defaults(func=cmd_validate)

    p = add("run", "compute the forecast (exact engine, or NUTS) and write it, its draws and chart")
    p.add_argument("questions", nargs="*", type=Path, metavar="QUESTION_DIR",
                   help=f"question directories, fitted in parallel (default: "
                        f"{DEFAULT_QUESTION})")
    out_arg(p, "folder for the results and the stored fits")
    json_arg(p, "print the forecast as one JSON object (a list for several questions)")
    seed_arg(p)
    p.add_argument("--prior-source", dest="prior_source", default=None,
                   choices=["elicited", "reference_class", "both"],
                   help="override model.yaml's prior_source (results go to a subfolder)")
    engine_arg(p)
    issue_arg(p)
    p.set_defaults(func=cmd_run)

    p = add("update", "record a news item and show how it moved the forecast",
            epilog="Give the item either as --item FILE or through the flags: --date, "
                   "--headline, --source, --reliability, --bears-on and --lr are then "
                   "required. Nothing is recorded when the item is refused.")
    question_arg(p)
    p.add_argument("--item", metavar="FILE",
                   help="a YAML file holding one news item, with the fields of a news.yaml "
                        "entry (used instead of the flags below)")
    p.add_argument("--id", help="the item's unique id: letters, digits, '_', '.', '-' "
                                "(default: the date and the headline, e.g. "
                                "2026-11-20-ships-leave-tartus)")
    p.add_argument("--date", type=_date, metavar="YYYY-MM-DD",
                   help="when it happened or was reported; not after today")
    p.add_argument("--headline", metavar="TEXT", help="what the report says, in one line")
    p.add_argument("--source", metavar="TEXT",
                   help="who reported it, e.g. Reuters or satellite imagery")
    p.add_argument("--url", help="where to read it (optional; http:// or https://)")
    p.add_argument("--reliability", metavar="CODE",
                   help="Admiralty code: a source letter A-F (A completely reliable ... E "
                        "unreliable, F cannot be judged) and an information digit 1-6 (1 "
                        "confirmed ... 5 improbable, 6 cannot be judged), e.g. B2; "
                        "case-insensitive (b2 is B2); F or 6 means no update")
    p.add_argument("--bears-on", dest="bears_on", metavar="ID",
                   help="the id of the evidence variable (evidence.yaml) or of the outcome "
                        "(question.yaml, e.g. a base) the report bears on")
    p.add_argument("--lr", type=_lr, metavar="RATIO",
                   help="likelihood ratio of the report: P(report | state or outcome true, "
                        "report accurate) / P(report | false); for an item bearing on a base, "
                        "P(report | kept) / P(report | not kept). A number like 3 (above 1 "
                        "supports, below 1 counts against, 1 = no update) or an interval "
                        f"LOW:HIGH like 2:5 (centred on its geometric midpoint; its width "
                        f"widens the forecast's interval); between {LR_BOUNDS[0]:g} and "
                        f"{LR_BOUNDS[1]:g}. The reliability code sets its credibility h: it "
                        "enters as h x LR + (1 - h)")
    p.add_argument("--cluster", metavar="ID",
                   help="optional: a name shared by items repeating one origin (e.g. one wire "
                        "story); they count once per variable")
    p.add_argument("--thread", metavar="ID",
                   help="optional: the storyline the report belongs to (threads.yaml), e.g. "
                        "basing-negotiation: reports of one process that would recur whether "
                        "or not the state comes true count as n / (1 + (n - 1) rho) reports")
    p.add_argument("--notes", metavar="TEXT", help="optional: why this ratio")
    engine_arg(p, "how the forecasts before and after the item are computed")
    out_arg(p)
    json_arg(p, "print the item, the forecast before and after it, and the diagnostics as "
                "JSON")
    seed_arg(p)
    issue_arg(p, "the forecast after the item")
    p.set_defaults(func=cmd_update)

    p = add("retract", "withdraw an earlier news item by a new ledger entry, with a reason",
            epilog="The ledger stays append-only: the item stays as it was entered, and from "
                   "the retraction's date on it no longer counts (a forecast as of an earlier "
                   "date still counts it). An item is retracted once; a retraction cannot "
                   "itself be retracted (enter the report again as a new item instead). "
                   "Nothing is recorded when the retraction is refused.")
    p.add_argument("question", nargs="?", type=Path, default=DEFAULT_QUESTION,
                   metavar="QUESTION_DIR", help=f"question directory (default: "
                                                f"{DEFAULT_QUESTION})")
    p.add_argument("item_id", metavar="ITEM_ID",
                   help="the id of the ledger item to withdraw (forecast history and the "
                        "report's ledger list them)")
    p.add_argument("--reason", required=True, metavar="TEXT",
                   help="why: e.g. 'shown false by satellite imagery' or 'a duplicate of "
                        "<id>'")
    p.add_argument("--source", required=True, metavar="TEXT",
                   help="who showed it: the outlet's correction, the debunking report")
    p.add_argument("--url", help="where to read the correction (optional; http(s)://)")
    p.add_argument("--date", type=_date, metavar="YYYY-MM-DD",
                   help="from when the item stops counting: when the correction was "
                        "published (default: today; not after today, not before the item)")
    p.add_argument("--id", help="the retraction's own id (default: "
                                "<date>-retracts-<ITEM_ID>)")
    p.add_argument("--notes", metavar="TEXT", help="optional: anything else")
    engine_arg(p, "how the forecasts before and after the retraction are computed")
    out_arg(p)
    json_arg(p, "print the retraction, the item and the forecast before and after as JSON")
    seed_arg(p)
    issue_arg(p, "the forecast after the retraction")
    p.set_defaults(func=cmd_retract)

    p = add("what-if", "the forecast if a report you could obtain arrives, or its opposite",
            epilog="Nothing is recorded. The opposite report has the reciprocal ratio "
                   "(an interval LOW:HIGH becomes 1/HIGH:1/LOW).")
    question_arg(p)
    p.add_argument("--bears-on", dest="bears_on", required=True, metavar="ID",
                   help="the evidence variable or base the report would bear on")
    p.add_argument("--reliability", required=True, metavar="CODE",
                   help="the Admiralty code it would carry, e.g. B2 (case does not matter)")
    p.add_argument("--lr", type=_lr, required=True, metavar="RATIO",
                   help="its likelihood ratio were it accurate: a number like 3 or an "
                        "interval like 2:5")
    p.add_argument("--thread", metavar="ID", help="optional: the thread it would join")
    p.add_argument("--movers", action="store_true",
                   help="also list, per variable and base, the weakest report of this code "
                        "that would change a briefed estimative word (slower)")
    engine_arg(p)
    out_arg(p)
    json_arg(p, "print the scenarios (and movers) as JSON records")
    seed_arg(p)
    p.set_defaults(func=cmd_what_if)

    p = add("history", "the issued forecasts and the reconstruction after each ledger date",
            epilog="Two layers, labelled: the record (forecasts issued with --issue, never "
                   "rewritten) and the reconstruction (today's priors and model on the items "
                   "dated by each day, and not retracted by then: not what was said then). "
                   "--json and --csv give the reconstruction's rows.")
    question_arg(p)
    fmt = p.add_mutually_exclusive_group()
    json_arg(fmt, "print the history as JSON records")
    fmt.add_argument("--csv", action="store_true",
                     help="print the history as CSV: one row per date and outcome")
    out_arg(p)
    seed_arg(p)
    p.set_defaults(func=cmd_history)

    p = add("record", "the issued forecasts of a question, oldest first")
    question_arg(p)
    fmt = p.add_mutually_exclusive_group()
    json_arg(fmt, "print the entries as a JSON list, each exactly as recorded")
    fmt.add_argument("--csv", action="store_true",
                     help="print the record as CSV: one row per issued forecast and outcome "
                          "(issued, outcome, p, ...: it imports as a crowd's timeline)")
    p.set_defaults(func=cmd_record)

    p = add("diff", "what changed between two issued forecasts, and the news's credit",
            epilog="Each of --from and --to picks the forecast standing then: the last one "
                   "issued on or before it (a date means the end of that day, UTC). By "
                   "default: the last two issued. The news's credit is Shapley values under "
                   "today's priors and model; the rest of the change is the priors', the "
                   "code's and Monte Carlo error.")
    question_arg(p)
    p.add_argument("--from", dest="from_", type=_moment, default=None, metavar="DATE",
                   help="the earlier forecast: YYYY-MM-DD or an issued time")
    p.add_argument("--to", type=_moment, default=None, metavar="DATE",
                   help="the later forecast (default: the last issued)")
    json_arg(p, "print the items entered, the inputs changed, the change per outcome and "
                "the attribution as JSON")
    out_arg(p, "where fits are stored and reused (for the attribution)")
    p.set_defaults(func=cmd_diff)

    p = add("charts", "write the briefing chart set")
    question_arg(p)
    out_arg(p, "the results root: the charts go to DIR/<question dir>/charts/ with their "
               "index charts.csv; stored fits there are reused")
    p.add_argument("--format", type=_formats, default=("png",), metavar="LIST",
                   help="comma-separated file formats: png, svg, pdf (default: png)")
    p.add_argument("--dpi", type=_dpi, default=None, metavar="N",
                   help="raster resolution, 10 to 1200 (default: the theme's)")
    p.set_defaults(func=cmd_charts)

    p = add("report", "write a one-file HTML briefing")
    question_arg(p)
    out_arg(p, "the results root: the briefing goes to DIR/<question dir>/report/ (HTML "
               "and PDF); stored fits there are reused")
    p.set_defaults(func=cmd_report)

    p = add("new", "scaffold a new question directory from the template")
    p.add_argument("name", help="snake_case name of the question, e.g. port_access")
    p.add_argument("--root", type=Path, default=Path("priors"), metavar="DIR",
                   help="folder to create it in (default: priors)")
    p.set_defaults(func=cmd_new)

    p = add("reference", "the outside view: the historical reference class")
    p.add_argument("action", choices=["predict", "backtest", "link", "compare"],
                   help="predict: the chance of keeping a presence 5 years for the cases of "
                        "CASES.csv (blank features integrated over); backtest: as-of-origin "
                        "scores of the event-history model; link: derive "
                        "a question's priors from the reference class (writes "
                        "reference_priors.yaml); compare: the question's forecast under each "
                        "prior source")
    p.add_argument("path", nargs="?", type=Path, metavar="PATH",
                   help=f"CASES.csv (predict) or QUESTION_DIR (link, compare; default "
                        f"{DEFAULT_QUESTION})")
    p.add_argument("--train", type=Path, default=None, metavar="DIR",
                   help="fit on the cases.csv and events.csv of DIR instead of the shipped "
                        "reference class (predict, backtest)")
    p.add_argument("--curve", action="store_true",
                   help="predict: P(kept) for every whole year from the origin to 5 years")
    p.add_argument("--out", type=Path, default=Path("out"), metavar="DIR",
                   help="where fits are stored and reused (the reference fit under "
                        "OUT/reference_class/; default: out)")
    json_arg(p)
    p.set_defaults(func=cmd_reference)

    p = add("resolve", "record how a question resolved")
    question_arg(p)
    p.add_argument("--outcome", type=_outcomes, required=True, metavar="BASE=0|1,...",
                   help="every outcome's resolution, 1 = yes, 0 = no, e.g. "
                        "khmeimim=1,tartus=0")
    p.add_argument("--date", type=_date, required=True, metavar="YYYY-MM-DD",
                   help="the date it resolved; not before the question's created date")
    p.set_defaults(func=cmd_resolve)

    p = add("score", "score the issued forecasts (the record) once the question has resolved",
            epilog="Time-averaged over the open period (created to the resolution date), each "
                   "issued forecast standing until the next: Brier, Good Judgment Open's Brier, "
                   "the log score and Metaculus's baseline score, per base and for all and "
                   "any, beside the crowd (if imported), the reference class at the "
                   "question's horizon and 50%.")
    question_arg(p)
    p.add_argument("--crowd", type=Path, default=None, metavar="FILE",
                   help="score against this crowd CSV instead of the question's imported "
                        "crowd.csv (see forecast crowd); nothing is written")
    p.add_argument("--hindsight", action="store_true",
                   help="also score the reconstruction (forecast history: today's model on "
                        "the items dated by each day), labelled hindsight")
    out_arg(p, "where fits are stored and reused (for --hindsight)")
    json_arg(p)
    p.set_defaults(func=cmd_score)

    p = add("crowd", "import a crowd's or a market's timeline of probabilities to score against",
            epilog="FILE is a CSV with a header line and one row per published probability: "
                   "date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ; UTC), outcome (a base, all or "
                   "both, any or either) and probability (0 to 1). Other columns are ignored, "
                   "so the output of 'forecast record --csv' imports too. Bad input: every "
                   "problem named by file, line and field, exit 2, nothing written.")
    p.add_argument("action", choices=["import"],
                   help="import: check FILE and keep a copy as crowd.csv in the question "
                        "directory (replacing an earlier import), for forecast score and the "
                        "history chart")
    p.add_argument("file", type=Path, metavar="FILE", help="the crowd's CSV")
    question_arg(p)
    p.add_argument("--outcome", default=None, metavar="ID",
                   help="for a file without an outcome column (date,probability): the outcome "
                        "every row is for, a base, all or any")
    p.set_defaults(func=cmd_crowd)
    return parser


def _warnings_as_lines() -> None:
    """Show the library's warnings about the input as ``warning: ...`` lines on stderr.

    Each is shown once per command, however often the library meets the interval
    again; other warnings are shown as Python shows them. Call inside
    ``warnings.catch_warnings()``, which restores the previous handling.
    """
    from forecast.elicit import DegenerateIntervalWarning

    shown: set[str] = set()
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, DegenerateIntervalWarning):
            return default(message, category, filename, lineno, file, line)
        if str(message) not in shown:
            shown.add(str(message))
            print(f"warning: {message}", file=sys.stderr)
        return None

    warnings.simplefilter("always", DegenerateIntervalWarning)
    warnings.showwarning = show


def _exit_code(exc: Exception) -> int:
    """The exit status of an error the command line reports in one line."""
    return EXIT_LOCKED if isinstance(exc, LockedError) else EXIT_INPUT


def _quiet_worker() -> None:
    """A ``forecast run`` worker process: the parent has already shown the input's warnings."""
    from forecast.elicit import DegenerateIntervalWarning

    warnings.simplefilter("ignore", DegenerateIntervalWarning)


def main(argv: list[str] | None = None) -> int:
    """Run the ``forecast`` command; return its exit status (2 bad input, 3 unconverged,
    4 a file locked by another writer)."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            _warnings_as_lines()
            code = args.func(args)
        sys.stdout.flush()  # inside the try: a closed pipe is met here for short output
        return code
    except (ConfigError, LedgerError, LockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _exit_code(exc)
    except BrokenPipeError:
        # The reader (e.g. `| head`) closed the pipe: what was to be written is not wanted,
        # and whatever the command recorded is already on disk. Silence the final flush.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
