"""Tables as an analyst reads them in a notebook: rounded, named, whole.

One job: present the tidy DataFrames of :mod:`forecast.tables` and
:mod:`forecast.analysis` for reading. :func:`show` returns a pandas ``Styler``
that renders every row (no ``..`` cut), formats each column by what it holds
(probabilities as percentages, changes as signed points, MCSE to four decimals,
ESS as a count), joins ``lower``/``upper`` into one interval column, gives the
columns readable names and wraps long text. The numbers underneath are not
changed: the table stays the tidy table the charts take.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"label": ["Khmeimim"], "p": [0.8164], "lower": [0.613], "upper": [0.943]})
>>> show(t).data.columns.tolist()
['Label', 'P', '90% interval']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from forecast import fmt

#: Columns holding probabilities (shown as percentages).
PROBABILITY_COLUMNS = frozenset({
    "p", "lower", "upper", "before", "after", "p_state", "p_if_true", "p_if_false",
    "after_lower", "after_upper", "prior", "posterior", "p_prior", "p_posterior",
    "prior_p", "p_low", "p_high", "baseline", "observed", "predicted",
})

#: Readable names for the package's column ids; others get their id with spaces.
NAMES = {
    "p": "P", "word": "ICD 203 word", "mcse": "MCSE", "ess": "ESS", "label": "Label",
    "outcome_label": "Outcome", "outcome": "Outcome", "bears_on": "Bears on",
    "log_lr": "log LR alone", "entered": "log LR entered", "lr": "LR stated",
    "khat": "Pareto k-hat",
    "change_pp": "Change", "voi_pp": "Expected shift", "p_state": "P(state)",
    "p_if_true": "P if true", "p_if_false": "P if false", "prior_mean": "Prior centre",
    "news_log_lr": "News log LR", "r_hat_max": "R-hat (max)", "ess_bulk_min": "Bulk ESS (min)",
    "ess_tail_min": "Tail ESS (min)", "mcse_max": "MCSE (max)", "n_items": "Items",
    "reliability": "Code", "credibility": "Credibility h", "thread": "Thread",
}


def _formatter(column: str, values: pd.Series) -> Callable | None:
    name = column.lower()
    if name in PROBABILITY_COLUMNS or name.startswith("p_keep"):
        return fmt.pct
    if name.startswith(("voi", "swing")) and name.endswith("_pp"):
        return lambda x: fmt.pp(x).lstrip("+")  # a size, not a direction
    if name.endswith("_pp") or name == "change":
        return fmt.pp
    if "mcse" in name:
        return lambda x: fmt.number(x, 4)
    if name.startswith("ess") or name in {"n", "n_items", "draws", "new_items"}:
        return fmt.count
    if "khat" in name or "r_hat" in name:
        return lambda x: fmt.number(x, 3 if "r_hat" in name else 2)
    if pd.api.types.is_float_dtype(values):
        return lambda x: fmt.number(x, 2)
    return None


def show(
    table: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
    mass: float = 0.9,
    caption: str | None = None,
) -> pd.io.formats.style.Styler:
    """A table ready to read: formatted by column, renamed, all rows, long text wrapped.

    Parameters
    ----------
    table
        A tidy table.
    columns
        The columns to show, in order (default all). ``lower``/``upper`` (and
        ``after_lower``/``after_upper``) are joined into one interval column
        placed where ``lower`` was.
    names
        Column names overriding :data:`NAMES`.
    mass
        The credible mass the interval column is named after.
    caption
        A caption above the table.
    """
    data = table.loc[:, list(columns)] if columns is not None else table.copy()
    data = data.reset_index(drop=True)
    for lo, hi, prefix in (("lower", "upper", ""), ("after_lower", "after_upper", "after "),
                           ("voi_lower_pp", "voi_upper_pp", "shift ")):
        if lo in data.columns and hi in data.columns:
            if lo.endswith("_pp"):  # points, not probabilities
                joined = [f"{fmt.number(a, 1)}–{fmt.number(b, 1)} pp"
                          for a, b in zip(data[lo], data[hi], strict=True)]
            else:
                joined = [fmt.interval(a, b) for a, b in zip(data[lo], data[hi], strict=True)]
            at = data.columns.get_loc(lo)
            data = data.drop(columns=[lo, hi])
            data.insert(at, f"{prefix}{mass:.0%} interval", joined)
    formats = {c: f for c in data.columns if (f := _formatter(str(c), data[c])) is not None}
    labels = {**NAMES, **(names or {})}
    rename = {c: labels.get(str(c), str(c).replace("_", " ").capitalize()
                            if str(c).islower() else str(c)) for c in data.columns}
    data = data.rename(columns=rename)
    formats = {rename[c]: f for c, f in formats.items()}
    styler = data.style.format(formats, na_rep="–").hide(axis="index")
    styler = styler.set_table_styles([
        {"selector": "td", "props": "white-space: normal; max-width: 36em; text-align: left;"},
        {"selector": "th", "props": "text-align: left;"},
    ])
    if caption:
        styler = styler.set_caption(caption)
    return styler


def show_ledger(config, items, *, caption: str | None = None) -> pd.io.formats.style.Styler:
    """The news ledger as the model reads it: date, headline, code, target, thread, the
    stated ratio and the log ratio it enters with (after credibility, cluster and thread)."""
    from forecast.tables import ledger_table

    ledger = ledger_table(config, items)
    ledger = ledger.assign(lr=ledger["lr"].map(lambda v: v if isinstance(v, str)
                                               else fmt.ratio(v)))
    return show(ledger, columns=["date", "headline", "reliability", "bears_on", "thread", "lr",
                                 "entered"],
                names={"date": "Date", "headline": "Headline"},
                caption=caption or f"The news ledger ({len(ledger)} items)")
