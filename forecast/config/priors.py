"""The priors a question states: an elicited interval or a distribution, with its reasons.

One job: the schemas of every prior slot of the question's files. A probability takes
a Beta, an odds ratio a Normal on its log, the pooling scale a HalfNormal; each is
written either as an elicited interval (converted by :mod:`forecast.elicit`) or as a
distribution in the shape of pymc-extras' ``Prior.to_dict()``, never both, and says
why and from where.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from forecast.config.base import (
    Interval,
    OddsRatioInterval,
    ProbabilityInterval,
    StrictModel,
    Text,
)

#: Supported prior families per slot, with the parameters each needs.
DIST_PARAMS: dict[str, tuple[str, ...]] = {
    "Beta": ("alpha", "beta"),
    "Normal": ("mu", "sigma"),
    "HalfNormal": ("sigma",),
}


class DistSpec(StrictModel):
    """A prior written directly, in the shape of pymc-extras' ``Prior.to_dict()``."""

    dist: str
    kwargs: dict[str, float]

    @model_validator(mode="after")
    def _known(self) -> DistSpec:
        if self.dist not in DIST_PARAMS:
            raise ValueError(f"unknown dist {self.dist!r}; allowed: {sorted(DIST_PARAMS)}")
        need = set(DIST_PARAMS[self.dist])
        if set(self.kwargs) != need:
            raise ValueError(
                f"{self.dist} needs exactly the kwargs {sorted(need)} (got {sorted(self.kwargs)})"
            )
        for name, value in self.kwargs.items():
            if not math.isfinite(value):
                raise ValueError(f"kwargs.{name} must be finite (got {value})")
            if name != "mu" and value <= 0:
                raise ValueError(f"kwargs.{name} must be > 0 (got {value})")
        return self


def require_family(spec: DistSpec, family: str, what: str) -> DistSpec:
    """``spec`` if it is a ``family`` prior, else ValueError: ``what`` needs a ``family`` prior."""
    if spec.dist != family:
        raise ValueError(f"{what} needs a {family} prior (got {spec.dist})")
    return spec


def _family(family: str, what: str) -> AfterValidator:
    return AfterValidator(lambda spec: require_family(spec, family, what))


#: A distribution for a probability, for a log odds ratio, for a pooling scale.
BetaSpec = Annotated[DistSpec, _family("Beta", "a probability")]
NormalSpec = Annotated[DistSpec, _family("Normal", "a log odds ratio")]
HalfNormalSpec = Annotated[DistSpec, _family("HalfNormal", "a pooling scale")]


class _IntervalOrDist(StrictModel):
    """A prior given as exactly one of an elicited interval or a distribution, with why and
    from where; each subclass narrows both forms to its slot."""

    rationale: Text
    source: Text = "analyst judgement"
    elicited: Interval | None = None
    dist: DistSpec | None = None

    @model_validator(mode="after")
    def _one_form(self) -> _IntervalOrDist:
        if (self.elicited is None) == (self.dist is None):
            raise ValueError("give exactly one of 'elicited' (an interval) or 'dist' (a prior)")
        return self


class ProbabilityPrior(_IntervalOrDist):
    """Prior on a probability: an elicited interval or a Beta."""

    elicited: ProbabilityInterval | None = None
    dist: BetaSpec | None = None


class EffectPrior(_IntervalOrDist):
    """Prior on an odds ratio: an elicited interval, or a Normal on the log odds ratio."""

    elicited: OddsRatioInterval | None = None
    dist: NormalSpec | None = None


class ScalePrior(StrictModel):
    """The partial-pooling scale's prior (a HalfNormal), with its rationale and source."""

    dist: HalfNormalSpec
    rationale: Text
    source: Text = "analyst judgement"


class Dependence(StrictModel):
    """An elicited dependence between the reports of one thread, with why and from where."""

    value: float = Field(ge=0.0, le=1.0)
    rationale: Text
    source: Text
