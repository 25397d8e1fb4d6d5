"""The outside view's settings schemas: the shared prior and gate, and the old model's.

One job: validate ``priors/reference_class/model.yaml`` (the old episode-coded
logistic model, kept for comparison: :class:`ReferenceSettings`) and hold the
pieces both outside-view settings share: :class:`OutsideViewPrior` (a prior in
pymc-extras ``Prior.to_dict()`` shape with its rationale) and
:class:`ReferenceGate` (the convergence gate). The event-history model's settings
(``hazard.yaml``) are :mod:`forecast.hazard_settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from forecast.config import (
    ConfigError,
    DistSpec,
    Sampler,
    Text,
    format_validation_error,
    read_yaml,
    require_family,
)
from forecast.reference_cases import FEATURES, FIRST_YEAR, LAST_YEAR
from forecast.reference_data import default_path


class StrictSettings(BaseModel):
    """A settings block: unknown fields, infinities and NaN refused; frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class OutsideViewPrior(StrictSettings):
    """A prior of an outside-view model in pymc-extras ``Prior.to_dict()`` shape, with its
    one-line rationale (``model.yaml`` and ``hazard.yaml`` alike)."""

    dist: DistSpec
    rationale: Text


def _family(spec: OutsideViewPrior, family: str, what: str) -> OutsideViewPrior:
    require_family(spec.dist, family, what)  # the one family check of config's priors
    return spec


class ReferencePriors(StrictSettings):
    """The reference model's priors: intercept, group scale, one per feature."""

    intercept: OutsideViewPrior
    group_sd: OutsideViewPrior
    coefficients: dict[str, OutsideViewPrior]

    @field_validator("intercept")
    @classmethod
    def _normal(cls, v: OutsideViewPrior) -> OutsideViewPrior:
        return _family(v, "Normal", "the intercept")

    @field_validator("group_sd")
    @classmethod
    def _half(cls, v: OutsideViewPrior) -> OutsideViewPrior:
        return _family(v, "HalfNormal", "the group scale")

    @field_validator("coefficients")
    @classmethod
    def _each(cls, v: dict[str, OutsideViewPrior]) -> dict[str, OutsideViewPrior]:
        missing, unknown = sorted(set(FEATURES) - set(v)), sorted(set(v) - set(FEATURES))
        if missing or unknown:
            raise ValueError(f"give a prior for exactly the features {list(FEATURES)} "
                             f"(missing {missing}, unknown {unknown})")
        for spec in v.values():
            _family(spec, "Normal", "a coefficient")
        return v


class Hierarchy(StrictSettings):
    """Which intercept is partially pooled: by patron, or by era of the case's start."""

    group: Literal["patron", "era"]
    #: Start years at which a new era begins (used when ``group: era``).
    era_breaks: list[int] = Field(default_factory=list)
    rationale: Text

    @model_validator(mode="after")
    def _check(self) -> Hierarchy:
        if self.era_breaks != sorted(set(self.era_breaks)):
            raise ValueError("era_breaks must be strictly increasing")
        if any(not FIRST_YEAR < y <= LAST_YEAR for y in self.era_breaks):
            raise ValueError(f"era_breaks must lie in {FIRST_YEAR + 1}..{LAST_YEAR}")
        if self.group == "era" and not self.era_breaks:
            raise ValueError("group: era needs at least one year in era_breaks")
        return self


class ReferenceGate(StrictSettings):
    """The convergence gate of the reference-class fit."""

    r_hat_max: float = Field(gt=1.0, le=1.1)
    divergences_max: int = Field(ge=0)
    ess_bulk_min: float = Field(ge=50)


class BacktestSettings(StrictSettings):
    #: PSIS-LOO is trusted for a case while its Pareto k stays at or below this.
    """Leave-one-out settings: the Pareto k threshold and calibration bins."""

    khat_max: float = Field(gt=0, le=1.0)
    calibration_bins: int = Field(ge=2, le=20)


class ReferenceSettings(StrictSettings):
    """``priors/reference_class/model.yaml``, validated."""

    schema_version: Literal[1]
    hierarchy: Hierarchy
    priors: ReferencePriors
    credible_mass: float = Field(gt=0.5, lt=1.0)
    sampler: Sampler
    gate: ReferenceGate
    backtest: BacktestSettings

    def with_sampler(self, **changes: int | float | None) -> ReferenceSettings:
        """A copy with some sampler settings changed (``draws``, ``seed``, ...), validated."""
        sampler = self.sampler.changed(**changes)
        return self if sampler == self.sampler else self.model_copy(update={"sampler": sampler})


def load_settings(path: str | Path | None = None) -> ReferenceSettings:
    """Read and validate ``priors/reference_class/model.yaml`` (or another file).

    Raises
    ------
    ConfigError
        Naming the file and the field of every problem.
    """
    path = Path(path) if path is not None else default_path("model.yaml")
    data, _ = read_yaml(path)
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ConfigError([f"{path}: (top level): expected a mapping of fields, got {kind}"])
    try:
        return ReferenceSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None

