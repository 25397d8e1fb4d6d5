"""The event-history model's settings: ``priors/reference_class/hazard.yaml``, validated.

One job: the schema of the hazard model's settings (outcome, baseline bands,
pooling groups, priors, onset prior, sampler, gate, backtest) and its reader;
the model itself is :mod:`forecast.hazard`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator

from forecast.config import ConfigError, Sampler, Text, format_validation_error, read_yaml
from forecast.reference_data import STATIC, TIME_VARYING, default_path
from forecast.reference_settings import OutsideViewPrior, ReferenceGate, StrictSettings

if TYPE_CHECKING:
    from pathlib import Path

#: The hazard model's features: the start features, then the time-varying ones.
FEATURES: tuple[str, ...] = (*STATIC, *TIME_VARYING)


class HazardPriors(StrictSettings):
    """The hazard model's priors: baseline bands, the two pooling scales, one per feature."""

    baseline: OutsideViewPrior
    patron_sd: OutsideViewPrior
    shock_sd: OutsideViewPrior
    coefficients: dict[str, OutsideViewPrior]

    @field_validator("coefficients")
    @classmethod
    def _each(cls, v: dict[str, OutsideViewPrior]) -> dict[str, OutsideViewPrior]:
        if set(v) != set(FEATURES):
            raise ValueError(f"give a prior for exactly the features {list(FEATURES)} "
                             f"(missing {sorted(set(FEATURES) - set(v))}, unknown "
                             f"{sorted(set(v) - set(FEATURES))})")
        return v


class OnsetPrior(StrictSettings):
    """The Beta prior of each time-varying feature's yearly onset rate."""

    alpha: float = Field(gt=0)
    beta: float = Field(gt=0)
    rationale: Text


class HazardBacktestSettings(StrictSettings):
    """The as-of-origin backtest: origins, window, Pareto k threshold, bins, exact refits."""

    origins: list[int] = Field(min_length=1)
    window_years: int = Field(ge=1, le=20)
    khat_max: float = Field(gt=0, le=1.0)
    calibration_bins: int = Field(ge=2, le=20)
    #: Chains and draws of each exact refit without a shock (tuning as the main fit).
    refit_chains: int = Field(ge=1, le=16)
    refit_draws: int = Field(ge=100, le=100_000)
    rationale: Text


class HazardSettings(StrictSettings):
    """``priors/reference_class/hazard.yaml``, validated."""

    schema_version: Literal[1]
    outcome: Literal["presence", "facility"]
    outcome_rationale: Text
    max_years: int = Field(ge=2, le=30)
    #: Episode years after which a new baseline band starts: [1, 2, 3] -> years 1, 2, 3, 4+.
    duration_breaks: list[int]
    patron_groups: dict[str, str]
    patron_rationale: Text
    priors: HazardPriors
    onset_prior: OnsetPrior
    credible_mass: float = Field(gt=0.5, lt=1.0)
    sampler: Sampler
    gate: ReferenceGate
    backtest: HazardBacktestSettings

    @field_validator("duration_breaks")
    @classmethod
    def _increasing(cls, v: list[int]) -> list[int]:
        if v != sorted(set(v)) or any(b < 1 for b in v):
            raise ValueError("duration_breaks must be strictly increasing years >= 1")
        return v

    def band(self, year: int | np.ndarray) -> np.ndarray:
        """The baseline band of episode year(s) ``year`` (1-based)."""
        return np.searchsorted(np.asarray(self.duration_breaks), np.asarray(year), side="left")

    def group(self, patron: str) -> str:
        """The patron's pooling group (e.g. the Soviet Union and Russia as one)."""
        return self.patron_groups.get(patron, patron)


def load_settings(path: str | Path | None = None) -> HazardSettings:
    """Read and validate ``hazard.yaml`` (errors name the file and field)."""
    from pathlib import Path

    path = Path(path) if path is not None else default_path("hazard.yaml")
    data, _ = read_yaml(path)
    try:
        return HazardSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None
