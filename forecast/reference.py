"""The outside view: a historical reference class of foreign bases, fitted and backtested.

One job: from the cases in ``priors/reference_class/cases.csv`` (did a patron keep
its bases in a host country for five years after a shock?), fit a Bayesian
logistic regression with a partially pooled intercept, check it by honest
leave-one-out cross-validation against the base rate and a 50% forecast, and
give the history-based probability for new cases, the Syria question among them.

The model and its priors are data, in ``priors/reference_class/model.yaml``
(validated by :class:`ReferenceSettings`); each question's coding as a case is
data too, in its own ``reference_case.yaml``.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from scipy.special import expit

from forecast.config import (
    REFERENCE_FEATURES,
    ConfigError,
    DistSpec,
    Sampler,
    Text,
    format_validation_error,
    read_yaml,
    repo_path,
)
from forecast.errors import ConvergenceWarning
from forecast.files import read_csv

if TYPE_CHECKING:
    import pandas as pd

#: The seven binary features of a case, in model order.
FEATURES: tuple[str, ...] = REFERENCE_FEATURES
OUTCOME = "retained_5y"
#: Every column of ``cases.csv``, exactly.
COLUMNS: tuple[str, ...] = (
    "case_id", "patron", "host", "bases", "start_year", *FEATURES, OUTCOME, "notes", "source",
)
#: Columns a case to be *predicted* must have (the rest are optional there).
PREDICT_COLUMNS: tuple[str, ...] = ("case_id", *FEATURES)
FIRST_YEAR, LAST_YEAR = 1945, 2025

#: ``retained_5y``: the outcome window, in years from ``start_year``.
WINDOW_YEARS = 5
REFERENCE_DIR = Path("priors") / "reference_class"


def default_path(name: str) -> Path:
    """``priors/reference_class/<name>`` under the working directory, else under the repository."""
    return repo_path(REFERENCE_DIR / name)


# --------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------

Binary = int
Cell = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class CaseRow(BaseModel):
    """One row of ``cases.csv``; 0/1 features, a year in 1945..2025 and a source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: Cell
    patron: Cell
    host: Cell
    bases: Cell
    start_year: int
    regime_change: Binary
    host_demand: Binary
    red_line_refused: Binary
    violence: Binary
    separatist_backing: Binary
    treaty: Binary
    inducements: Binary
    retained_5y: Binary
    notes: Cell
    source: Cell

    @field_validator("start_year", *FEATURES, OUTCOME, mode="before")
    @classmethod
    def _whole_number(cls, v: Any) -> Any:
        # "1" and "1972" are fine; "1.0", "yes" and "" are not (pydantic would accept "1.0").
        if isinstance(v, str):
            text = v.strip()
            if not text:
                raise ValueError("is empty")
            if not text.lstrip("-").isdigit():
                raise ValueError(f"must be a whole number (got {v!r})")
            return int(text)
        return v

    @field_validator(*FEATURES, OUTCOME, mode="after")
    @classmethod
    def _binary(cls, v: int | None) -> int | None:
        if v is not None and v not in (0, 1):
            raise ValueError(f"must be 0 or 1 (got {v})")
        return v

    @field_validator("start_year", mode="after")
    @classmethod
    def _year(cls, v: int | None) -> int | None:
        if v is not None and not FIRST_YEAR <= v <= LAST_YEAR:
            raise ValueError(f"must be a year in {FIRST_YEAR}..{LAST_YEAR} (got {v})")
        return v

    @field_validator("source", "notes", mode="before")
    @classmethod
    def _documented(cls, v: Any, info: ValidationInfo) -> Any:
        if isinstance(v, str) and not v.strip():
            need = {"source": "every case needs a source",
                    "notes": "every case says how it was coded"}[info.field_name]
            raise ValueError(f"is empty: {need}")
        return v


class NewCaseRow(CaseRow):
    """A case to predict: only ``case_id`` and the features are required."""

    patron: Cell | None = None
    host: Cell | None = None
    bases: Cell | None = None
    start_year: int | None = None
    retained_5y: Binary | None = None
    notes: Cell | None = None
    source: Cell | None = None


