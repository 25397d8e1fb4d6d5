"""The one reader and the one atomic writer (forecast.files), and every writer on top of it.

Each writer of the package is made to fail part-way (``os.replace`` or the file's
``fsync`` raising, or the write itself dying with half the bytes out) and must leave
the old file byte for byte and no temporary file; one is killed with SIGKILL in the
middle of a large write. The folder is synced after the rename.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from conftest import DEFAULT_QUESTION, ROOT, HalfWriter, run_and_kill_in_write
from forecast import files
from forecast.errors import ConfigError

TODAY = dt.date(2026, 11, 25)


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so no handler swallows it."""


def _temps(folder: Path) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.name.endswith(".tmp")]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------ the reader


def test_read_text_names_the_file_and_the_problem(tmp_path):
    with pytest.raises(ConfigError, match=r"absent\.yaml: file not found"):
        files.read_text(tmp_path / "absent.yaml")
    (tmp_path / "latin.yaml").write_bytes(b"a: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin\.yaml: not UTF-8 text \(byte 6\)"):
        files.read_text(tmp_path / "latin.yaml")
    (tmp_path / "big.yaml").write_bytes(b"#" * (files.MAX_FILE_BYTES + 1))
    with pytest.raises(ConfigError, match=r"big\.yaml: file is \d+ bytes; the limit is"):
        files.read_text(tmp_path / "big.yaml")


def test_read_yaml_refuses_duplicate_keys_with_line_and_column(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n")
    with pytest.raises(ConfigError) as info:
        files.read_yaml(path)
    assert str(info.value) == f"{path}: invalid YAML at line 3, column 1: duplicate key 'a'"
    path.write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(ConfigError, match=r"line 1, column 4: the '\[' opened here is not"):
        files.read_yaml(path)
    path.write_text("a: 1\nb: [x, y]\n")
    assert files.read_yaml(path) == ({"a": 1, "b": ["x", "y"]}, b"a: 1\nb: [x, y]\n")


def test_read_csv_drops_a_bom_and_returns_the_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffcase_id,year\nx,1990\n".encode())
    reader, text = files.read_csv(path)
    assert list(reader) == [{"case_id": "x", "year": "1990"}] and text.startswith("case_id")


def test_the_config_names_are_the_readers_own():
    import forecast.config as config

    assert config.read_yaml is files.read_yaml and config.read_text is files.read_text
    assert config.MAX_FILE_BYTES == files.MAX_FILE_BYTES


def test_one_yaml_reading_site_and_one_rename_in_the_package():
    """No module but forecast/files.py parses YAML, renames a file or makes a temporary one."""
    forbidden = ("yaml.load(", "yaml.safe_load(", "yaml.parse(", "CSafeLoader", "os.replace(",
                 "os.rename(", ".replace(tmp", "tempfile.", "write_text(", "write_bytes(")
    found = []
    for path in sorted((ROOT / "forecast").rglob("*.py")):
        if path.name == "files.py" and path.parent.name == "forecast":
            continue
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            found += [f"{path.relative_to(ROOT)}:{n}: {s}" for s in forbidden if s in line]
    assert found == []
    source = (ROOT / "forecast" / "files.py").read_text()
    assert source.count("yaml.load(") == 1 and source.count("os.replace(") == 1


# ------------------------------------------------------------------- the writer itself


def _fail_replace(monkeypatch):
    """The rename fails (os.replace, or os.link for a write-once file, os.rename for a folder)."""
    def boom(*a, **k):
        raise Killed("killed before the rename")

    for name in ("replace", "link", "rename"):
        monkeypatch.setattr(files.os, name, boom)


def _fail_fsync(monkeypatch):
    def boom(fd):
        raise Killed("killed before the data reached the disk")

    monkeypatch.setattr(files.os, "fsync", boom)


def _fail_half_write(monkeypatch):
    """The write itself dies with half the bytes out (the file object's write)."""
    real = os.fdopen

    def die():
        raise Killed("killed mid-write")

    monkeypatch.setattr(files.os, "fdopen", lambda fd, *a, **k: HalfWriter(real(fd, *a, **k), die))


FAULTS = {"replace": _fail_replace, "fsync": _fail_fsync, "half_write": _fail_half_write}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, fault):
    path = tmp_path / "f.txt"
    path.write_bytes(b"old\n")
    with monkeypatch.context() as m:
        FAULTS[fault](m)
        with pytest.raises(Killed):
            files.atomic_write(path, b"new\n" * 100_000)
    assert path.read_bytes() == b"old\n" and _temps(tmp_path) == []
    files.atomic_write(path, "new\n")  # and the next write lands
    assert path.read_bytes() == b"new\n" and _temps(tmp_path) == []


