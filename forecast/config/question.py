"""The question and what bears on it: ``question.yaml``, ``evidence.yaml`` and the rest.

One job: the schemas of the files that say what is asked and what evidence counts --
the question with its outcomes and dates (``question.yaml``), the evidence variables
(``evidence.yaml``), the credibility of Admiralty codes (``reliability.yaml``), the
threads of dependent reports (``threads.yaml``) and the named what-ifs
(``scenarios.yaml``). Checks that span files live in :mod:`forecast.config.load`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from forecast.config.base import Identifier, PlainId, StrictModel, Text, check_unique
from forecast.config.priors import Dependence, EffectPrior, ProbabilityPrior

#: Exact enumeration visits 2**K evidence states; past this it stops paying (see benchmarks/).
MAX_EVIDENCE_VARIABLES = 12


class Outcome(StrictModel):
    """One outcome of the question (a base), its resolution criterion and baseline prior."""

    id: Identifier
    name: Text
    resolution: Text
    baseline: ProbabilityPrior


class Wording(StrictModel):
    """How charts, tables and the CLI name the question's probabilities."""

    probability: Text = Field("P(yes)", max_length=24)
    axis: Text = Field("Probability of YES on the horizon date", max_length=90)
    all: Text = Field("Every outcome YES", max_length=40)
    any: Text = Field("At least one outcome YES", max_length=40)


class Question(StrictModel):
    """``question.yaml``: the question, its outcomes, dates and wording."""

    schema_version: Literal[1]
    id: Identifier
    title: Text
    question: Text
    created: dt.date
    horizon: dt.date
    resolution_notes: Text
    outcomes: list[Outcome] = Field(min_length=1, max_length=4)
    sources: list[Text] = Field(default_factory=list)
    wording: Wording = Wording()

    @field_validator("horizon")
    @classmethod
    def _after_created(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        created = info.data.get("created")
        if created is not None and v <= created:
            raise ValueError(f"must be after created ({created}), got {v}")
        return v

    @field_validator("outcomes")
    @classmethod
    def _unique_outcomes(cls, v: list[Outcome]) -> list[Outcome]:
        check_unique([o.id for o in v], "outcomes")
        return v


def horizon_years(question: Question) -> float:
    """Years from the question's creation to its horizon."""
    return (question.horizon - question.created).days / 365.25


class EvidenceVariable(StrictModel):
    """One evidence variable: definition, prior P(true) and effect on the odds."""

    id: Identifier
    label: Text
    definition: Text
    prior: ProbabilityPrior
    effect: EffectPrior


class EvidenceFile(StrictModel):
    """``evidence.yaml``: the evidence variables (unique ids, at most 12).

    Not :class:`forecast.ledger.Evidence`, which is what the news says about them.
    """

    schema_version: Literal[1]
    variables: list[EvidenceVariable] = Field(min_length=1, max_length=MAX_EVIDENCE_VARIABLES)

    @field_validator("variables")
    @classmethod
    def _unique_variables(cls, v: list[EvidenceVariable]) -> list[EvidenceVariable]:
        check_unique([x.id for x in v], "variables")
        return v


class Reliability(StrictModel):
    """Admiralty codes as credibility: the probability ``h`` that a report so coded is accurate.

    ``h = source[letter] * information[digit]``: the chance that the source reports
    accurately, times the chance that information so assessed is true. A report's
    stated ratio is its diagnosticity *if accurate*; it enters as Schum's mixture
    with an uninformative report, ``h * LR + (1 - h)`` (see :mod:`forecast.ledger`).
    F (reliability cannot be judged) and 6 (truth cannot be judged) carry ``h = 0``:
    no update.
    """

    schema_version: Literal[2]
    source: dict[Literal["A", "B", "C", "D", "E", "F"], float]
    information: dict[Literal[1, 2, 3, 4, 5, 6], float]
    lr_interval_mass: float = Field(gt=0.5, lt=1.0)
    rationale: Text
    reference: Text

    @field_validator("source", "information")
    @classmethod
    def _weights(cls, v: dict, info: ValidationInfo) -> dict:
        keys, void = (set("ABCDEF"), "F") if info.field_name == "source" else (set(range(1, 7)), 6)
        if set(v) != keys:
            raise ValueError(f"give a credibility for each of {', '.join(map(str, sorted(keys)))}")
        for key, w in v.items():
            if not 0.0 <= w <= 1.0:
                raise ValueError(f"credibility for {key} must be a probability in [0, 1] "
                                 f"(got {w})")
        if v[void] != 0:
            raise ValueError(f"{void} must have credibility 0: it means the item cannot be "
                             f"judged, so no update (got {v[void]})")
        return v


class Thread(StrictModel):
    """One process or storyline whose reports are not independent evidence."""

    id: PlainId
    label: Text = Field(max_length=60)
    description: Text
    dependence: Dependence


class Threads(StrictModel):
    """``threads.yaml``: the question's threads and the dependence of an undeclared one."""

    schema_version: Literal[1]
    default_dependence: Dependence
    threads: list[Thread] = Field(default_factory=list, max_length=40)

    @field_validator("threads")
    @classmethod
    def _unique(cls, v: list[Thread]) -> list[Thread]:
        ids = [t.id for t in v]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"thread ids must be unique; repeated: {', '.join(dupes)}")
        return v

    def get(self, thread: str) -> Thread | None:
        """The declared thread of that id, or None."""
        return next((t for t in self.threads if t.id == thread), None)

    def dependence(self, thread: str) -> float:
        """The thread's dependence, or the default for an undeclared thread."""
        t = self.get(thread)
        return (t.dependence if t is not None else self.default_dependence).value


class Scenario(StrictModel):
    """A named combination of evidence states, set by intervention (``do(S = x)``)."""

    name: Text = Field(max_length=60)
    set: dict[Identifier, Literal[0, 1]] = Field(min_length=1)
    rationale: Text


class Scenarios(StrictModel):
    """The content of the optional ``scenarios.yaml``: what-ifs the briefing shows."""

    schema_version: Literal[1]
    scenarios: list[Scenario] = Field(max_length=12)

    @field_validator("scenarios")
    @classmethod
    def _unique_names(cls, v: list[Scenario]) -> list[Scenario]:
        check_unique([s.name for s in v], "scenarios (names)")
        return v
