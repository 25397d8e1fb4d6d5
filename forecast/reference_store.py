"""Cache the reference-class fit as a DataTree netCDF that carries its provenance.

One job: the outside view is fitted once per set of inputs, not on every chart
export or report. A fit is written atomically to
``<out>/reference_class/fit-<key>.nc`` whose key hashes the cases file, the
validated settings (priors, hierarchy, sampler and seed, gate) and the package
versions; the attributes hold that key, the hashes and the diagnostics. Loading
checks the key and refuses a stale or unreadable file
(:class:`forecast.store.StaleFitError`); :func:`cached_reference_fit` then
refits and replaces it. The event-history fit (:func:`cached_hazard_fit`) is stored
as ``hazard-<key>.nc`` the same way, its key also holding the date the class was
truncated at (a fit of the class as known at a question's creation is not the fit
of the class as entered).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from forecast.reference import ReferenceFit, fit_reference, group_labels, load_cases
from forecast.reference_gate import report_gate
from forecast.reference_settings import ReferenceSettings, load_settings
from forecast.store import StaleFitError, open_tree, package_versions, source_hash, write_tree

if TYPE_CHECKING:
    import pandas as pd

#: The folder under ``out`` that holds reference-class fits.
FOLDER = "reference_class"


def reference_key(cases: pd.DataFrame, settings: ReferenceSettings) -> str:
    """Hash of everything that shapes a reference fit: the cases, the settings, versions.

    The settings are hashed as validated content (not file bytes), so a new
    comment in ``model.yaml`` does not invalidate a fit but any changed number does.
    """
    blob = json.dumps(
        {
            "cases": cases.attrs.get("sha256") or _frame_hash(cases),
            "settings": settings.model_dump(mode="json"),
            "versions": _versions(("reference", "reference_settings", "reference_cases", "skill",
                                  "reference_data")),
        },
        sort_keys=True,
    ).encode()
    return hashlib.sha256(blob).hexdigest()


def _versions(modules: tuple[str, ...]) -> dict[str, str]:
    """The tracked packages' versions and the hash of the modules that shape these numbers
    (not the whole package: editing a message elsewhere keeps the stored fits)."""
    out = {k: v for k, v in package_versions().items() if k != "forecast-source"}
    out["forecast-source"] = source_hash(modules)
    return out


def _frame_hash(cases: pd.DataFrame) -> str:
    # Cases built in memory carry no file hash; hash their CSV text instead.
    return hashlib.sha256(cases.to_csv(index=False).encode()).hexdigest()


def reference_fit_path(out: str | Path, key: str) -> Path:
    """Where the reference fit of ``key`` is stored under ``out``."""
    return Path(out) / FOLDER / f"fit-{key[:16]}.nc"


def save_reference_fit(fit: ReferenceFit, path: Path, *, key: str) -> Path:
    """Write the fit's DataTree with its key, hashes and diagnostics, atomically."""
    tree = fit.tree.copy()
    tree.attrs.update({
        "forecast_reference_key": key,
        "forecast_reference_cases_sha256": fit.cases.attrs.get("sha256", ""),
        "forecast_reference_settings": fit.settings.model_dump_json(),
        "forecast_versions": json.dumps(package_versions(), sort_keys=True),
        "forecast_diagnostics": json.dumps(fit.diagnostics, sort_keys=True),
    })
    return write_tree(tree, Path(path))


def load_reference_fit(path: Path, cases: pd.DataFrame, settings: ReferenceSettings,
                       *, expected_key: str) -> ReferenceFit:
    """Load a stored fit of ``cases`` under ``settings``, refusing a stale one.

    Raises
    ------
    forecast.store.StaleFitError
        If the file is unreadable, lacks provenance, or was made from other inputs.
    """
    tree = open_tree(Path(path))
    key = tree.attrs.get("forecast_reference_key")
    if key is None or "forecast_diagnostics" not in tree.attrs:
        raise StaleFitError(f"{path}: not a reference-class fit (no provenance)")
    if key != expected_key:
        raise StaleFitError(f"{path}: made from other inputs (key {str(key)[:12]}, "
                            f"expected {expected_key[:12]}); refusing to reuse it")
    missing = [g for g in ("posterior", "sample_stats", "log_likelihood")
               if g not in tree.children]
    if missing:
        raise StaleFitError(f"{path}: lacks the group(s) {', '.join(missing)}")
    diagnostics = json.loads(tree.attrs["forecast_diagnostics"])
    report_gate(diagnostics, f"the stored reference-class fit {Path(path).name}")
    cases = cases.reset_index(drop=True)
    return ReferenceFit(tree, diagnostics, cases, settings,
                        group_labels(cases, settings.hierarchy))


def cached_reference_fit(out: str | Path = "out", *, cases_csv: str | Path | None = None,
                         directory: str | Path | None = None,
                         settings_path: str | Path | None = None, refit: bool = False
                         ) -> tuple[ReferenceFit, str]:
    """The reference-class fit of these inputs: stored if current, else fitted and stored.

    Parameters
    ----------
    out
        Output folder; fits live in ``out/reference_class/``.
    cases_csv, settings_path
        An old-format cases CSV and the settings (defaults: the shipped dated class,
        coded over each episode, and ``priors/reference_class/model.yaml``).
    directory
        A dated reference class (``cases.csv`` + ``events.csv``) to code instead.
    refit
        Fit afresh even when a current fit is stored.

    Returns
    -------
    (ReferenceFit, str)
        The fit and how it was had: ``"cached"`` or ``"fit"``. A fit that fails its
        convergence gate is returned (and warned by
        :func:`forecast.reference.fit_reference`); it is stored too, so that its
        failure is reported again, not hidden, by whoever loads it.
    """
    if cases_csv is not None:
        cases = load_cases(cases_csv)
    else:  # the shipped class, coded over each episode from its dated events (hindsight)
        from forecast.reference_cases import episode_coded
        from forecast.reference_data import load_reference

        cases = episode_coded(load_reference(directory)[0])
    settings = load_settings(settings_path)
    key = reference_key(cases, settings)
    path = reference_fit_path(out, key)
    if not refit and path.exists():
        try:
            return load_reference_fit(path, cases, settings, expected_key=key), "cached"
        except StaleFitError:
            pass  # unreadable or stale: refitted and replaced below
    fit = fit_reference(cases, settings)
    save_reference_fit(fit, path, key=key)
    return fit, "fit"


