"""Results are kept apart by question directory: a copy never overwrites the original's."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from conftest import make_question
from forecast.cli import main


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_copy_run_without_out_leaves_the_originals_results_untouched(
        tmp_path, monkeypatch, fit_no_news, capsys):
    """Keyed by ``id`` (the old rule), the copy's run replaced the original's forecast.json."""
    original = make_question(tmp_path / "a", news=[])
    monkeypatch.chdir(tmp_path)  # the default results root, out/, is relative to here
    fits = tmp_path / "out" / original.name / "fits"
    fits.mkdir(parents=True)
    shutil.copy(fit_no_news.fit.file, fits)
    assert main(["run", str(original)]) == 0
    mine = tmp_path / "out" / original.name
    before = _digest(mine)
    assert "forecast.json" in before

    # a copy of the same name elsewhere: refused, naming both directories
    same_name = tmp_path / "b" / original.name
    shutil.copytree(original, same_name)
    capsys.readouterr()
    assert main(["run", str(same_name)]) == 2
    err = capsys.readouterr().err
    assert str(original.resolve()) in err and "--out" in err
    assert _digest(mine) == before

    # a copy under another name: its own folder, the original's untouched
    renamed = tmp_path / "c" / "syria_copy"
    shutil.copytree(original, renamed)
    (tmp_path / "out" / "syria_copy" / "fits").mkdir(parents=True)
    shutil.copy(fit_no_news.fit.file, tmp_path / "out" / "syria_copy" / "fits")
    assert main(["run", str(renamed)]) == 0
    assert (tmp_path / "out" / "syria_copy" / "forecast.json").exists()
    assert _digest(mine) == before


def test_results_dir_names_the_directory_not_the_id(tmp_path):
    from forecast.config import ConfigError, load_question
    from forecast.store import results_dir

    one = load_question(make_question(tmp_path / "x", news=[]))
    two = load_question(make_question(tmp_path / "y", news=[]))
    assert one.id == two.id  # copies share the id ...
    claimed = results_dir(tmp_path / "out", one, claim=True)
    assert claimed.name == one.directory.name  # ... but not the folder's owner
    with pytest.raises(ConfigError, match="another results root"):
        results_dir(tmp_path / "out", two)


def test_a_sampled_fit_is_diagnosed_stored_and_served_back(tmp_path, monkeypatch):
    """Plumbing, with ``pymc.testing.mock_sample`` in place of NUTS (sampling is beside the
    point): ``run_fit`` builds the model, diagnoses the draws by the one gate, stores them
    with their provenance and reads them back, and ``compute`` then serves that file as the
    cached fit. Independent check on what was stored: the model's ``p_keep`` deterministic,
    drawn by PyMC, equals the NumPy enumeration of the same stored parameters."""
    import warnings

    import numpy as np
    from pymc.testing import mock_sample

    from forecast import sampling
    from forecast.config import load_question
    from forecast.engine import compute, run_fit
    from forecast.exact import enumerate_states
    from forecast.ledger import evidence_from
    from forecast.model import build_model
    from forecast.store import open_tree

    config = load_question(make_question(tmp_path, news=[]))
    s = config.model.sampler

    def mocked(config, evidence, *, seed, progressbar=False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the news Potential is not in a prior draw
            return mock_sample(model=build_model(config, evidence), draws=s.draws,
                               chains=s.chains, random_seed=seed,
                               sample_stats={"diverging": lambda size: np.zeros(size, bool)})

    monkeypatch.setattr(sampling, "sample", mocked)
    evidence = evidence_from(config, [])
    fit = run_fit(config, evidence, out=tmp_path / "out", seed=s.seed)
    assert fit.file.is_file() and fit.shape == (s.chains, s.draws)
    assert fit.diagnostics["divergences"] == 0 and set(fit.diagnostics["ess_mean"])
    stored = open_tree(fit.file)["posterior"]["p_keep"].values.reshape(-1, len(config.bases))
    exact = enumerate_states(fit.params, evidence.state_loglr, evidence.outcome_loglr)
    np.testing.assert_allclose(stored, exact.p_keep, rtol=1e-9)
    served = compute(config, [], out=tmp_path / "out", seed=s.seed, allow_fit=False,
                     allow_reweight=False, engine="nuts")
    assert served.path == "cached" and served.fit.file == fit.file
