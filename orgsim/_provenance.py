"""What produced a number: a hash of orgsim's own source code, beside its version.

An editable install keeps its version while its code changes; a sweep that
resumes checks this hash so it never mixes numbers from two versions of the code.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["code_sha256"]


@functools.lru_cache(maxsize=1)
def code_sha256() -> str:
    """SHA-256 over the package's Python sources, in path order."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()
