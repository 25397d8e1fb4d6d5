"""``forecast reference``: the outside view's predictions, backtest, link and comparison."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from forecast.cli.common import DEFAULT_QUESTION, EXIT_UNCONVERGED, failed, pct
from forecast.config import ConfigError, load_question


def _cached_fit(args, kind: str):
    """The ``hazard`` (event-history) or ``old`` (episode-coded) fit of the reference class
    (or of ``--train``), from the cache under --out; where it came from said on stderr."""
    from forecast import reference_store

    if kind == "hazard":
        fit, how = reference_store.cached_hazard_fit(args.out, directory=args.train)
        name, size = "hazard fit", f"{len(fit.cases)} cases, {len(fit.data)} case-years"
    else:
        fit, how = reference_store.cached_reference_fit(args.out, directory=args.train)
        name, size = "fit", f"{len(fit.cases)} cases"
    if not args.json:
        print(f"reference-class {name}: {how} ({size}; stored under "
              f"{Path(args.out) / reference_store.FOLDER})", file=sys.stderr)
    return fit


def _reference_link(args) -> int:
    from forecast.analysis import linked_prior_table
    from forecast.reference_priors import case_coding, derive, link_fit, write

    if args.train is not None:
        raise ConfigError(["reference link: --train is not allowed: the link records the "
                           "shipped reference class's hashes so that staleness can be checked"])
    config = load_question(args.path or DEFAULT_QUESTION)  # refuse bad input first
    case_coding(config)  # the question must be coded as a case before anything is fitted
    # the class as known at the question's creation: nothing learnt since enters the link
    fit, how = link_fit(config, args.out)
    if not args.json:
        print(f"reference-class hazard fit as known at {fit.known_at}: {how} "
              f"({len(fit.cases)} cases, {len(fit.data)} case-years)", file=sys.stderr)
    if not fit.converged:
        print("error: the reference-class fit FAILED its convergence gate "
              f"({failed(fit.diagnostics)}); nothing written", file=sys.stderr)
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
    """Each linked prior's mean and interval under each prior source, one line each."""
    wide = table.pivot_table(index=["parameter", "scale"], columns="source",
                             values=["mean", "lower", "upper"], sort=False)
    lines = []
    for (param, scale), row in wide.iterrows():
        cells = [f"{src}: {row[('mean', src)]:+.2f} [{row[('lower', src)]:+.2f}, "
                 f"{row[('upper', src)]:+.2f}]" for src in ("elicited", "reference_class", "both")]
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
        path, khat = rows["path"].iloc[0], rows["khat"].iloc[0]
        print(f"{rows['source_label'].iloc[0]}  [{path}"
              + (f", k-hat {khat:.2f}]" if khat == khat else "]"))
        for r in rows.itertuples():
            print(f"  {r.label:28} {pct(r.p)}   [{pct(r.lower)}, {pct(r.upper)}]")
    return 0


def _reference_backtest(args) -> int:
    from forecast.workflow import outside_view_backtest

    fit = _cached_fit(args, "hazard")
    old = None if args.train is None else _cached_fit(args, "old")
    bt, result = outside_view_backtest(fit, args.out, old_fit=old)
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
    table = reference_predict.predict(_cached_fit(args, "hazard"), cases, curve=args.curve)
    if args.json:
        print(table.to_json(orient="records", indent=2))
        return 0
    for r in table.itertuples():
        when = f"to year {r.year:g}" if args.curve else "kept 5 years"
        blank = f"  (integrated over: {r.integrated})" if r.integrated else ""
        print(f"{r.case_id:36} origin {r.origin}  {when:14} {pct(r.p_kept)}  "
              f"[{pct(r.lower)}, {pct(r.upper)}]{blank}")
    return 0


_ACTIONS = {"link": _reference_link, "compare": _reference_compare,
            "predict": _reference_predict, "backtest": _reference_backtest}


def cmd_reference(args) -> int:
    """``forecast reference``: predict, backtest, link or compare with the outside view."""
    return _ACTIONS[args.action](args)
