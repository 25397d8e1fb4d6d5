"""``forecast history``, ``record`` and ``diff``: what was issued, and what changed since."""

from __future__ import annotations

import json

from forecast import fmt
from forecast.cli.common import gate, labels, pct
from forecast.config import load_question


def cmd_history(args) -> int:
    """``forecast history``: the issued forecasts and the reconstruction, as two layers.

    The table shows the record (what was issued, never rewritten) and the reconstruction
    (today's model on the items dated by each day) apart; ``--json`` and ``--csv`` give
    the reconstruction's rows, each labelled ``layer: reconstruction``.
    """
    from forecast.review import question_history

    h = question_history(load_question(args.question), args.out, seed=args.seed)
    if args.json:
        print(h.reconstruction.to_json(orient="records", date_format="iso", indent=2))
    elif args.csv:
        print(h.reconstruction.to_csv(index=False), end="")
    else:
        print(_history_text(h.reconstruction, h.config, h.record, h.record_file, h.stale))
    return gate(h.forecast, "the reconstruction")


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
    names = labels(config)
    keys = [k for k in config.headline_outcomes if k in set(table["outcome"])]
    width = max(len(names[k]) for k in keys)
    print(f"{fmt.counted(len(entries), 'issued forecast')} in {record_path(config)}, oldest first")
    for e, (_, rows) in zip(entries, table.groupby("entry", sort=True), strict=True):
        print(f"issued {e['issued']} | as of {e['as_of']} | {e['ledger']['items']} items "
              f"(last entered: {e['ledger']['last_item'] or 'none'}) | engine {e['engine']}, "
              f"path {e['path']}")
        by = rows.set_index("outcome")
        for k in keys:
            r = by.loc[k]
            print(f"  {names[k]:{width}} {pct(r['p'])}   [{pct(r['lower'])}, "
                  f"{pct(r['upper'])}]")
    return 0


def cmd_diff(args) -> int:
    """``forecast diff``: what changed between two issued forecasts, and who moved them.

    The items that arrived (and any retracted), the inputs whose hashes changed (prior
    files by name), the change per outcome, and the Shapley credit of the news that
    changed (:func:`forecast.news.diff_attribution`, under today's model) beside what
    the rest (priors, code, versions, Monte Carlo error) moved.
    """
    from forecast.review import diff_forecasts

    config = load_question(args.question)
    d = diff_forecasts(config, from_=args.from_, to=args.to, out=args.out)
    result = d.changes
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name, e, n in (("from", d.old, 0), ("to", d.new, 1)):
        print(f"{name + ':':5} issued {e['issued']} (as of {e['as_of']}, "
              f"{result['items'][n]} items)")
    if d.same:
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
        n = result["unstamped"]
        print(f"  ({fmt.counted(n, 'ledger item')} {'carries' if n == 1 else 'carry'} no recorded "
              "stamp and cannot be placed)")
    print("inputs changed: " + (", ".join(result["inputs"]) or "none"))
    _print_priors(result)
    _print_credit(result, labels(config))
    return 0


def _prior_text(p) -> str:
    """One prior as a record entry keeps it: its distribution, interval and origin."""
    return "absent" if p is None else (
        f"{p['dist']}({p['kwargs']}), interval {p['interval'][0]:.3g}-"
        f"{p['interval'][1]:.3g} ({p['origin']})")


def _print_priors(result) -> None:
    """The priors that changed between two entries (or only their files, for old entries)."""
    files = [name.removeprefix("files/") for name in result["inputs"]
             if name.startswith("files/")]
    if result["priors"]:
        print(f"priors changed: {len(result['priors'])}")
        for r in result["priors"]:
            print(f"  {r['parameter']}: {_prior_text(r['from'])} -> {_prior_text(r['to'])}")
    elif files:
        print("prior files changed: " + ", ".join(files) + " (an entry issued before the "
              "record kept the priors' values carries only their hashes)")
    else:
        print("priors changed: none")


def _print_credit(result, names: dict[str, str]) -> None:
    """The change per outcome, the news's Shapley credit and the rest's, item by item."""
    width = max(len(names.get(r["outcome"], r["outcome"])) for r in result["change"])
    a = result["attribution"]
    print("change per outcome: issued, then the news's part (Shapley credit under "
          "today's model) and the rest (priors, code, versions, Monte Carlo error)")
    for r in result["change"]:
        k = r["outcome"]
        news, rest = a["news_pp"].get(k), a["other_pp"].get(k)
        split = "" if news is None else f"   news {news:+5.1f} pp, rest {rest:+5.1f} pp"
        print(f"  {names.get(k, k):{width}} {pct(r['from'])} -> {pct(r['to'])}  "
              f"{r['change_pp']:+5.1f} pp{split}")
    if a["items"]:
        keys = list(a["news_pp"])
        print("news credit (Shapley, percentage points; " + ", ".join(
            names.get(k, k) for k in keys) + "):")
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

    names = labels(config)
    outcomes = list(dict.fromkeys(table["outcome"]))
    width = 22

    def cells(by) -> str:
        return "  ".join(
            f"{pct(by.loc[o, 'p']).strip():>6} [{pct(by.loc[o, 'lower']).strip()}, "
            f"{pct(by.loc[o, 'upper']).strip()}]".ljust(width) for o in outcomes)

    issued = record is not None and not record.empty
    none_yet = "" if issued else (
        f"; no forecast issued yet ({record_file or 'record.jsonl'} is empty: "
        "'forecast run --issue')")
    head = f"{'after':10} {'items':>5}  " + "  ".join(
        f"{names.get(o, o)[:width]:{width}}" for o in outcomes) + "  new items"
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
                      f"{names.get(o, o)[:width]:{width}}" for o in outcomes)
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
