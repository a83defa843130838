"""Write outputs whole or not at all: a file by an atomic rename, a folder of files by an atomic swap.

- :func:`atomic_write` writes one file to a temporary file beside it, then
  renames it into place.
- :func:`write_output_set` writes a set of files (``compare --out DIR``) into
  a temporary folder beside ``DIR`` and puts it in place in one step: a
  rename when ``DIR`` does not exist, else an atomic exchange of the two
  folders (Linux ``renameat2(RENAME_EXCHANGE)``), after which the previous
  set is deleted. A reader, or a ``kill -9`` at any moment, sees the previous
  complete set or the new complete set, never a mix. Where the exchange does
  not exist, the previous set is renamed aside and the new one renamed in;
  an interruption between the two leaves the previous set aside, and the
  next write puts it back before it starts.
- Every OS error (a read-only folder, ``--out`` under a file, a full disk)
  becomes an :class:`~orgsim.errors.OutputError` naming the path and the reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = [
    "atomic_write", "atomic_write_text", "json_text", "write_output_set", "output_errors", "SET_MANIFEST",
    "write_csv", "neutralise_cell", "restore_cell",
]


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    # mkstemp makes the file private (0600); give it the mode a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
    except BaseException:
        # Interrupted (Ctrl-C included) or failed: leave nothing half-written.
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    with _temporary_beside(path) as tmp:
        write(tmp)
        os.replace(tmp, path)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def json_text(data: object, *, sort_keys: bool = False) -> str:
    """``data`` as JSON text (indented, UTF-8 characters kept).

    Never NaN or Infinity, which are not JSON: a number that is not finite
    is a bug where it was computed (missing values are None there, with the
    reason documented), so it raises ValueError here rather than being hidden.
    """
    import json

    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=sort_keys, default=str, allow_nan=False)


#: The file naming every file of an output set with its SHA-256; written last.
SET_MANIFEST = "manifest.json"
_TEMPORARY = ".orgsim-new-"
_PREVIOUS = ".orgsim-old-"


@contextlib.contextmanager
def output_errors(path: str | Path) -> Iterator[None]:
    """Turn an OS error while writing ``path`` into an OutputError with one line."""
    from orgsim.errors import OutputError

    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputError(f"cannot write {path}: {reason}") from None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where it does not exist."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):  # no such call, or a file system without exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(out: Path) -> list[tuple[Path, str, int]]:
    """Temporary and previous folders of ``out`` left by writers: (path, kind, pid)."""
    found = []
    prefix = f".{out.name}"
    for entry in out.parent.iterdir() if out.parent.is_dir() else []:
        for kind in (_TEMPORARY, _PREVIOUS):
            head = prefix + kind
            if entry.name.startswith(head):
                pid = entry.name[len(head):].split("-", 1)[0]
                if pid.isdigit():
                    found.append((entry, kind, int(pid)))
    return found


def _recover(out: Path) -> None:
    """Clean what dead writers left beside ``out``; put back a previous set left aside with no set in place."""
    import shutil

    for path, kind, pid in _leftovers(out):
        if _pid_alive(pid) and pid != os.getpid():
            continue  # another writer at work
        if kind == _PREVIOUS and not out.exists():
            os.rename(path, out)  # interrupted between the two renames: the previous set returns
        else:
            shutil.rmtree(path, ignore_errors=True)


def write_output_set(out: str | Path, files: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Write the files ``{name: write(path)}`` as one set in the folder ``out``, whole or not at all.

    ``out`` must be a new or empty folder, or one holding an output set
    (its :data:`SET_MANIFEST`, naming every file with its SHA-256, is written
    last) or only files of the names written now, which is replaced as a
    whole. Returns the paths written.
    """
    import json
    import shutil

    from orgsim.errors import OutputError

    out = Path(out)
    with output_errors(out):
        for above in [out, *out.parents]:
            if above.exists() or above.is_symlink():
                if not above.is_dir():
                    what = "it" if above == out else str(above)
                    raise OutputError(f"cannot write {out}: {what} is a file, not a folder")
                break
        out.parent.mkdir(parents=True, exist_ok=True)
        _recover(out)
        if out.is_dir():
            # Replaceable: empty, an output set (its manifest), or the same files written
            # before sets had a manifest (and temporary files of those writes).
            present = {p.name for p in out.iterdir() if not (p.name.startswith(".") and p.name.endswith(".part"))}
            if present and SET_MANIFEST not in present and not present <= set(files):
                raise OutputError(
                    f"cannot write {out}: the folder holds files that are not an orgsim output set; "
                    "use a new or empty folder (an output set is replaced as a whole)"
                )
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}{_TEMPORARY}{os.getpid()}-", dir=out.parent))
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; give the mode mkdir would
            hashes = {}
            for name, write in files.items():
                write(tmp / name)
                hashes[name] = _sha256(tmp / name)
            manifest = {"format": "orgsim-output-set/1", "files": hashes}
            (tmp / SET_MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            _fsync_tree(tmp)
            if not out.exists():
                os.rename(tmp, out)
            elif _exchange(tmp, out):
                shutil.rmtree(tmp, ignore_errors=True)  # now the previous set
            else:
                aside = out.parent / f".{out.name}{_PREVIOUS}{os.getpid()}-{os.urandom(4).hex()}"
                os.rename(out, aside)
                os.rename(tmp, out)
                shutil.rmtree(aside, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return [out / name for name in files]


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_tree(folder: Path) -> None:
    """Flush the files of ``folder`` and the folder itself to disk before it is put in place."""
    for path in folder.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: A spreadsheet reads a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (``=HYPERLINK(...)``), made text with a leading ``'``.

    Numbers stay numbers: a number, or text that is one (``-1.5``), is left as it is.
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def restore_cell(value: object) -> object:
    """The text :func:`neutralise_cell` was given, from what it returned (a table orgsim wrote, read back)."""
    if isinstance(value, str) and value.startswith("'") and neutralise_cell(value[1:]) == value:
        return value[1:]
    return value


def write_csv(frame: object, path: str | Path) -> None:
    """Write a pandas DataFrame as CSV (no index), its text cells neutralised (OWASP's CSV injection advice)."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    safe = frame.copy()  # type: ignore[attr-defined]
    for column in safe.columns:
        # Text columns (object, or pandas' string dtype): numbers in them are left as they are.
        if not (is_numeric_dtype(safe[column]) or is_bool_dtype(safe[column])):
            safe[column] = safe[column].map(neutralise_cell)
    safe.columns = [neutralise_cell(c) for c in safe.columns]
    safe.to_csv(path, index=False)