def load_cases(path: str | Path, *, for_prediction: bool = False) -> pd.DataFrame:
    """Read and validate a cases CSV.

    Parameters
    ----------
    path
        A CSV with exactly the columns :data:`COLUMNS` (any order).
    for_prediction
        Validate cases to be predicted: only ``case_id`` and the seven features are
        required, the other columns of :data:`COLUMNS` are optional.

    Returns
    -------
    pandas.DataFrame
        One row per case, features and outcome as ``int``; ``attrs`` hold the
        file's ``path`` and ``sha256``, and ``line`` holds each case's line number.

    Raises
    ------
    ConfigError
        Listing every problem as ``file: line N (case_id X): column: what is wrong``:
        missing or unexpected columns, empty file, non-0/1 values, years outside
        1945..2025, missing or empty sources, duplicate ``case_id``.
    """
    import pandas as pd

    path = Path(path)
    reader, text = read_csv(path)  # a spreadsheet's BOM dropped
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise ConfigError([f"{path}: (header): the file is empty; expected the columns "
                           f"{', '.join(COLUMNS)}"])
    problems: list[str] = []
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(f"{path}: (header): duplicate columns {dupes}")
    required = PREDICT_COLUMNS if for_prediction else COLUMNS
    missing = [c for c in required if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing:
        problems.append(f"{path}: (header): missing columns {missing}")
    if extra:
        problems.append(f"{path}: (header): unexpected columns {extra}; allowed: "
                        f"{', '.join(COLUMNS)}")
    if problems:
        raise ConfigError(problems)
    reader.fieldnames = header
    schema = NewCaseRow if for_prediction else CaseRow
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    try:
        records = list(_records(reader))
    except csv.Error as exc:
        raise ConfigError([f"{path}: line {reader.line_num}: malformed CSV ({exc})"]) from None
    for line, record in records:
        case = (record.get("case_id") or "").strip() or "?"
        where = f"{path}: line {line} (case_id {case!r})"
        if None in record:  # more cells than columns
            problems.append(f"{where}: (row): {len(record[None])} cells more than the header")
            continue
        if any(v is None for v in record.values()):
            problems.append(f"{where}: (row): fewer cells than the header")
            continue
        if for_prediction:  # an optional column may be left blank
            record = {k: v for k, v in record.items()
                      if k in PREDICT_COLUMNS or (v or "").strip() != ""}
        try:
            row = schema.model_validate(record)
        except ValidationError as exc:
            problems.extend(format_validation_error(where, exc))  # type: ignore[arg-type]
            continue
        if row.case_id in seen:
            problems.append(f"{where}: case_id: duplicate of line {seen[row.case_id]}")
            continue
        seen[row.case_id] = line
        rows.append({**row.model_dump(), "line": line})
    if not rows and not problems:
        problems.append(f"{path}: (rows): no cases")
    if problems:
        raise ConfigError(problems)
    df = pd.DataFrame(rows)
    columns = [c for c in COLUMNS if c in header or not for_prediction]
    df = df[[*columns, "line"]]
    df.attrs["path"] = str(path)
    df.attrs["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    return df


def patron_table(cases: pd.DataFrame) -> pd.DataFrame:
    """Per patron: the number of cases, and the share kept and with each feature present.

    Sorted by the number of cases, most first (ties by patron name).
    """
    columns = [OUTCOME, *FEATURES]
    table = cases.groupby("patron")[columns].mean()
    table.insert(0, "n_cases", cases.groupby("patron").size())
    table = table.reset_index().sort_values(["n_cases", "patron"], ascending=[False, True])
    return table.reset_index(drop=True)


def case_summary(cases: pd.DataFrame) -> str:
    """One line: how many cases and patrons, which years, and the share kept five years."""
    return (f"{len(cases)} cases, {cases['patron'].nunique()} patrons, "
            f"{cases['start_year'].min()}-{cases['start_year'].max()}; "
            f"kept {WINDOW_YEARS} years: {cases[OUTCOME].mean():.0%}")


def _records(reader: csv.DictReader):
    """(line number of the row's first line, row) for each non-blank row."""
    start = reader.line_num + 1
    for record in reader:
        if all((v or "").strip() == "" for k, v in record.items() if k is not None) and (
            None not in record
        ):
            start = reader.line_num + 1
            continue
        yield start, record
        start = reader.line_num + 1


# --------------------------------------------------------------------------------------
# The settings (priors/reference_class/model.yaml)
# --------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PriorSpec(_Strict):
    """A prior in pymc-extras ``Prior.to_dict()`` shape, with its one-line rationale."""

    dist: DistSpec
    rationale: Text


def _family(spec: PriorSpec, family: str) -> PriorSpec:
    if spec.dist.dist != family:
        raise ValueError(f"needs a {family} prior (got {spec.dist.dist})")
    return spec


class ReferencePriors(_Strict):
    """The reference model's priors: intercept, group scale, one per feature."""

    intercept: PriorSpec
    group_sd: PriorSpec
    coefficients: dict[str, PriorSpec]

    @field_validator("intercept")
    @classmethod
    def _normal(cls, v: PriorSpec) -> PriorSpec:
        return _family(v, "Normal")

    @field_validator("group_sd")
    @classmethod
    def _half(cls, v: PriorSpec) -> PriorSpec:
        return _family(v, "HalfNormal")

    @field_validator("coefficients")
    @classmethod
    def _each(cls, v: dict[str, PriorSpec]) -> dict[str, PriorSpec]:
        missing, unknown = sorted(set(FEATURES) - set(v)), sorted(set(v) - set(FEATURES))
        if missing or unknown:
            raise ValueError(f"give a prior for exactly the features {list(FEATURES)} "
                             f"(missing {missing}, unknown {unknown})")
        for spec in v.values():
            _family(spec, "Normal")
        return v


class Hierarchy(_Strict):
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


class ReferenceGate(_Strict):
    """The convergence gate of the reference-class fit."""

    r_hat_max: float = Field(gt=1.0, le=1.1)
    divergences_max: int = Field(ge=0)
    ess_bulk_min: float = Field(ge=50)


class BacktestSettings(_Strict):
    #: PSIS-LOO is trusted for a case while its Pareto k stays at or below this.
    """Leave-one-out settings: the Pareto k threshold and calibration bins."""

    khat_max: float = Field(gt=0, le=1.0)
    calibration_bins: int = Field(ge=2, le=20)


class ReferenceSettings(_Strict):
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


# --------------------------------------------------------------------------------------
# The fit
# --------------------------------------------------------------------------------------


def group_labels(cases: pd.DataFrame, hierarchy: Hierarchy) -> list[str]:
    """The label of each case's pooled intercept: its patron, or its era (e.g. ``1992-2025``)."""
    if hierarchy.group == "patron":
        if "patron" not in cases or cases["patron"].isna().any():
            return [str(p) if isinstance(p, str) else "(unknown patron)"
                    for p in cases.get("patron", [None] * len(cases))]
        return [str(p) for p in cases["patron"]]
    edges = [FIRST_YEAR, *hierarchy.era_breaks, LAST_YEAR + 1]
    names = [f"{lo}-{hi - 1}" for lo, hi in itertools.pairwise(edges)]
    out = []
    for year in cases.get("start_year", [None] * len(cases)):
        if year is None or (isinstance(year, float) and math.isnan(year)):
            out.append("(unknown era)")
            continue
        k = int(np.searchsorted(edges, int(year), side="right")) - 1
        out.append(names[min(max(k, 0), len(names) - 1)])
    return out


@dataclass
class ReferenceFit:
    """A fitted reference class: the DataTree, its diagnostics and what it was fitted on."""

    tree: Any  # xarray.DataTree with posterior, sample_stats, log_likelihood, observed_data
    diagnostics: dict
    cases: pd.DataFrame
    settings: ReferenceSettings
    groups: list[str]

    @property
    def converged(self) -> bool:
        """Whether the fit passed its convergence gate."""
        return bool(self.diagnostics["passed"])

    def draws(self) -> dict[str, np.ndarray]:
        """Posterior draws flattened over chains: ``alpha`` (S,), ``sigma_group`` (S,),
        ``alpha_group`` (S, G), ``beta`` (S, F)."""
        post = self.tree["posterior"]
        out = {}
        for name in ("alpha", "sigma_group", "alpha_group", "beta"):
            a = np.asarray(post[name].values, dtype=float)
            out[name] = a.reshape(-1, *a.shape[2:])
        return out

    def coefficients(self) -> pd.DataFrame:
        """Per feature: posterior mean log odds ratio, odds ratio (median) and its interval."""
        import pandas as pd

        beta = self.draws()["beta"]
        tail = (1 - self.settings.credible_mass) / 2
        lo, med, hi = np.quantile(beta, [tail, 0.5, 1 - tail], axis=0)
        return pd.DataFrame({
            "feature": list(FEATURES),
            "log_or_mean": beta.mean(axis=0),
            "log_or_sd": beta.std(axis=0, ddof=1),
            "odds_ratio": np.exp(med),
            "or_lower": np.exp(lo),
            "or_upper": np.exp(hi),
            "p_positive": (beta > 0).mean(axis=0),
            "mass": self.settings.credible_mass,
        })

    def intercepts(self) -> pd.DataFrame:
        """Per group: number of cases, observed rate and the pooled baseline P(retained)."""
        import pandas as pd

        d = self.draws()
        tail = (1 - self.settings.credible_mass) / 2
        p = expit(d["alpha_group"])
        labels = list(self.tree["posterior"]["alpha_group"].coords["group"].values)
        y = self.cases[OUTCOME].to_numpy()
        groups = np.array(self.groups)
        return pd.DataFrame({
            "group": labels,
            "n_cases": [int((groups == g).sum()) for g in labels],
            "observed_rate": [float(y[groups == g].mean()) for g in labels],
            "p_baseline": p.mean(axis=0),
            "lower": np.quantile(p, tail, axis=0),
            "upper": np.quantile(p, 1 - tail, axis=0),
        })


def design(cases: pd.DataFrame) -> np.ndarray:
    """The (n, 7) 0/1 feature matrix of :data:`FEATURES`."""
    return cases[list(FEATURES)].to_numpy(dtype=float)


def build_model(cases: pd.DataFrame, settings: ReferenceSettings, *, weighted: bool = False):
    """The PyMC logistic regression with a partially pooled intercept.

    ::

        alpha          ~ Normal(priors.intercept)          global log odds of retention
        sigma_group    ~ HalfNormal(priors.group_sd)        spread of the groups' intercepts
        z_group[g]     ~ Normal(0, 1)                       (non-centred)
        alpha_group[g] = alpha + sigma_group * z_group[g]
        beta[f]        ~ Normal(priors.coefficients[f])     log odds ratio of feature f
        retained_5y[i] ~ Bernoulli(logit_p = alpha_group[group[i]] + X[i] . beta)

    With ``weighted=True`` the likelihood is a Potential weighted by the data
    container ``weight`` (1 = in, 0 = left out), so one compiled model serves
    every exact leave-one-out refit.
    """
    import pymc as pm
    from pymc_extras.prior import Prior

    groups = group_labels(cases, settings.hierarchy)
    levels = list(dict.fromkeys(groups))
    index = np.array([levels.index(g) for g in groups])
    priors = settings.priors
    coords = {"case": list(cases["case_id"]), "feature": list(FEATURES), "group": levels}
    mu = np.array([priors.coefficients[f].dist.kwargs["mu"] for f in FEATURES])
    sd = np.array([priors.coefficients[f].dist.kwargs["sigma"] for f in FEATURES])
    with pm.Model(coords=coords) as model:
        x = pm.Data("X", design(cases), dims=("case", "feature"))
        g = pm.Data("group_index", index, dims="case")
        y = cases[OUTCOME].to_numpy(dtype="int64")
        alpha = Prior.from_dict(priors.intercept.dist.model_dump()).create_variable("alpha")
        sigma = Prior.from_dict(priors.group_sd.dist.model_dump()).create_variable("sigma_group")
        z = pm.Normal("z_group", 0.0, 1.0, dims="group")
        alpha_group = pm.Deterministic("alpha_group", alpha + sigma * z, dims="group")
        beta = Prior("Normal", mu=mu, sigma=sd, dims="feature").create_variable("beta")
        eta = alpha_group[g] + pm.math.dot(x, beta)
        if weighted:
            w = pm.Data("weight", np.ones(len(cases)), dims="case")
            logp = pm.logp(pm.Bernoulli.dist(logit_p=eta), y)
            pm.Potential("weighted_loglik", (w * logp).sum())
        else:
            pm.Bernoulli(OUTCOME, logit_p=eta, observed=y, dims="case")
    return model


def fit_reference(cases: pd.DataFrame, settings: ReferenceSettings, *,
                  progressbar: bool = False) -> ReferenceFit:
    """Fit the reference class: Bayesian logistic regression on the seven features.

    The intercept is partially pooled by the group that ``model.yaml`` names
    (``hierarchy.group``). The default is **patron**: retention depends first on
    who the patron is (its means, its habits of staying or leaving), the cases
    cluster by patron (the Soviet Union/Russia, the United States, Britain, France
    each contribute several), and a patron with one or two cases borrows strength
    from the global mean instead of getting an intercept of its own fitted to one
    outcome. Era (``group: era`` with ``era_breaks``) is the alternative when the
    patrons are too many and too thin; it is supported but not the default,
    because the era is largely captured by who the patrons were.

    Parameters
    ----------
    cases
        From :func:`load_cases`.
    settings
        From :func:`load_settings`; its ``sampler`` holds draws, chains and the seed.

    Returns
    -------
    ReferenceFit
        ``tree`` is the DataTree with groups ``posterior``, ``sample_stats``,
        ``observed_data`` and ``log_likelihood`` (pointwise, dim ``case``);
        ``diagnostics`` holds R-hat, ESS, divergences, ``passed`` and ``failures``.
        A failed gate is also printed to stderr and warned (:class:`ConvergenceWarning`).
    """
    import pymc as pm

    s = settings.sampler
    model = build_model(cases, settings)
    tree = pm.sample(
        draws=s.draws, tune=s.tune, chains=s.chains, target_accept=s.target_accept,
        random_seed=s.seed, progressbar=progressbar, nuts_sampler="nutpie", model=model,
    )
    tree = pm.compute_log_likelihood(tree, model=model, progressbar=False)
    diagnostics = diagnose(tree, settings.gate)
    tree.attrs["forecast_reference_cases_sha256"] = cases.attrs.get("sha256", "")
    tree.attrs["forecast_reference_seed"] = int(s.seed)
    fit = ReferenceFit(tree, diagnostics, cases.reset_index(drop=True), settings,
                       group_labels(cases, settings.hierarchy))
    report_gate(diagnostics, "the reference-class fit")
    return fit


def report_gate(diagnostics: dict, what: str) -> None:
    """Print and warn (:class:`ConvergenceWarning`) when a fit failed its gate."""
    if diagnostics["passed"]:
        return
    message = f"{what} FAILED the convergence gate: " + "; ".join(diagnostics["failures"])
    print(f"WARNING: {message}", file=sys.stderr)
    warnings.warn(message, ConvergenceWarning, stacklevel=3)


def diagnose(tree, gate: ReferenceGate,
             names: tuple[str, ...] = ("alpha", "sigma_group", "z_group", "beta")) -> dict:
    """R-hat, bulk ESS and divergences of the sampled parameters ``names``, against the gate."""
    from arviz_stats.base import array_stats

    post = tree["posterior"]
    per_var = {}
    for name in names:
        values = np.asarray(post[name].values, dtype=float)
        values = np.moveaxis(values.reshape(*values.shape[:2], -1), -1, 0)
        per_var[name] = {
            "r_hat_max": float(np.nanmax(array_stats.rhat(values))),
            "ess_bulk_min": float(np.nanmin(array_stats.ess(values, method="bulk"))),
        }
    divergences = int(np.asarray(tree["sample_stats"]["diverging"].values).sum())
    out = {
        "r_hat_max": max(v["r_hat_max"] for v in per_var.values()),
        "ess_bulk_min": min(v["ess_bulk_min"] for v in per_var.values()),
        "divergences": divergences,
        "chains": int(post.sizes["chain"]),
        "draws": int(post.sizes["draw"]),
        "per_variable": per_var,
    }
    failures = []
    if not out["r_hat_max"] <= gate.r_hat_max:
        failures.append(f"R-hat {out['r_hat_max']:.4f} > {gate.r_hat_max}")
    if divergences > gate.divergences_max:
        failures.append(f"{divergences} divergent transitions > {gate.divergences_max}")
    if not out["ess_bulk_min"] >= gate.ess_bulk_min:
        failures.append(f"bulk ESS {out['ess_bulk_min']:.0f} < {gate.ess_bulk_min:.0f}")
    out["passed"] = not failures
    out["failures"] = failures
    return out


# --------------------------------------------------------------------------------------
# Prediction
# --------------------------------------------------------------------------------------


def _intercept_draws(fit: ReferenceFit, labels: list[str], rng: np.random.Generator
                     ) -> np.ndarray:
    """(S, n) intercepts: a known group's own, a new group's drawn from the population."""
    d = fit.draws()
    known = list(fit.tree["posterior"]["alpha_group"].coords["group"].values)
    new: dict[str, np.ndarray] = {}
    cols = []
    for label in labels:
        if label in known:
            cols.append(d["alpha_group"][:, known.index(label)])
        else:
            if label not in new:
                new[label] = d["alpha"] + d["sigma_group"] * rng.standard_normal(d["alpha"].size)
            cols.append(new[label])
    return np.stack(cols, axis=1)


def predict_draws(fit: ReferenceFit, cases: pd.DataFrame, *, seed: int | None = None
                  ) -> np.ndarray:
    """(S, n) posterior draws of P(retained_5y) for the cases' features and groups.

    A case whose group (patron or era) is not among the fitted ones gets a new
    group's intercept, drawn from the population distribution.
    """
    seed = fit.settings.sampler.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    labels = group_labels(cases, fit.settings.hierarchy)
    eta = _intercept_draws(fit, labels, rng) + fit.draws()["beta"] @ design(cases).T
    return expit(eta)


def predict(fit: ReferenceFit, cases_df: pd.DataFrame, *, seed: int | None = None
            ) -> pd.DataFrame:
    """P(retained_5y) with its credible interval for new cases.

    Parameters
    ----------
    fit
        From :func:`fit_reference`.
    cases_df
        Columns ``case_id`` and the seven features (0/1), and ``patron`` (or
        ``start_year`` for an era hierarchy) when known.

    Returns
    -------
    pandas.DataFrame
        ``case_id, group, known_group, p_retained, lower, upper, mass``.
    """
    import pandas as pd

    missing = [c for c in PREDICT_COLUMNS if c not in cases_df]
    if missing:
        raise ValueError(f"cases to predict lack the columns {missing}")
    bad = ~cases_df[list(FEATURES)].isin([0, 1]).all(axis=1)
    if bad.any():
        raise ValueError(f"features must be 0 or 1 (cases {list(cases_df.loc[bad, 'case_id'])})")
    p = predict_draws(fit, cases_df, seed=seed)
    tail = (1 - fit.settings.credible_mass) / 2
    labels = group_labels(cases_df, fit.settings.hierarchy)
    known = set(fit.groups)
    return pd.DataFrame({
        "case_id": list(cases_df["case_id"]),
        "group": labels,
        "known_group": [g in known for g in labels],
        "p_retained": p.mean(axis=0),
        "lower": np.quantile(p, tail, axis=0),
        "upper": np.quantile(p, 1 - tail, axis=0),
        "mass": fit.settings.credible_mass,
    })


# --------------------------------------------------------------------------------------
# Backtest: leave-one-out
# --------------------------------------------------------------------------------------


def brier_score(p, y) -> float:
    """Mean squared error of probabilities ``p`` for 0/1 outcomes ``y`` (lower is better)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return float(np.mean((p - y) ** 2))


def log_score(p, y) -> float:
    """Mean natural log of the probability given to what happened (higher is better; <= 0)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    with np.errstate(divide="ignore"):
        return float(np.mean(np.where(y == 1, np.log(p), np.log1p(-p))))


def loo_base_rate(y) -> np.ndarray:
    """Leave-one-out base rate: for case i, ``(k_-i + 1) / (n - 1 + 2)``.

    The rate of the *other* cases, with a uniform Beta(1, 1) prior (Laplace's rule),
    so that case i never informs its own forecast and no forecast is exactly 0 or 1.
    """
    y = np.asarray(y, dtype=float)
    return (y.sum() - y + 1.0) / (y.size - 1 + 2.0)


@dataclass
class Backtest:
    """Leave-one-out predictions, scores and calibration of a reference-class fit."""

    pointwise: pd.DataFrame
    scores: pd.DataFrame
    calibration: pd.DataFrame
    elpd_loo: float
    elpd_se: float
    refits: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        """Flat JSON-ready numbers (what ``forecast reference backtest`` prints)."""
        s = self.scores.set_index("forecaster")
        out: dict[str, Any] = {"n_cases": int(s["n_cases"].iloc[0])}
        for name in s.index:
            out[f"brier_{name}"] = float(s.loc[name, "brier"])
            out[f"log_score_{name}"] = float(s.loc[name, "log_score"])
        out["elpd_loo"] = self.elpd_loo
        out["elpd_loo_se"] = self.elpd_se
        out["max_pareto_k"] = float(self.pointwise["pareto_k"].max())
        out["n_exact_refits"] = len(self.refits)
        out["refits_converged"] = all(r["passed"] for r in self.refits)
        return out


def backtest(fit: ReferenceFit, *, khat_max: float | None = None, progressbar: bool = False
             ) -> Backtest:
    """Leave-one-out cross-validation of the fit, scored against the base rate and 50%.

    Each case's LOO predictive probability comes from PSIS-LOO (``arviz_stats.loo``
    with pointwise results): the importance-weighted mean of its per-draw
    probability. Cases whose Pareto k exceeds ``khat_max`` (default
    ``backtest.khat_max`` of ``model.yaml``, 0.7) are refitted exactly without
    them. The base rate is computed leave-one-out too (:func:`loo_base_rate`).

    Returns
    -------
    Backtest
        ``pointwise`` (case_id, group, y, p_loo, p_base_rate, p_in_sample, pareto_k,
        method), ``scores`` (forecaster, brier, log_score, n_cases), ``calibration``
        (see :func:`calibration_table`) and the PSIS elpd.
    """
    import pandas as pd
    from arviz_stats import loo

    khat_max = fit.settings.backtest.khat_max if khat_max is None else khat_max
    cases = fit.cases
    y = cases[OUTCOME].to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Pareto k.*")
        warnings.filterwarnings("ignore", message=".*pareto_k.*")
        result = loo(fit.tree, pointwise=True, var_name=OUTCOME)
    k = np.asarray(result.pareto_k.transpose("case").values, dtype=float)
    lw = result.log_weights.transpose("chain", "draw", "case").values
    lw = lw.reshape(-1, lw.shape[-1])
    lw = lw - np.logaddexp.reduce(lw, axis=0, keepdims=True)
    p_draws = expit(_in_sample_eta(fit))  # (S, n)
    p_loo = np.sum(np.exp(lw) * p_draws, axis=0)
    method = np.array(["psis"] * len(y), dtype=object)
    refits = []
    high = [i for i in range(len(y)) if not k[i] <= khat_max]
    if high:
        exact, refits = _exact_loo(fit, high, progressbar=progressbar)
        for i, p in exact.items():
            p_loo[i] = p
            method[i] = "refit"
    p_loo = np.clip(p_loo, 1e-12, 1 - 1e-12)
    base = loo_base_rate(y)
    pointwise = pd.DataFrame({
        "case_id": list(cases["case_id"]),
        "group": fit.groups,
        "y": y.astype(int),
        "p_loo": p_loo,
        "p_base_rate": base,
        "p_in_sample": p_draws.mean(axis=0),
        "pareto_k": k,
        "method": method,
    })
    scores = score_table(y, {"model": p_loo, "base_rate": base, "fifty": np.full(y.size, 0.5)})
    calibration = calibration_table(p_loo, y, bins=fit.settings.backtest.calibration_bins,
                                    mass=fit.settings.credible_mass)
    return Backtest(pointwise, scores, calibration, float(result.elpd), float(result.se), refits)


def _in_sample_eta(fit: ReferenceFit) -> np.ndarray:
    d = fit.draws()
    levels = list(fit.tree["posterior"]["alpha_group"].coords["group"].values)
    idx = np.array([levels.index(g) for g in fit.groups])
    return d["alpha_group"][:, idx] + d["beta"] @ design(fit.cases).T


def _exact_loo(fit: ReferenceFit, indices: list[int], *, progressbar: bool
               ) -> tuple[dict[int, float], list[dict]]:
    """Refit without each case in ``indices`` (one compiled model, the weight data changed)."""
    import nutpie

    s = fit.settings.sampler
    model = build_model(fit.cases, fit.settings, weighted=True)
    compiled = nutpie.compile_pymc_model(model)
    levels = list(fit.tree["posterior"]["alpha_group"].coords["group"].values)
    x = design(fit.cases)
    out: dict[int, float] = {}
    records = []
    for i in indices:
        w = np.ones(len(fit.cases))
        w[i] = 0.0
        tree = nutpie.sample(compiled.with_data(weight=w), draws=s.draws, tune=s.tune,
                             chains=s.chains, seed=s.seed + 1 + i, progress_bar=progressbar,
                             target_accept=s.target_accept)
        diag = diagnose(tree, fit.settings.gate)
        post = tree["posterior"]
        a = np.asarray(post["alpha_group"].values, dtype=float).reshape(-1, len(levels))
        b = np.asarray(post["beta"].values, dtype=float).reshape(-1, len(FEATURES))
        eta = a[:, levels.index(fit.groups[i])] + b @ x[i]
        out[i] = float(expit(eta).mean())
        records.append({"case_id": fit.cases["case_id"].iloc[i], "p_loo": out[i],
                        "r_hat_max": diag["r_hat_max"], "divergences": diag["divergences"],
                        "passed": diag["passed"], "failures": diag["failures"]})
        report_gate(diag, f"the exact LOO refit without {fit.cases['case_id'].iloc[i]!r}")
    return out, records


def score_table(y, forecasts: dict[str, np.ndarray]) -> pd.DataFrame:
    """Brier and log score of each forecaster's probabilities for outcomes ``y``."""
    import pandas as pd

    y = np.asarray(y, dtype=float)
    return pd.DataFrame([
        {"forecaster": name, "brier": brier_score(p, y), "log_score": log_score(p, y),
         "n_cases": int(y.size)}
        for name, p in forecasts.items()
    ])


def calibration_table(p, y, *, bins: int = 5, mass: float = 0.9) -> pd.DataFrame:
    """Equal-width bins of predicted probability: mean predicted, observed frequency, count.

    ``observed_lower``/``observed_upper`` are the Jeffreys ``mass`` interval of the
    observed frequency (Beta(k + 1/2, n - k + 1/2) quantiles), which shows how little
    a bin of a few cases says. Empty bins are kept (count 0, NaN means) so every
    table has the same rows.
    """
    import pandas as pd

    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    from scipy.stats import beta as beta_dist

    tail = (1 - mass) / 2
    rows = []
    for b in range(bins):
        m = which == b
        n, k = int(m.sum()), float(y[m].sum())
        lo, hi = (beta_dist.ppf([tail, 1 - tail], k + 0.5, n - k + 0.5) if n
                  else (float("nan"), float("nan")))
        rows.append({
            "bin": f"{edges[b]:.0%}-{edges[b + 1]:.0%}",
            "bin_lower": edges[b],
            "bin_upper": edges[b + 1],
            "mean_predicted": float(p[m].mean()) if n else float("nan"),
            "observed_frequency": k / n if n else float("nan"),
            "count": n,
            "observed_lower": float(lo),
            "observed_upper": float(hi),
        })
    return pd.DataFrame(rows)


@dataclass
class OutsideView:
    """The outside view in tables, for a briefing: coefficients, backtest, calibration."""

    coefficients: pd.DataFrame  # :meth:`ReferenceFit.coefficients`
    scores: pd.DataFrame  # forecaster (model, base_rate, fifty), brier, log_score, n_cases
    calibration: pd.DataFrame  # :func:`calibration_table` of the leave-one-out forecasts
    base_rate: float
    n_cases: int
    diagnostics: dict
    mass: float
    cases_sha256: str = ""

    @property
    def converged(self) -> bool:
        """Whether the reference fit passed its convergence gate."""
        return bool(self.diagnostics.get("passed", False))

    def footer(self, title: str | None = None) -> str:
        """Provenance for an outside-view chart: the question it serves, the cases, the fit."""
        head = f"Outside view for: {title} | " if title else ""
        gate = "converged" if self.converged else "NOT CONVERGED"
        return (f"{head}reference class {self.n_cases} cases (cases.csv "
                f"{self.cases_sha256[:8] or 'in memory'}) | fit {gate}")


def outside_view(fit: ReferenceFit, bt: Backtest | None = None) -> OutsideView:
    """Summarise a reference fit and its leave-one-out backtest for charts and reports."""
    bt = bt if bt is not None else backtest(fit)
    y = fit.cases[OUTCOME].to_numpy(dtype=float)
    return OutsideView(
        coefficients=fit.coefficients(),
        scores=bt.scores,
        calibration=bt.calibration,
        base_rate=float(y.mean()),
        n_cases=int(y.size),
        diagnostics=dict(fit.diagnostics),
        mass=fit.settings.credible_mass,
        cases_sha256=str(fit.cases.attrs.get("sha256", "")),
    )
