"""What produced a number: a hash of orgsim's own source code, beside its version.

An editable install keeps its version while its code changes; a sweep that
resumes checks this hash so it never mixes numbers from two versions of the code.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["code_sha256"]

#: Every kind of file that changes what orgsim computes: the FIFO loop is a
#: ``.py`` compiled with the C types of its ``.pxd`` (and a ``.pyx`` would be
#: Cython source too).
_SOURCE_SUFFIXES = (".py", ".pxd", ".pyx")


@functools.lru_cache(maxsize=1)
def code_sha256() -> str:
    """SHA-256 over the package's sources, in path order: Python, and the compiled loop's Cython types."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for suffix in _SOURCE_SUFFIXES for p in root.rglob(f"*{suffix}")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()
