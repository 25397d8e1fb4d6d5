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
