"""What every schema of a question's files shares: the strict base, ids, text, intervals.

One job: the vocabulary the other modules of :mod:`forecast.config` build on. The
pydantic base refuses unknown fields, NaN and infinity, and silent type coercion; the
one snake-case rule names outcomes, variables and questions; the elicited intervals
carry a belief's central mass; and the file names say what a question directory holds.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

#: Files that make up a question, in the order they are hashed.
QUESTION_FILES = ("question.yaml", "evidence.yaml", "model.yaml", "reliability.yaml")
LEDGER_FILE = "news.yaml"
#: Priors derived from the reference class (``forecast reference link``); read when used.
LINK_FILE = "reference_priors.yaml"
#: Optional named scenario combinations shown in the briefing.
SCENARIOS_FILE = "scenarios.yaml"
#: Optional: the question coded as a case of the historical reference class.
CASE_FILE = "reference_case.yaml"
#: The optional declaration of threads of dependent reports.
THREADS_FILE = "threads.yaml"
#: Files a question may have besides QUESTION_FILES and the ledger.
OPTIONAL_FILES = (SCENARIOS_FILE, CASE_FILE, LINK_FILE, THREADS_FILE)

#: The one snake-case rule: ids of questions, outcomes and evidence variables.
SNAKE_CASE = re.compile(r"[a-z][a-z0-9_]{0,47}")
#: A plain id (a thread's, a news item's): letters, digits, ``_``, ``.``, ``-``.
PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_snake_case(value: str) -> str:
    """``value`` if it is a valid id (the one snake-case rule), else ValueError saying why."""
    if not isinstance(value, str) or not SNAKE_CASE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid id: use snake_case (lowercase letters, digits and _, "
            "starting with a letter, at most 48 characters)"
        )
    return value


Identifier = Annotated[str, AfterValidator(check_snake_case)]
PlainId = Annotated[str, StringConstraints(pattern=f"^{PLAIN_ID.pattern}$")]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
#: A month, ``YYYY-MM``.
Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class StrictModel(BaseModel):
    """The base of every schema here: frozen, no unknown field, no NaN, no coercion."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


def check_unique(ids: list[str], what: str) -> None:
    """ValueError naming the first id of ``ids`` that is given twice (``what`` says where)."""
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"duplicate id {i!r} in {what}")
        seen.add(i)


class Bounds(StrictModel):
    """Two numbers, ``lower`` strictly below ``upper``: the shape of every stated interval."""

    lower: float
    upper: float

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if not self.lower < self.upper:
            raise ValueError(
                f"lower must be below upper (got lower={self.lower}, upper={self.upper})"
            )
        return self


class Interval(Bounds):
    """An elicited central interval: ``mass`` of the belief lies in ``[lower, upper]``."""

    mass: float = Field(gt=0.5, lt=1.0)


class ProbabilityInterval(Interval):
    """An elicited interval for a probability: bounds strictly inside (0, 1)."""

    lower: float = Field(gt=0.0, lt=1.0)
    upper: float = Field(gt=0.0, lt=1.0)


class OddsRatioInterval(Interval):
    """An elicited interval for an odds ratio: positive, finite bounds."""

    lower: float = Field(gt=0.0, le=1e4)
    upper: float = Field(gt=0.0, le=1e4)
