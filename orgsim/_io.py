"""Write output files whole or not at all: a temporary file, then an atomic rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "json_text"]


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


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
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
