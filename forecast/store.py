"""Save and load posteriors as DataTree netCDF files that carry their provenance.

One job: a fit is written atomically to ``<out>/<question dir>/fits/fit-<key>.nc``
with root attributes holding the validated config, the package versions, the
hash of every input file, the news items it saw and the seed. Loading checks
the stored key against the one expected and refuses a stale or corrupted file
(:class:`StaleFitError`), so an old posterior is never silently reused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from forecast.config import ConfigError, QuestionConfig
from forecast.errors import StaleFitError
from forecast.exact import Params
from forecast.files import atomic_write, read_text
from forecast.ledger import Evidence

#: Packages whose versions shape a fit; a change of any of them invalidates the cache.
TRACKED_PACKAGES = ("forecast", "pymc", "pytensor", "nutpie", "arviz-base", "preliz", "numpy")
#: This package's modules whose code shapes stored draws (the model, its priors, the
#: evidence, the sampler, the reference-class fit). The version number alone would not
#: see an edit to them, so their source is hashed into the cache keys as well.
FIT_MODULES = ("config/priors", "config/settings", "prior", "elicit", "ledger/weighing",
               "ledger/evidence", "model", "sampling", "reference", "reference_cases", "skill")


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a fit, and ``forecast-source``: a hash of the
    code of :data:`FIT_MODULES`, so that an edited model is never served an old fit."""
    out = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    out["forecast-source"] = source_hash()
    return out


def source_hash(modules: tuple[str, ...] = FIT_MODULES) -> str:
    """The sha256 (first 16 hex digits) of the source of this package's ``modules``."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in modules:
        h.update(name.encode())
        h.update((here / f"{name}.py").read_bytes())
    return h.hexdigest()[:16]


def fit_key(config: QuestionConfig, evidence: Evidence, seed: int) -> str:
    """Hash of everything that shapes a posterior: prior files, news, seed, versions."""
    blob = json.dumps(
        {
            "inputs": config.input_hash(),
            "evidence": evidence.key(),
            "seed": seed,
            "versions": package_versions(),
        },
        sort_keys=True,
    ).encode()
    return hashlib.sha256(blob).hexdigest()


#: The file in a results folder naming the question directory whose results it holds.
OWNER_FILE = ".question-directory"


def results_dir(out: str | Path, config: QuestionConfig, *, claim: bool = False) -> Path:
    """The folder of one question's results under the results root ``out``.

    Named after the question's directory, not its ``id``: a copy of a question
    keeps the original's id, and keying by id let ``forecast run`` on the copy
    overwrite the original's ``forecast.json``. Two directories with the same
    name are told apart by :data:`OWNER_FILE`, which records the directory the
    folder belongs to; a folder claimed by another directory is refused.

    Parameters
    ----------
    out
        The results root (``--out`` of every command; default ``out/``).
    config
        The question.
    claim
        Record this question as the folder's owner (when about to write into it).

    Raises
    ------
    forecast.config.ConfigError
        If the folder holds another question directory's results.
    """
    target = Path(out) / config.directory.name
    owner = target / OWNER_FILE
    mine = str(config.directory.resolve())
    if owner.exists():
        held = read_text(owner)[0].strip()
        if held != mine:
            raise ConfigError([
                f"{target}: holds the results of the question in {held}, not of {mine}; "
                "give this question another results root with --out"])
    elif claim:
        atomic_write(owner, (mine + "\n").encode("utf-8"))
    return target


def fits_dir(out: Path, config: QuestionConfig) -> Path:
    """The folder of a question's stored fits (inside :func:`results_dir`)."""
    return results_dir(out, config) / "fits"


def fit_path(out: Path, config: QuestionConfig, key: str) -> Path:
    """The file of the fit with ``key``."""
    return fits_dir(out, config) / f"fit-{key[:16]}.nc"


@dataclass(frozen=True)
class StoredFit:
    """What the fast path needs from a stored posterior (``file``: the netCDF it was read from,
    or ``<prior draws>`` for draws never stored)."""

    file: Path
    key: str
    input_hash: str
    params: Params
    state_loglr: np.ndarray
    outcome_loglr: np.ndarray
    item_ids: tuple[str, ...]
    seed: int
    shape: tuple[int, int]  # (chains, draws)
    diagnostics: dict
    versions: dict

    @property
    def ess_mean(self) -> dict[str, float]:
        """ESS for the mean of each headline quantity, under the fit's own news."""
        return self.diagnostics.get("ess_mean", {})


def save_fit(tree, path: Path, *, config: QuestionConfig, evidence: Evidence, key: str,
             seed: int, diagnostics: dict) -> Path:
    """Write a sampled DataTree with provenance attributes, atomically."""
    tree = tree.copy()
    tree.attrs.update(
        {
            "forecast_fit_key": key,
            "forecast_input_hash": config.input_hash(),
            "forecast_file_hashes": json.dumps(config.file_hashes, sort_keys=True),
            "forecast_config": config.to_json(),
            "forecast_versions": json.dumps(package_versions(), sort_keys=True),
            "forecast_items": json.dumps(list(evidence.item_ids)),
            "forecast_item_loglr": json.dumps(evidence.item_loglr, sort_keys=True),
            "forecast_state_loglr": json.dumps(evidence.state_loglr.tolist()),
            "forecast_outcome_loglr": json.dumps(evidence.outcome_loglr.tolist()),
            "forecast_seed": int(seed),
            "forecast_outcome_dependence": float(config.model.outcome_dependence.value),
            "forecast_diagnostics": json.dumps(diagnostics, sort_keys=True),
        }
    )
    return write_tree(tree, path)


