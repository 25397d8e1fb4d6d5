"""Read and write the package's files: one reader, one atomic writer.

One job: every input file is read here (:func:`read_text`: read, size-check, decode;
:func:`read_yaml`, :func:`read_csv`, :func:`yaml_events`: parse), and every output
file is written here (:func:`atomic_write`, :func:`atomic_link`, :func:`atomic_dir`).
The modules that own a file's schema validate what is read and say what is written.

A read error is a :class:`~forecast.errors.ConfigError` naming the file, and for bad
YAML the line and column (1-based, as an editor shows them) and what is wrong.

A write is atomic: the new content goes to a temporary file in the same folder
(``.<name>.<random>.tmp``, a name no reader looks for), is flushed and synced to disk,
given the mode an ordinary new file would have (or the old file's), and renamed over
the target; then the folder itself is synced, so that the rename survives a power
loss. Any failure removes the temporary file and leaves the old file as it was; a
process killed outright leaves at most the hidden temporary file, never a half-written
target.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import gc
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Hashable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from forecast.errors import ConfigError

#: Largest file we will parse; a prior or ledger file beyond this is a mistake.
MAX_FILE_BYTES = 5_000_000


# ------------------------------------------------------------------------- reading


def read_bytes(path: str | os.PathLike[str], *, limit: int | None = MAX_FILE_BYTES) -> bytes:
    """The bytes of an input file, refusing what is missing, unreadable or over ``limit``.

    Raises
    ------
    ConfigError
        Naming the file and what is wrong with it.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror})"]) from None
    if limit is not None and len(raw) > limit:
        raise ConfigError([f"{path}: file is {len(raw)} bytes; the limit is {limit}"])
    return raw