def test_a_writer_function_that_fails_leaves_the_old_file(tmp_path):
    path = tmp_path / "f.nc"
    path.write_bytes(b"old")

    def dies(tmp):
        tmp.write_bytes(b"half")
        raise Killed("killed in the writer")

    with pytest.raises(Killed):
        files.atomic_write(path, dies)
    def reads_back_wrong(tmp):
        assert tmp.read_bytes() == b"new"
        raise RuntimeError("reads back wrong")

    with pytest.raises(RuntimeError, match="reads back wrong"):
        files.atomic_write(path, b"new", check=reads_back_wrong)
    assert path.read_bytes() == b"old" and _temps(tmp_path) == []


def test_exclusive_refuses_an_existing_file(tmp_path):
    path = tmp_path / "once.yaml"
    files.atomic_write(path, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        files.atomic_write(path, b"second", exclusive=True)
    assert path.read_bytes() == b"first" and _temps(tmp_path) == []


def test_the_mode_is_the_old_files_or_a_new_files(tmp_path):
    umask = os.umask(0o022)
    try:
        new = files.atomic_write(tmp_path / "new", b"x")
        old = tmp_path / "old"
        old.write_bytes(b"x")
        old.chmod(0o600)
        files.atomic_write(old, b"y")
        made = files.atomic_write(tmp_path / "made", lambda tmp: tmp.write_bytes(b"z"))
    finally:
        os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o644  # not mkstemp's private 0o600
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert stat.S_IMODE(made.stat().st_mode) == 0o644


def _record_syncs(monkeypatch) -> list:
    """Patch os.fsync and os.replace to log what they act on, in order."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        st = os.fstat(fd)
        events.append(("fsync-dir" if stat.S_ISDIR(st.st_mode) else "fsync-file", st.st_ino))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "fsync", fsync)
    monkeypatch.setattr(files.os, "replace", replace)
    return events


@pytest.mark.parametrize("data", [b"bytes", "text", lambda tmp: tmp.write_bytes(b"f")],
                         ids=["bytes", "str", "function"])
def test_the_file_then_the_folder_are_synced(tmp_path, monkeypatch, data):
    folder = tmp_path / "sub"
    events = _record_syncs(monkeypatch)
    path = files.atomic_write(folder / "f", data)
    assert events == [("fsync-file", path.stat().st_ino), ("replace", "f"),
                      ("fsync-dir", folder.stat().st_ino)]


def test_a_link_and_a_new_folder_sync_their_folder(tmp_path, monkeypatch):
    src = tmp_path / "fit.nc"
    src.write_bytes(b"fit")
    events = _record_syncs(monkeypatch)
    dst = files.atomic_link(src, tmp_path / "out" / "posterior.nc")
    assert dst.read_bytes() == b"fit" and dst.stat().st_ino == src.stat().st_ino
    assert events[-2:] == [("replace", "posterior.nc"),
                           ("fsync-dir", (tmp_path / "out").stat().st_ino)]
    events.clear()
    made = files.atomic_dir(tmp_path / "q", {"a.yaml": "a: 1\n"})
    assert ("fsync-dir", tmp_path.stat().st_ino) == events[-1]  # after the rename
    assert ("fsync-dir", made.stat().st_ino) in events  # the new folder's own entries
    assert _temps(tmp_path) == []


def test_a_failed_new_folder_leaves_nothing_and_never_touches_an_existing_one(tmp_path):
    def invalid(folder):
        raise ConfigError([f"{folder}: invalid"])

    with pytest.raises(ConfigError):
        files.atomic_dir(tmp_path / "q", {"a.yaml": "a: 1\n"}, check=invalid)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "keep").write_text("mine")
    with pytest.raises(FileExistsError):
        files.atomic_dir(tmp_path / "q", {"a.yaml": "a: 1\n"})
    assert _snapshot(tmp_path) == {"q/keep": b"mine"}


CHILD = r'''
import os, sys, time
from pathlib import Path
from forecast import files

marker, target = Path(sys.argv[1]), Path(sys.argv[2])
real = os.fsync
def hang(fd):  # the new bytes are in the temporary file, not yet renamed
    marker.write_text("in the write")
    time.sleep(120)
os.fsync = hang
files.atomic_write(target, b"new line\n" * 2_000_000)
print("written")
'''


def test_a_writer_killed_mid_write_leaves_the_old_file(tmp_path):
    """SIGKILL in the middle of an 18 MB write: the target keeps its old bytes."""
    path = tmp_path / "data" / "big.csv"
    path.parent.mkdir()
    path.write_bytes(b"old\n")
    marker = tmp_path / "marker"
    run_and_kill_in_write([sys.executable, "-c", CHILD, str(marker), str(path)], marker)
    assert path.read_bytes() == b"old\n"
    # a process killed outright cannot clean up: its temporary file stays, hidden
    assert all(p.name.startswith(".big.csv.") and p.name.endswith(".tmp")
               for p in path.parent.iterdir() if p != path)
    files.atomic_write(path, b"next\n")
    assert path.read_bytes() == b"next\n"


# --------------------------------------------------------- every writer of the package


@pytest.fixture
def q(tmp_path):
    """A copy of the seed question (its ledger, link and all), no record."""
    target = tmp_path / "q"
    shutil.copytree(DEFAULT_QUESTION, target, ignore=shutil.ignore_patterns("record.jsonl*"))
    return target


_IDS = itertools.count(1)


def _ledger(q):
    from forecast.config import load_question
    from forecast.ledger import append_item, parse_item

    append_item(load_question(q), parse_item(dict(
        id=f"files-k{next(_IDS)}", date="2025-05-20", headline="Perimeter attack", source="wire",
        reliability="B2", bears_on="escalation", lr=3.0)), today=TODAY)
    return q / "news.yaml"


def _record(q):
    from forecast.config import load_question
    from forecast.record import append_entry, record_path

    config = load_question(q)
    path = record_path(config)
    if not path.exists():
        path.write_bytes(b'{"schema_version":1,"issued":"2026-01-01T00:00:00Z"}\n')
    append_entry(config, {"schema_version": 1, "issued": None, "question": config.id})
    return path


def _resolution(q):
    from forecast.scoring import resolve

    return resolve(q, {"khmeimim": 1, "tartus": 0}, "2027-12-31", today=dt.date(2028, 1, 2))


def _crowd(q):
    from forecast.scoring import import_crowd

    source = q.parent / "crowd-source.csv"
    if not source.exists():
        source.write_text("date,outcome,probability\n2026-01-01,khmeimim,0.5\n")
        import_crowd(q, source)  # the old copy
        source.write_text("date,outcome,probability\n2026-01-01,khmeimim,0.5\n"
                          "2026-02-01,khmeimim,0.6\n")
    return import_crowd(q, source)[0]


def _link(q):
    from forecast.config import LINK_FILE, load_question, read_linked
    from forecast.reference_priors import write

    return write(load_question(q), read_linked(q / LINK_FILE))  # the seed's, rewritten


def _fit(q):
    import numpy as np
    import xarray as xr

    from forecast.store import write_tree

    path = q.parent / "out" / "fit.nc"
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(
        {"p": (("draw",), np.linspace(0, 1, 50))})})
    return write_tree(tree, path)


def _owner(q):
    from forecast.config import load_question
    from forecast.store import OWNER_FILE, results_dir

    results_dir(q.parent / "out", load_question(q), claim=True)
    return q.parent / "out" / q.name / OWNER_FILE


def _chart(q):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from forecast.charts.theme import save

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [0, 1])
    return save(fig, q.parent / "charts", "headline", formats=("svg",))[0]


def _chart_index(q):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from forecast.export import write_charts

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    write_charts({"headline": fig}, q.parent / "export", formats=("svg",))
    return q.parent / "export" / "charts.csv"


def _maxent_cache(q):
    import forecast.elicit as prior

    path = q.parent / "cache" / "maxent.json"
    prior._cache_file = lambda: path
    prior._fit = lambda *a: {"alpha": 2.0, "beta": float(len(a))}
    prior._constrained.cache_clear()  # the in-memory cache, before the one on disk
    prior._constrained("beta", 0.1, 0.2 + len(list(path.parent.glob("*"))) * 0.1, 0.9)
    return path


def _scaffold(q):
    from forecast.scaffold import new_question

    return new_question("files_new", q.parent / "priors", created=dt.date(2026, 1, 1))


WRITERS = {"ledger append": _ledger, "record append": _record, "resolution": _resolution,
           "crowd import": _crowd, "reference_priors.yaml": _link, "fit netCDF": _fit,
           "results owner": _owner, "chart": _chart, "charts.csv": _chart_index,
           "maxent cache": _maxent_cache}
#: Writers that never replace a file: a resolution is final, a folder's owner is claimed once.
WRITTEN_ONCE = {"resolution", "results owner"}


@pytest.mark.parametrize("fault", ["replace", "fsync"])
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_every_writer_failing_part_way_leaves_the_old_file(q, monkeypatch, writer, fault):
    write = WRITERS[writer]
    with monkeypatch.context() as m:
        if writer == "maxent cache":
            import forecast.elicit as prior

            m.setattr(prior, "_cache_file", prior._cache_file)
            m.setattr(prior, "_fit", prior._fit)
        if writer in WRITTEN_ONCE:
            before = _snapshot(q.parent)  # the "old file" is its absence
        else:
            path = write(q)  # the old file, written by the writer itself
            before = _snapshot(q.parent)
            assert path.exists() and str(path.relative_to(q.parent)) in before
        FAULTS[fault](m)
        with pytest.raises(Killed):
            write(q)
    assert _snapshot(q.parent) == before  # every file byte for byte, nothing new
    assert _temps(q.parent) == []


def test_a_failed_new_question_leaves_nothing(q, monkeypatch):
    with monkeypatch.context() as m:
        _fail_fsync(m)
        with pytest.raises(Killed):
            _scaffold(q)
    assert not (q.parent / "priors" / "files_new").exists() and _temps(q.parent) == []
    with monkeypatch.context() as m:
        m.setattr(files.os, "rename", lambda *a: (_ for _ in ()).throw(Killed("rename")))
        with pytest.raises(Killed):
            _scaffold(q)
    assert list((q.parent / "priors").iterdir()) == []
    assert (_scaffold(q) / "question.yaml").exists()


def test_a_failed_pdf_report_leaves_the_old_one(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import matplotlib
    import pandas as pd

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from forecast.report import write_pdf

    headline = pd.DataFrame([{"stage": "posterior", "label": "Khmeimim kept", "p": 0.4,
                              "lower": 0.2, "upper": 0.6}])
    b = SimpleNamespace(
        tables={"headline": headline, "record": None}, items=[],
        config=SimpleNamespace(question=SimpleNamespace(title="T", horizon=dt.date(2027, 12, 31)),
                               model=SimpleNamespace(credible_mass=0.9)),
        forecast=SimpleNamespace(as_of=TODAY))
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [0, 1])
    path = write_pdf(b, {"headline": fig}, tmp_path / "briefing.pdf")
    before = path.read_bytes()
    assert before.startswith(b"%PDF")
    for fault in ("replace", "fsync"):
        with monkeypatch.context() as m:
            FAULTS[fault](m)
            with pytest.raises(Killed):
                write_pdf(b, {"headline": fig, "again": fig}, path)
        assert path.read_bytes() == before and _temps(tmp_path) == []