def save_draws(path: Path, *, config: QuestionConfig, evidence: Evidence, key: str, seed: int,
               diagnostics: dict, draws: dict[str, tuple[tuple[str, ...], np.ndarray]],
               log_weights: np.ndarray | None) -> Path:
    """Write the exact engine's weighted draws as DataTree netCDF with the fit's provenance.

    ``draws`` maps a name to ``(dims, array)`` over ``draw`` and the question's coordinates;
    the normalised log weights go beside them. The same attributes as :func:`save_fit`:
    the hash of every input, the versions, the items, the seed.
    """
    import xarray as xr

    coords = {"base": config.bases, "evidence": config.variables}
    data = {name: (("draw", *dims), np.asarray(a)) for name, (dims, a) in draws.items()}
    if log_weights is not None:
        data["log_weight"] = (("draw",), np.asarray(log_weights))
    ds = xr.Dataset(data, coords={k: v for k, v in coords.items()
                                  if any(k in d for d, _ in data.values())})
    tree = xr.DataTree.from_dict({"posterior": ds})
    return save_fit(tree, path, config=config, evidence=evidence, key=key, seed=seed,
                    diagnostics=diagnostics)


def write_tree(tree, path: Path) -> Path:
    """Write a DataTree to ``path`` as netCDF (h5netcdf), atomically.

    The file appears whole or not at all: it is written to a temporary file in
    the same folder, synced, and renamed over ``path``. Object-typed sample
    statistics (nutpie's messages) are dropped: netCDF cannot hold them and
    they carry no numbers.
    """
    if "sample_stats" in tree.children:
        stats = tree["sample_stats"].to_dataset()
        obj = [name for name, var in stats.data_vars.items() if var.dtype == object]
        if obj:
            tree = tree.copy()
            tree["sample_stats"] = stats.drop_vars(obj)
    return atomic_write(path, lambda tmp: tree.to_netcdf(tmp, engine="h5netcdf"))


def open_tree(path: Path):
    """Open a stored fit as an xarray DataTree (all groups)."""
    import xarray as xr

    try:
        # Load into memory and close: xarray caches open files by path, and a cached
        # handle would keep serving a file that has since been replaced or corrupted.
        with xr.open_datatree(path, engine="h5netcdf", cache=False) as tree:
            return tree.load()
    except Exception as exc:  # any read failure means the file cannot be trusted
        raise StaleFitError(f"{path}: cannot be read as a posterior ({exc})") from None


def load_fit(path: Path, *, expected_key: str | None = None,
             expected_input_hash: str | None = None) -> StoredFit:
    """Load the draws and provenance of a stored fit, refusing it if it is stale.

    Reads the netCDF (HDF5) file with h5py directly: the fast path must not pay
    for importing xarray. :func:`open_tree` gives the full DataTree.

    Raises
    ------
    StaleFitError
        If the file is unreadable, lacks provenance, or was made from other inputs.
    """
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            attrs = {k: _text(v) for k, v in fh.attrs.items()}
            post = fh["posterior"]
            arrays = {name: np.asarray(post[name][()], dtype=float)
                      for name in ("p_state", "p_base", "beta")}
    except (OSError, KeyError, ValueError) as exc:
        raise StaleFitError(f"{path}: cannot be read as a posterior ({exc})") from None
    try:
        key = str(attrs["forecast_fit_key"])
        input_hash = str(attrs["forecast_input_hash"])
        params = Params(**{name: _flat(a) for name, a in arrays.items()},
                        coupling=float(attrs["forecast_outcome_dependence"]))
        stored = StoredFit(
            file=Path(path),
            key=key,
            input_hash=input_hash,
            params=params,
            state_loglr=np.array(json.loads(attrs["forecast_state_loglr"]), dtype=float),
            outcome_loglr=np.array(json.loads(attrs["forecast_outcome_loglr"]), dtype=float),
            item_ids=tuple(json.loads(attrs["forecast_items"])),
            seed=int(attrs["forecast_seed"]),
            shape=tuple(arrays["p_state"].shape[:2]),
            diagnostics=json.loads(attrs["forecast_diagnostics"]),
            versions=json.loads(attrs["forecast_versions"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise StaleFitError(f"{path}: not a forecast posterior (missing {exc})") from None
    if expected_key is not None and key != expected_key:
        raise StaleFitError(f"{path}: made from other inputs (key {key[:12]}, "
                            f"expected {expected_key[:12]}); refusing to reuse it")
    if expected_input_hash is not None and input_hash != expected_input_hash:
        raise StaleFitError(f"{path}: made from other prior files; refusing to reuse it")
    return stored


def _text(value) -> str | int | float:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray | np.generic) and np.size(value) == 1:
        return np.asarray(value).reshape(()).item()
    return value


def _flat(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1, *values.shape[2:])


def candidate_fits(out: Path, config: QuestionConfig) -> list[StoredFit]:
    """Stored fits made from this question's current prior files and package versions.

    Unreadable or stale files are skipped (they are rebuilt when needed).
    """
    found = []
    directory = fits_dir(out, config)
    if not directory.is_dir():
        return found
    versions = package_versions()
    for path in sorted(directory.glob("fit-*.nc")):
        try:
            fit = load_fit(path, expected_input_hash=config.input_hash())
        except StaleFitError:
            continue
        if fit.versions == versions:
            found.append(fit)
    return found
