"""``forecast resolve``, ``score`` and ``crowd``: how a question resolved, and how we did."""

from __future__ import annotations

from forecast import fmt
from forecast.cli.common import gate


def cmd_resolve(args) -> int:
    """``forecast resolve``: record how a question resolved."""
    from forecast.scoring import resolve

    path = resolve(args.question, args.outcome, args.date)
    print(f"recorded the resolution in {path}")
    return 0


#: What the score columns mean and which way is better, said under the table.
_SCALES = ("lower is better: Brier [0, 1], GJO Brier [0, 2]; higher is better: log (ln of the "
           "probability of what happened), baseline (Metaculus: 0 = 50%, 100 = certain; 0 "
           "before the first forecast), peer (100 x the mean log-score difference from the "
           "crowd on the days both stood; above 0, better than the crowd)")


def cmd_score(args) -> int:
    """``forecast score``: the record's scores as platforms compute them, beside others."""
    from forecast.config import load_question
    from forecast.crowd import crowd_path
    from forecast.review import score_question

    config = load_question(args.question)
    s = score_question(config, args.out, crowd=args.crowd, hindsight=args.hindsight)
    table, res = s.table, s.resolution
    # The record's forecasts passed their gates when issued; the reconstruction may not.
    code = 0 if s.forecast is None else gate(s.forecast, "the hindsight scores")
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
        issued = fmt.counted(int(mine["n_forecasts"].max()), "issued forecast")
        print(f"record: {issued} before the "
              f"resolution, standing from {first['first'] or 'never'} "
              f"({first['coverage']:.0%} of the open period)")
    if "crowd" in set(table["forecaster"]):
        print(f"crowd: {args.crowd or crowd_path(config)}")
    comp = s.comparison
    print(f"reference: the dated reference class's Kaplan-Meier rate, as known at the "
          f"question's creation ({config.question.created}), of keeping the main "
          f"facility to the horizon, {comp[config.bases[0]]:.1%} per base, all "
          f"{comp['all']:.1%}, any "
          f"{comp['any']:.1%} (outcome_dependence {config.model.outcome_dependence.value:g})")
    print(_score_table(table))
    print(_SCALES)
    if s.forecast is not None:
        print("hindsight: the reconstruction (today's model on the items dated by each day), "
              "scored knowing what is known now: it measures hindsight, not forecasting skill")
    return code


def _score_table(table) -> str:
    """The scores, one line per outcome and forecaster, formatted to read."""
    names = {"fifty": "50%"}
    shown = table.assign(
        forecaster=table["forecaster"].map(lambda f: names.get(f, f)),
        coverage=table["coverage"].map(lambda c: f"{c:.0%}"),
        baseline=table["baseline"].map(lambda v: f"{v:+.1f}"),
        peer=table["peer"].map(lambda v: "" if v != v else f"{v:+.1f}"))
    shown = shown[["outcome", "forecaster", "brier", "gjo_brier", "log_score", "baseline",
                   "peer", "coverage"]].rename(columns={
                       "brier": "Brier", "gjo_brier": "GJO Brier", "log_score": "log"})
    return shown.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def cmd_crowd(args) -> int:
    """``forecast crowd import``: check a crowd's timeline and keep a copy with the question."""
    from forecast.crowd import import_crowd

    path, table = import_crowd(args.question, args.file, outcome=args.outcome)
    counts = table.groupby("outcome", sort=False).size()
    print(f"imported {len(table)} {'probability' if len(table) == 1 else 'probabilities'} ("
          + ", ".join(f"{o}: {n}" for o, n in counts.items())
          + f"; {table['date'].min()} to {table['date'].max()}) from {args.file} into {path}")
    return 0
