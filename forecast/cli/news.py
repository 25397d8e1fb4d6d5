"""``forecast update``, ``retract`` and ``what-if``: news recorded, withdrawn or imagined."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys

from forecast.cli.argtypes import ratio_refusal
from forecast.cli.common import EXIT_UNCONVERGED, NOT_ISSUED, failed, issued_text, labels, pct
from forecast.config import load_question
from forecast.errors import LedgerError

#: Item fields and the flags of ``forecast update`` that give them.
_FLAGS = {"id": "--id", "date": "--date", "headline": "--headline", "source": "--source",
          "url": "--url", "reliability": "--reliability", "bears_on": "--bears-on",
          "lr": "--lr", "cluster": "--cluster", "thread": "--thread", "notes": "--notes"}
#: Retraction fields and the arguments of ``forecast retract`` that give them.
_RETRACT_FLAGS = {"id": "--id", "date": "--date", "retracts": "ITEM_ID", "reason": "--reason",
                  "source": "--source", "url": "--url", "notes": "--notes"}


def _as_flags(message: str, where: str, flags: dict[str, str], args=None) -> str:
    """An entry's error lines, with its fields named by the flags that gave them.

    With ``args`` (an item's flags), ``--lr`` is explained in the syntax typed, and an
    id made from ``--date`` and ``--headline`` says how to give another.
    """
    lines = []
    for line in message.splitlines():
        field, sep, rest = line.removeprefix(f"{where}: ").partition(": ")
        if not line.startswith(f"{where}: ") or not sep or field not in flags:
            lines.append(line)
        elif args is not None and field == "lr":
            lines.append(f"{where}: {ratio_refusal(args.lr)}")
        elif args is not None and field == "id" and args.id is None:
            lines.append(f"{line}; give the item another with --id")
        else:
            lines.append(f"{where}: {flags[field]}: {rest}")
    return "\n".join(lines)


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


def _item_from_args(args) -> dict:
    """The item's fields: from ``--item FILE``, or from the flags (all required ones given)."""
    if args.item:
        from forecast.workflow import read_item

        return read_item(args.item)
    missing = [f"--{n.replace('_', '-')}" for n in ("date", "headline", "source", "reliability",
                                                    "bears_on", "lr") if getattr(args, n) is None]
    if missing:
        raise LedgerError(f"item: give --item FILE or all of: {', '.join(missing)}")
    data = {"id": args.id or item_id_for(args.date, args.headline), "date": args.date,
            "headline": args.headline, "source": args.source, "reliability": args.reliability,
            "bears_on": args.bears_on, "lr": args.lr}
    return data | _optional(args, ("url", "cluster", "thread", "notes"))


def _optional(args, names) -> dict:
    """The optional fields the user gave."""
    return {name: getattr(args, name) for name in names if getattr(args, name)}


def _finish(args, result, what: str, say_unissued: bool = False) -> int:
    """Say a failed gate (the entry is recorded either way), issue, or print JSON; the code."""
    after = result.after
    code = 0 if after.fit.diagnostics["passed"] else EXIT_UNCONVERGED
    if code:
        print(f"WARNING: {what} FAILED its convergence gate "
              f"({failed(after.fit.diagnostics)}); do not brief this number", file=sys.stderr)
        if say_unissued and args.issue:
            print(NOT_ISSUED, file=sys.stderr)
    elif args.issue:  # the ledger is read again: it must still hold what the forecast saw
        from forecast.record import issue

        print(issued_text(issue(after), after.config),
              file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    return code


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
        raise LedgerError(_as_flags(str(exc), where, _FLAGS, args)) from None  # as typed
    code = _finish(args, result, "the refitted posterior", say_unissued=True)
    if args.json:
        return code
    after = result.after
    print(f"recorded {result.item.id} ({result.item.date}, {result.item.reliability}, "
          f"bears on {result.item.bears_on})")
    khat = f" (Pareto k-hat {after.khat:.2f})" if after.khat is not None else ""
    print(f"path: {after.path}{khat}")
    print(_entered_text(config, result))
    _print_moves(config, result)
    return code


def _entered_text(config, result) -> str:
    """How the item entered: credibility, its ratio alone, and its thread's discount."""
    from forecast.workflow import how_entered

    item, how = result.item, how_entered(config, result)
    text = (f"entered: credibility h = {how.credibility:.2f} ({item.reliability}), ratio alone "
            f"{how.alone:.3g}")
    if not how.counted:
        return text + f"; a repeat of cluster {item.cluster!r}: counted by a stronger item"
    if how.effective is not None:
        text += (f"; thread {item.thread} (rho {how.rho:g}): its {how.thread_reports} reports "
                 f"on {item.bears_on} are worth at most {how.effective:.2f} independent ones, "
                 f"credited strongest first, so this one adds {how.entered:.3g}")
    return text + ". The move below is this item's effect given the rest of the ledger."


def cmd_retract(args) -> int:
    """``forecast retract``: withdraw an earlier ledger item by a new entry; show the move."""
    from forecast.ledger import ledger_path
    from forecast.news import retract

    config = load_question(args.question)
    date = args.date or dt.date.today()
    data = {"id": args.id or f"{date.isoformat()}-retracts-{args.item_id}"[:64].rstrip("-."),
            "date": date, "retracts": args.item_id, "reason": args.reason,
            "source": args.source} | _optional(args, ("url", "notes"))
    where = f"{ledger_path(config)}: new retraction"
    try:
        result = retract(config, data, out=args.out, seed=args.seed, where=where,
                         engine=args.engine)
    except LedgerError as exc:
        raise LedgerError(_as_flags(str(exc), where, _RETRACT_FLAGS)
                          + "\nnothing was written.") from None
    code = _finish(args, result, "the forecast after the retraction")
    if args.json:
        return code
    r, item = result.retraction, result.item
    print(f"recorded {r.id}: retracts {item.id} ({item.date}, {item.headline!r}) as of "
          f"{r.date}")
    print(f"reason: {r.reason} (source: {r.source})")
    print(f"the item stays in the ledger; forecasts as of {r.date} or later no longer count "
          f"it (path: {result.after.path})")
    _print_moves(config, result)
    return code


def cmd_what_if(args) -> int:
    """``forecast what-if``: the forecast if a pending report arrives, or its opposite."""
    from forecast.workflow import what_if

    config = load_question(args.question)
    try:
        w = what_if(config, bears_on=args.bears_on, reliability=args.reliability, lr=args.lr,
                    thread=args.thread, movers=args.movers, out=args.out, seed=args.seed,
                    engine=args.engine)
    except LedgerError as exc:
        raise LedgerError(_as_flags(str(exc), "pending report", _FLAGS, args)) from None
    if args.json:
        out = {"pending": w.pending.to_dict(orient="records")}
        if w.movers is not None:
            out["word_movers"] = w.movers.to_dict(orient="records")
        print(json.dumps(out, indent=2, default=str))
        return 0
    print(f"A pending report ({args.reliability.upper()}, bears on {args.bears_on}, "
          f"LR {getattr(args.lr, 'typed', args.lr)})"
          f" — as of {w.forecast.as_of}, engine {w.forecast.engine}; nothing is recorded")
    for scenario, rows in w.pending.groupby("scenario", sort=False):
        print(f"  {scenario}:")
        for r in rows.itertuples():
            flag = "   <- the word changes" if r.word_changes else ""
            change = "" if scenario == "now" else f"  {r.change_pp:+5.1f} pp"
            print(f"    {r.label:24} {pct(r.p)}{change}  {r.word}{flag}")
    if w.movers is not None:
        print(f"The weakest {args.reliability} report that would change a briefed word:")
        for r in w.movers.itertuples():
            print(f"  {r.target_label:38} {r.direction:8} LR {r.lr:<6.3g} {r.label}: "
                  f"{r.word_now} -> {r.word} ({pct(r.p_now).strip()} -> {pct(r.p).strip()})")
    return 0


def _print_moves(config, result) -> None:
    """Each outcome before -> after an update or a retraction, then the forecast's notes."""
    names = labels(config)
    for row in result.contribution_rows():
        print(f"  {names[row['outcome']]:24} {pct(row['before'])} -> {pct(row['after'])}   "
              f"{row['change_pp']:+5.1f} pp   {row['change_logodds']:+.3f} log-odds")
    for note in result.after.notes:
        print(f"note: {note}")