def sha256(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 of a file's bytes (read by :func:`read_bytes`, no size limit): the
    content hash the provenance of fits, links and charts records."""
    import hashlib

    return hashlib.sha256(read_bytes(path, limit=None)).hexdigest()


def read_text(path: str | os.PathLike[str], *, encoding: str = "utf-8") -> tuple[str, bytes]:
    """The text of an input file and its raw bytes (which the callers hash).

    What :func:`read_bytes` refuses, and text that is not UTF-8, raise its
    :class:`ConfigError`, naming the file (and the first bad byte).
    """
    raw = read_bytes(path)
    try:
        return raw.decode(encoding), raw
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{Path(path)}: not UTF-8 text (byte {exc.start})"]) from None


def read_csv(path: str | os.PathLike[str]) -> tuple[csv.DictReader, str]:
    """A CSV input file as a :class:`csv.DictReader`, and its text (a spreadsheet's BOM dropped).

    Raises
    ------
    ConfigError
        As :func:`read_text`; the rows are the caller's to validate.
    """
    text, _ = read_text(path, encoding="utf-8-sig")
    return csv.DictReader(io.StringIO(text, newline="")), text


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large file is parsed.

    Parsing builds many small, acyclic objects (dicts, lists, strings); the collector
    keeps re-scanning them as they accumulate, which made reading a 10,000-item ledger
    cost ~1.7x per item what a 1,000-item one does. Paused, reading is linear.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present
    """Safe loader that refuses duplicate keys instead of silently keeping the last."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = _construct(loader, key_node, deep, "key")
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain value, not a {type(key).__name__}",
                key_node.start_mark)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = _construct(loader, value_node, deep, key)
    return mapping


def _construct(loader, node, deep, key):
    """Build one value; PyYAML's own ValueErrors (2026-02-30, a 5000-digit int) get a line."""
    try:
        return loader.construct_object(node, deep=deep)
    except (ValueError, TypeError, OverflowError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{key}: cannot read {node.value!r} ({exc})"[:300], node.start_mark
        ) from None


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def read_yaml(path: str | os.PathLike[str]) -> tuple[Any, bytes]:
    """Read a YAML file safely, returning the parsed data and the raw bytes.

    Raises
    ------
    ConfigError
        If the file is missing, too large, not UTF-8 or not valid YAML (a duplicate
        key is invalid), naming the file, the line and the column.
    """
    text, raw = read_text(path)
    try:
        with gc_paused():
            data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise ConfigError([f"{Path(path)}: invalid YAML: nested too deeply"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{Path(path)}: invalid YAML{_yaml_problem(exc)}"]) from None
    return data, raw


def yaml_events(text: str) -> Iterator[yaml.Event]:
    """The YAML event stream of ``text`` (libyaml's parser, no object construction).

    For checks of a document's layout that must not pay for loading it (the ledger's
    safe append); raises :class:`yaml.YAMLError` on text that does not parse.
    """
    return yaml.parse(text, Loader=_UniqueKeyLoader)


#: Constructs the parser reads to their end: left open, the parser notices only later.
_OPENERS = {
    "while parsing a flow sequence": "the '[' opened here is not closed",
    "while parsing a flow mapping": "the '{' opened here is not closed",
    "while scanning a quoted scalar": "the quoted text that starts here is not closed",
}


def _at(mark) -> str:
    """A PyYAML mark (0-based) as an editor shows it: ``line N, column M``, 1-based."""
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """`` at line N, column M: what is wrong`` for a PyYAML error.

    The location is where the mistake is: PyYAML's ``problem_mark`` is where it
    noticed one, which for an unclosed ``[``, ``{`` or quote is a later line (the
    next key, or the end of the file); then the opening is named first.
    """
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    problem = problem.replace("end of stream", "end of the file")
    where = getattr(exc, "problem_mark", None)
    context, opened = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if where is None:
        return f": {problem}"
    if context in _OPENERS and opened is not None and opened.line < where.line:
        return f" at {_at(opened)}: {_OPENERS[context]} ({problem} at {_at(where)})"
    return f" at {_at(where)}: {problem}"


# ------------------------------------------------------------------------- writing


def default_mode(path: str | os.PathLike[str]) -> int:
    """The existing file's permissions, or those of a new file under the current umask."""
    try:
        return Path(path).stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Sync a folder, so that a file just renamed into it stays renamed after a crash."""
    if os.name == "nt":  # pragma: no cover - Windows cannot open a folder to sync it
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:  # a file system that cannot sync folders (some network ones)
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, target: Path, how: str) -> None:
    """Give the synced temporary ``tmp`` its final name, then sync the folder.

    The package's one rename: ``"replace"`` puts ``tmp`` over ``target``; ``"link"``
    gives it the name only if ``target`` does not exist (:class:`FileExistsError`
    otherwise; the caller removes ``tmp``); ``"rename"`` moves a folder into place.
    """
    if how == "replace":
        os.replace(tmp, target)
    elif how == "link":
        os.link(tmp, target)  # atomic, and fails if the name is taken
    elif how == "rename":
        os.rename(tmp, target)
    else:  # pragma: no cover - a programming error
        raise ValueError(f"unknown publish {how!r}")
    fsync_dir(target.parent)


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes | str | Callable[[Path], object],
    *,
    mode: int | None = None,
    exclusive: bool = False,
    check: Callable[[Path], object] | None = None,
) -> Path:
    """Write ``path`` atomically: the old file, or the new one whole, never a mix.

    Parameters
    ----------
    path
        The file; its folder is created if needed.
    data
        The bytes (a string is written as UTF-8), or a function that writes the file
        at the path it is given (``tree.to_netcdf``, ``fig.savefig``), for writers
        that want a path rather than bytes.
    mode
        The permissions; default the existing file's, or a new file's under the umask.
    exclusive
        Refuse to replace an existing file: :class:`FileExistsError`, nothing written.
    check
        Called with the temporary file once it is on disk (e.g. to read it back);
        whatever it raises stops the write, and the old file stays.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = default_mode(path) if mode is None else mode
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        if callable(data):
            os.close(fd)
            data(tmp)
            os.chmod(tmp, mode)  # the writer may have made the file anew
            _fsync_file(tmp)
        else:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), mode)  # mkstemp makes the file private
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
                fh.flush()
                os.fsync(fh.fileno())
        if check is not None:
            check(tmp)
        _publish(tmp, path, "link" if exclusive else "replace")
    finally:
        tmp.unlink(missing_ok=True)  # gone after a replace; the spare name after a link
    return path


def atomic_link(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Path:
    """Put the file ``src`` at ``dst`` atomically: a hard link, or a copy across file systems."""
    src = Path(src)

    def put(tmp: Path) -> None:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)

    return atomic_write(dst, put, mode=src.stat().st_mode & 0o777)


def atomic_dir(target: str | os.PathLike[str], files: Mapping[str, bytes | str], *,
               check: Callable[[Path], object] | None = None) -> Path:
    """Create the folder ``target`` holding ``files`` (name to content), atomically.

    The folder is built under a temporary name beside ``target``, its files and itself
    synced, ``check`` called on it, then renamed into place: a failure leaves nothing,
    and an existing ``target`` is never touched (:class:`FileExistsError`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; a question folder is not
        for name, data in files.items():
            if Path(name).name != name or name.startswith("."):
                raise ValueError(f"invalid file name {name!r}")
            with open(tmp / name, "xb") as fh:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
                fh.flush()
                os.fsync(fh.fileno())
        fsync_dir(tmp)
        if check is not None:
            check(tmp)
        if target.exists() or target.is_symlink():  # created meanwhile by someone else
            raise FileExistsError(errno.EEXIST, "already exists", str(target))
        _publish(tmp, target, "rename")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
