"""The key judgements in words, written from the numbers.

One job: the short briefing paragraph an analyst would say aloud — the
estimative word and probability per base, what moved the forecast most since
the comparison point (the priors, or a forecast issued earlier), and what would
change it — so that every notebook's closing cell, ``forecast run`` and the
report's first section say the same thing, and say it from the same numbers.

Examples
--------
>>> text = key_judgements(forecast, items)                   # doctest: +SKIP
>>> print(text)                                              # doctest: +SKIP
Khmeimim air base: likely kept on 2027-12-31 (82%; 90% interval 61–94%). ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from forecast import fmt
from forecast.engine import Forecast, fewer_draws
from forecast.ledger import NewsItem
from forecast.tables import outcome_labels


@dataclass(frozen=True)
class Findings:
    """The paragraphs of the key judgements; prints as text, shows as Markdown in Jupyter."""

    paragraphs: tuple[str, ...]

    def __str__(self) -> str:
        return "\n\n".join(p.replace("**", "") for p in self.paragraphs)

    def _repr_markdown_(self) -> str:
        return "\n\n".join(self.paragraphs)

    def html(self) -> str:
        """The paragraphs as HTML (bold kept, everything else escaped)."""
        from html import escape

        out = []
        for p in self.paragraphs:
            parts = escape(p).split("**")
            out.append("<p>" + "".join(f"<b>{t}</b>" if i % 2 else t
                                       for i, t in enumerate(parts)) + "</p>")
        return "".join(out)


def key_judgements(forecast: Forecast, items: Sequence[NewsItem], *,
                   since: Forecast | None = None, since_label: str | None = None,
                   credit: pd.DataFrame | None = None) -> Findings:
    """Write the key judgements of a forecast.

    Parameters
    ----------
    forecast
        The forecast to brief.
    items
        The ledger (items after ``forecast.as_of`` are ignored).
    since
        The comparison point for "what moved it"; default: the same draws with no
        news (the priors). Its move is credited to the news by Shapley values.
    since_label
        How to name the comparison point (default: "the priors").
    credit
        :func:`forecast.attribution.shapley` of this forecast, when already computed.

    Returns
    -------
    Findings
    """
    from forecast.analysis import value_of_information
    from forecast.attribution import group_credits, shapley

    config = forecast.config
    q = config.question
    labels = outcome_labels(forecast)
    probs = forecast.probabilities()
    mass = f"{config.model.credible_mass:.0%}"
    word = config.wording.probability
    lines = []
    for b in config.bases:
        e = probs[b]
        lines.append(f"**{labels[b]}**: {fmt.estimative_word(e.mean)}, {word} "
                     f"{fmt.pct(e.mean)} ({mass} interval {fmt.interval(e.lower, e.upper)}).")
    if len(config.bases) > 1:
        lines.append(f"{labels['all']}: {fmt.estimative_word(probs['all'].mean)} "
                     f"({fmt.pct(probs['all'].mean)}); {labels['any'].lower()}: "
                     f"{fmt.pct(probs['any'].mean)}.")
    first = " ".join(lines)
    paragraphs = [f"As of {forecast.as_of}, for {q.horizon}: {first}"]

    table = shapley(forecast, items) if credit is None else credit
    if table.empty:
        paragraphs.append(f"No news dated on or before {forecast.as_of} is in the ledger: "
                          "the forecast is the priors' alone.")
    else:
        start = table.drop_duplicates("outcome").set_index("outcome")["no_news"]
        label = since_label or "the priors"
        if since is not None:
            start = {k: e.mean for k, e in since.probabilities().items()}
        moves = ", ".join(f"{labels[b]} {fmt.pp(100 * (probs[b].mean - start[b]))}"
                          for b in config.bases)
        credits = group_credits(table)
        per_base = []
        for b in config.bases:  # each base's own largest movers: they need not be the same
            lead = credits[credits["outcome"] == b].head(2)
            named = " and ".join(f"{_mid(r.group_label)} ({fmt.pp(r.group_pp)}, {r.n_items} "
                                 f"item{'s' if r.n_items != 1 else ''})"
                                 for r in lead.itertuples())
            per_base.append(f"for {labels[b]}, {named}" if len(config.bases) > 1 else named)
        n = len({i for i in table["item"]})
        paragraphs.append(f"Since {label}, {n} news items moved the forecast: {moves}. "
                          f"The largest shares (Shapley credit, independent of the order of "
                          f"the news): {'; '.join(per_base)}.")
    # which unknown matters most is a ranking: 8,000 of the draws decide it, at a fraction
    # of the cost (the briefed numbers above come from all of them)
    voi = value_of_information(fewer_draws(forecast, list(items), 8_000))
    main = voi[voi["outcome"] == config.bases[0]].sort_values("voi_pp", ascending=False)
    if not main.empty:
        top = main.iloc[0]
        paragraphs.append(
            f"What would change it most: **{top['label']}** (now {fmt.pct(top['p_state'])} "
            f"likely by the horizon). If it comes true, {labels[config.bases[0]]} goes to "
            f"{fmt.pct(top['p_if_true'])} ({fmt.estimative_word(top['p_if_true'])}); if it "
            f"does not, to {fmt.pct(top['p_if_false'])} "
            f"({fmt.estimative_word(top['p_if_false'])}).")
    return Findings(tuple(paragraphs))


def _mid(label: str) -> str:
    """A label as it reads mid-sentence: "The basing negotiation" -> "the basing negotiation"."""
    return "the " + label[4:] if label.startswith("The ") else label