def cached_hazard_fit(out: str | Path = "out", *, directory: str | Path | None = None,
                      settings_path: str | Path | None = None, settings=None,
                      known_at: dt.date | None = None, refit: bool = False):
    """The event-history fit (:mod:`forecast.hazard`) of the dated reference class,
    stored under ``out/reference_class/hazard-<key>.nc`` and reused while its inputs
    (``cases.csv``, ``events.csv``, ``hazard.yaml``, the truncation date, package
    versions) are unchanged.

    Parameters
    ----------
    settings
        Validated settings (:class:`forecast.hazard.HazardSettings`) instead of reading
        ``settings_path``.
    known_at
        Fit the class as it was known on this date
        (:func:`forecast.reference_data.class_as_of`), e.g. a question's creation;
        None: the class as entered, with everything known since.

    Returns
    -------
    (forecast.hazard.HazardFit, str)
        The fit (its ``stored_under`` is ``out``) and ``"cached"`` or ``"fit"``.
    """
    from forecast import hazard
    from forecast.reference_data import case_years, class_as_of, load_reference

    cases, events = load_reference(directory)
    if known_at is not None:
        cases, events = class_as_of(cases, events, known_at)
    settings = settings if settings is not None else hazard.load_settings(settings_path)
    blob = json.dumps({"kind": "hazard", "cases": cases.attrs["sha256"],
                       "known_at": None if known_at is None else known_at.isoformat(),
                       "settings": settings.model_dump(mode="json"),
                       "versions": _versions(("hazard", "hazard_settings", "reference_data"))},
                      sort_keys=True).encode()
    key = hashlib.sha256(blob).hexdigest()
    path = Path(out) / FOLDER / f"hazard-{key[:16]}.nc"
    if not refit and path.exists():
        try:
            tree = open_tree(path)
            if tree.attrs.get("forecast_reference_key") != key:
                raise StaleFitError(f"{path}: made from other inputs")
            diagnostics = json.loads(tree.attrs["forecast_diagnostics"])
            report_gate(diagnostics, f"the stored hazard fit {path.name}")
            data = case_years(cases, outcome=settings.outcome, max_years=settings.max_years)
            return hazard.HazardFit(tree, diagnostics, cases, data, settings, Path(out)), "cached"
        except (StaleFitError, KeyError, OSError, ValueError):
            pass  # unreadable or stale: refitted and replaced below
    fit = hazard.fit_hazard(cases, settings)
    fit.stored_under = Path(out)
    tree = fit.tree
    tree.attrs.update({"forecast_reference_key": key,
                       "forecast_reference_sha256": cases.attrs["sha256"],
                       "forecast_versions": json.dumps(package_versions(), sort_keys=True),
                       "forecast_diagnostics": json.dumps(fit.diagnostics, sort_keys=True)})
    write_tree(tree, path)
    return fit, "fit"


def cached_hazard_backtest(out: str | Path, fit, *, refit: bool = True):
    """The as-of-origin backtest of ``fit`` (:func:`forecast.hazard_backtest.backtest`,
    with the old model's leave-one-out forecasts beside it), stored as CSV under
    ``out/reference_class/backtest-<key>.csv`` and reused while the fits are unchanged.

    Returns
    -------
    (forecast.hazard_backtest.HazardBacktest, str)
        The backtest and ``"cached"`` or ``"computed"``.
    """
    import pandas as pd

    from forecast import hazard_backtest
    from forecast.files import atomic_write
    from forecast.reference_backtest import backtest as old_backtest

    old_fit, _ = cached_reference_fit(out)
    key = hashlib.sha256(json.dumps({
        "hazard": fit.tree.attrs.get("forecast_reference_key", ""),
        "old": reference_key(old_fit.cases, old_fit.settings), "refit": refit,
        "source": _versions(("hazard_backtest", "skill", "psis"))},
        sort_keys=True).encode()).hexdigest()
    path = Path(out) / FOLDER / f"backtest-{key[:16]}.csv"
    settings = fit.settings
    if path.exists() and fit.tree.attrs.get("forecast_reference_key"):
        try:
            pointwise = pd.read_csv(path)
            return hazard_backtest.HazardBacktest(
                pointwise, hazard_backtest.score_by_origin(pointwise),
                hazard_backtest.calibration_by_origin(
                    pointwise, bins=settings.backtest.calibration_bins,
                    mass=settings.credible_mass)), "cached"
        except (OSError, ValueError, KeyError):
            pass  # unreadable: recomputed below
    old = old_backtest(old_fit).pointwise
    bt = hazard_backtest.backtest(fit, old_model=dict(zip(old["case_id"], old["p_loo"],
                                                          strict=True)), refit=refit)
    atomic_write(path, bt.pointwise.to_csv(index=False).encode())
    return bt, "computed"
