"""The ``forecast`` argument parser: one builder per group of sub-commands.

Each sub-command's ``func`` is the command function that calls the library and
prints; the value types (``t.ratio``, ``t.seed``, ...) refuse bad input with a
usage line and exit status 2 before any command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from forecast.cli import argtypes as t
from forecast.cli.common import DEFAULT_QUESTION
from forecast.cli.news import cmd_retract, cmd_update, cmd_what_if
from forecast.cli.outputs import cmd_charts, cmd_report
from forecast.cli.questions import cmd_new, cmd_run, cmd_validate
from forecast.cli.record import cmd_diff, cmd_history, cmd_record
from forecast.cli.reference import cmd_reference
from forecast.cli.scores import cmd_crowd, cmd_resolve, cmd_score
from forecast.ledger import LR_BOUNDS

#: What the tool is, said in ``forecast --help``.
_ABOUT = ("The forecast command line. It forecasts a question's outcomes from elicited priors "
          "and dated news items, with a Bayesian model.")


def add(sub, name: str, func, text: str, *, question: bool = False,
        **kw) -> argparse.ArgumentParser:
    """The sub-command ``name`` run by ``func``, whose --help opens with the same sentence
    the command list shows; with ``question``, its first argument is a question directory."""
    p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".", **kw)
    p.set_defaults(func=func)
    if question:
        question_arg(p)
    return p


def question_arg(p, nargs="?") -> None:
    """The question directory, the repository's by default."""
    p.add_argument("question", nargs=nargs, type=Path, default=DEFAULT_QUESTION,
                   metavar="QUESTION_DIR",
                   help=f"question directory (default: {DEFAULT_QUESTION})")


def engine_arg(p, what="how the forecast is computed") -> None:
    """``--engine``: exact or nuts."""
    p.add_argument("--engine", choices=["exact", "nuts"], default=None,  # engine.ENGINES
                   help=f"{what}: exact (prior draws weighted by the exact news "
                        "likelihood, in a second; NUTS takes over, loudly, if its weights "
                        "fail the gate) or nuts (the PyMC model sampled, the cross-check); "
                        "default: engine.default in model.yaml")


def out_arg(p, what="where fits are stored and reused") -> None:
    """``--out``: the results root, where fits are stored and reused."""
    p.add_argument("--out", type=Path, default=Path("out"), metavar="DIR",
                   help=f"{what} (default: out)")


def seed_arg(p) -> None:
    """``--seed``: the sampler's seed."""
    p.add_argument("--seed", type=t.seed, default=None, metavar="N",
                   help="sampler seed, 0 to 2**32-1 (default: model.yaml's sampler.seed)")


def json_arg(p, what="print the result as JSON instead of a table") -> None:
    """``--json`` instead of the table."""
    p.add_argument("--json", action="store_true", help=what)


def issue_arg(p, what="the forecast") -> None:
    """``--issue``: into the record (off by default)."""
    p.add_argument("--issue", action="store_true",
                   help=f"issue {what} into the question's record of issued forecasts "
                        "(record.jsonl in the question directory, append-only); off by "
                        "default, and never for a forecast that failed its gate")


def table_formats(p, json_help: str, csv_help: str) -> None:
    """``--json`` or ``--csv`` (one of them) instead of the table."""
    fmt = p.add_mutually_exclusive_group()
    json_arg(fmt, json_help)
    fmt.add_argument("--csv", action="store_true", help=csv_help)


def build_parser() -> argparse.ArgumentParser:
    """The ``forecast`` argument parser, one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="forecast", description=_ABOUT,
        epilog="Run 'forecast COMMAND --help' for a command's options. Bad input: a "
               "message naming the file and field, exit status 2, nothing written.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (_questions, _news, _record, _outputs, _new, _reference, _scores):
        group(sub)
    return parser


def _questions(sub) -> None:
    """The sub-commands validate and run: a question's files and its forecast."""
    p = add(sub, "validate", cmd_validate,
            "check a question's prior files and news ledger", question=True)
    p.add_argument("--strict", action="store_true",
                   help="also refuse values still marked TODO (exit 2)")

    p = add(sub, "run", cmd_run,
            "compute the forecast (exact engine, or NUTS) and write it, its draws and chart")
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


