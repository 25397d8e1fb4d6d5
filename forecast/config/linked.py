"""The question's ties to the reference class: its priors and its coding as a case.

One job: the schemas of the two files that link a question to the historical reference
class -- the question coded as a dated case of it (``reference_case.yaml``, by hand),
and the priors derived from it (``reference_priors.yaml``, written by ``forecast
reference link``, never edited by hand). Whether the derived priors are still current
is checked when the question is loaded (:mod:`forecast.config.load`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from forecast.config.base import Identifier, Month, StrictModel, Text
from forecast.config.priors import DistSpec, require_family

#: The binary features of a reference-class case (``priors/reference_class/cases.csv``),
#: in model order; see its DATA_DICTIONARY.md.
REFERENCE_FEATURES: tuple[str, ...] = (
    "regime_change",
    "host_demand",
    "red_line_refused",
    "violence",
    "separatist_backing",
    "treaty",
    "inducements",
)
#: Features of a case known at its start (the rest are dated events).
START_FEATURES: tuple[str, ...] = ("regime_change", "treaty")

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


# ------------------------------------------------------------- reference_priors.yaml


class LinkedPrior(StrictModel):
    """One derived prior, with a summary of the draws it was fitted to."""

    dist: DistSpec
    mean: float
    lower: float
    upper: float
    rationale: Text


class LinkedEffect(LinkedPrior):
    """A derived log odds ratio, and the reference-class feature it comes from."""

    feature: Identifier
    negate: bool


class ReferenceInputs(StrictModel):
    """Which reference-class files the derivation used, by content hash."""

    directory: Text
    cases_sha256: Sha256
    events_sha256: Sha256
    #: ``hazard.yaml``, the event-history model's settings.
    settings_sha256: Sha256
    #: The question's own coding as a case (``reference_case.yaml``).
    case_sha256: Sha256
    n_cases: int = Field(ge=1)
    draws: int = Field(ge=100)
    seed: int = Field(ge=0)
    #: The class as known on this date (the question's creation): nothing dated from its
    #: month on entered the fit (forecast.reference_data.class_as_of). Absent in a link
    #: written before the date was recorded.
    known_at: dt.date | None = None


class LinkedPriors(StrictModel):
    """The content of ``reference_priors.yaml``."""

    schema_version: Literal[2]
    question: Identifier
    generated: dt.date
    method: Text
    reference: ReferenceInputs
    window_years: float = Field(gt=0, le=100)
    horizon_years: float = Field(gt=0, le=100)
    fixed: dict[Identifier, Literal[0, 1]]
    baseline: LinkedPrior
    effects: dict[Identifier, LinkedEffect] = Field(min_length=1)

    @field_validator("baseline")
    @classmethod
    def _beta(cls, v: LinkedPrior) -> LinkedPrior:
        require_family(v.dist, "Beta", "a base rate")
        return v

    @field_validator("effects")
    @classmethod
    def _normal(cls, v: dict[str, LinkedEffect]) -> dict[str, LinkedEffect]:
        for name, effect in v.items():
            require_family(effect.dist, "Normal", f"{name}: a log odds ratio")
        return v


# --------------------------------------------------------------- reference_case.yaml


class FixedFeature(StrictModel):
    """A reference-class feature known when the question's episode began."""

    value: Literal[0, 1]
    rationale: Text


class DatedFeature(StrictModel):
    """A time-varying feature that has held since ``date`` (a month, ``YYYY-MM``)."""

    feature: Identifier
    date: Month
    rationale: Text
    source: Text


class LinkedFeature(StrictModel):
    """A reference-class feature that an evidence variable (or its negation) decides."""

    variable: Identifier
    negate: bool = False
    rationale: Text


class ReferenceCase(StrictModel):
    """``reference_case.yaml``: the question as a dated case of the reference class.

    The start features are known at the start; each time-varying feature that
    has held since is dated; ``checked_through`` says when the events were last
    checked (a feature with no event had not held by then); ``links`` name the
    features the question's evidence variables decide over the horizon.
    """

    schema_version: Literal[2]
    case_id: Text
    patron: Text
    host: Text
    start_date: Month
    start: dict[str, FixedFeature]
    events: list[DatedFeature] = Field(default_factory=list)
    checked_through: Month
    links: dict[str, LinkedFeature]
    note: Text

    @model_validator(mode="after")
    def _cover(self) -> ReferenceCase:
        varying = [f for f in REFERENCE_FEATURES if f not in START_FEATURES]
        if set(self.start) != set(START_FEATURES):
            raise ValueError(f"start: code exactly the start features {list(START_FEATURES)} "
                             f"(got {sorted(self.start)})")
        for where, names in (("events", [e.feature for e in self.events]),
                             ("links", list(self.links))):
            unknown = sorted(set(names) - set(varying))
            if unknown:
                raise ValueError(f"{where}: {unknown} are not time-varying features; "
                                 f"allowed: {', '.join(varying)}")
            if len(set(names)) != len(names):
                raise ValueError(f"{where}: a feature is given twice (only its first onset)")
        for e in self.events:
            if not self.start_date[:7] <= e.date <= self.checked_through:
                raise ValueError(f"events: {e.feature} dated {e.date}, outside the episode "
                                 f"{self.start_date}..{self.checked_through}")
        return self