def _news(sub) -> None:
    """The sub-commands update, retract and what-if: news recorded, withdrawn or imagined."""
    p = add(sub, "update", cmd_update, "record a news item and show how it moved the forecast",
            epilog="Give the item either as --item FILE or through the flags: --date, "
                   "--headline, --source, --reliability, --bears-on and --lr are then "
                   "required. Nothing is recorded when the item is refused.", question=True)
    p.add_argument("--item", metavar="FILE",
                   help="a YAML file holding one news item, with the fields of a news.yaml "
                        "entry (used instead of the flags below)")
    p.add_argument("--id", help="the item's unique id: letters, digits, '_', '.', '-' "
                                "(default: the date and the headline, e.g. "
                                "2026-11-20-ships-leave-tartus)")
    p.add_argument("--date", type=t.day, metavar="YYYY-MM-DD",
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
    p.add_argument("--lr", type=t.ratio, metavar="RATIO",
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

    p = add(sub, "retract", cmd_retract,
            "withdraw an earlier news item by a new ledger entry, with a reason",
            epilog="The ledger stays append-only: the item stays as it was entered, and from "
                   "the retraction's date on it no longer counts (a forecast as of an earlier "
                   "date still counts it). An item is retracted once; a retraction cannot "
                   "itself be retracted (enter the report again as a new item instead). "
                   "Nothing is recorded when the retraction is refused.", question=True)
    p.add_argument("item_id", metavar="ITEM_ID",
                   help="the id of the ledger item to withdraw (forecast history and the "
                        "report's ledger list them)")
    p.add_argument("--reason", required=True, metavar="TEXT",
                   help="why: e.g. 'shown false by satellite imagery' or 'a duplicate of "
                        "<id>'")
    p.add_argument("--source", required=True, metavar="TEXT",
                   help="who showed it: the outlet's correction, the debunking report")
    p.add_argument("--url", help="where to read the correction (optional; http(s)://)")
    p.add_argument("--date", type=t.day, metavar="YYYY-MM-DD",
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

    p = add(sub, "what-if", cmd_what_if,
            "the forecast if a report you could obtain arrives, or its opposite",
            epilog="Nothing is recorded. The opposite report has the reciprocal ratio "
                   "(an interval LOW:HIGH becomes 1/HIGH:1/LOW).", question=True)
    p.add_argument("--bears-on", dest="bears_on", required=True, metavar="ID",
                   help="the evidence variable or base the report would bear on")
    p.add_argument("--reliability", required=True, metavar="CODE",
                   help="the Admiralty code it would carry, e.g. B2 (case does not matter)")
    p.add_argument("--lr", type=t.ratio, required=True, metavar="RATIO",
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


def _record(sub) -> None:
    """The sub-commands history, record and diff: what was issued, and what changed."""
    p = add(sub, "history", cmd_history,
            "the issued forecasts and the reconstruction after each ledger date",
            epilog="Two layers, labelled: the record (forecasts issued with --issue, never "
                   "rewritten) and the reconstruction (today's priors and model on the items "
                   "dated by each day, and not retracted by then: not what was said then). "
                   "--json and --csv give the reconstruction's rows.", question=True)
    table_formats(p, "print the history as JSON records",
                  "print the history as CSV: one row per date and outcome")
    out_arg(p)
    seed_arg(p)

    p = add(sub, "record", cmd_record,
            "the issued forecasts of a question, oldest first", question=True)
    table_formats(p, "print the entries as a JSON list, each exactly as recorded",
                  "print the record as CSV: one row per issued forecast and outcome "
                  "(issued, outcome, p, ...: it imports as a crowd's timeline)")

    p = add(sub, "diff", cmd_diff,
            "what changed between two issued forecasts, and the news's credit",
            epilog="Each of --from and --to picks the forecast standing then: the last one "
                   "issued on or before it (a date means the end of that day, UTC). By "
                   "default: the last two issued. The news's credit is Shapley values under "
                   "today's priors and model; the rest of the change is the priors', the "
                   "code's and Monte Carlo error.", question=True)
    p.add_argument("--from", dest="from_", type=t.moment, default=None, metavar="DATE",
                   help="the earlier forecast: YYYY-MM-DD or an issued time")
    p.add_argument("--to", type=t.moment, default=None, metavar="DATE",
                   help="the later forecast (default: the last issued)")
    json_arg(p, "print the items entered, the inputs changed, the change per outcome and "
                "the attribution as JSON")
    out_arg(p, "where fits are stored and reused (for the attribution)")


def _outputs(sub) -> None:
    """The sub-commands charts and report: the briefing's files."""
    p = add(sub, "charts", cmd_charts, "write the briefing chart set", question=True)
    out_arg(p, "the results root: the charts go to DIR/<question dir>/charts/ with their "
               "index charts.csv; stored fits there are reused")
    p.add_argument("--format", type=t.formats, default=("png",), metavar="LIST",
                   help="comma-separated file formats: png, svg, pdf (default: png)")
    p.add_argument("--dpi", type=t.dpi, default=None, metavar="N",
                   help="raster resolution, 10 to 1200 (default: the theme's)")

    p = add(sub, "report", cmd_report, "write a one-file HTML briefing", question=True)
    out_arg(p, "the results root: the briefing goes to DIR/<question dir>/report/ (HTML "
               "and PDF); stored fits there are reused")


def _new(sub) -> None:
    """The sub-commands new: a question scaffolded from the template."""
    p = add(sub, "new", cmd_new, "scaffold a new question directory from the template")
    p.add_argument("name", help="snake_case name of the question, e.g. port_access")
    p.add_argument("--root", type=Path, default=Path("priors"), metavar="DIR",
                   help="folder to create it in (default: priors)")


def _reference(sub) -> None:
    """The sub-commands reference: the outside view."""
    p = add(sub, "reference", cmd_reference, "the outside view: the historical reference class")
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


def _scores(sub) -> None:
    """The sub-commands resolve, score and crowd: how it resolved, and how we did."""
    p = add(sub, "resolve", cmd_resolve, "record how a question resolved", question=True)
    p.add_argument("--outcome", type=t.outcomes, required=True, metavar="BASE=0|1,...",
                   help="every outcome's resolution, 1 = yes, 0 = no, e.g. "
                        "khmeimim=1,tartus=0")
    p.add_argument("--date", type=t.day, required=True, metavar="YYYY-MM-DD",
                   help="the date it resolved; not before the question's created date")

    p = add(sub, "score", cmd_score,
            "score the issued forecasts (the record) once the question has resolved",
            epilog="Time-averaged over the open period (created to the resolution date), each "
                   "issued forecast standing until the next: Brier, Good Judgment Open's Brier, "
                   "the log score and Metaculus's baseline score, per base and for all and "
                   "any, beside the crowd (if imported), the reference class at the "
                   "question's horizon and 50%.", question=True)
    p.add_argument("--crowd", type=Path, default=None, metavar="FILE",
                   help="score against this crowd CSV instead of the question's imported "
                        "crowd.csv (see forecast crowd); nothing is written")
    p.add_argument("--hindsight", action="store_true",
                   help="also score the reconstruction (forecast history: today's model on "
                        "the items dated by each day), labelled hindsight")
    out_arg(p, "where fits are stored and reused (for --hindsight)")
    json_arg(p)

    p = add(sub, "crowd", cmd_crowd,
            "import a crowd's or a market's timeline of probabilities to score against",
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
