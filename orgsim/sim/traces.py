"""Arrival traces: dates read from a column of a CSV file, with the file's SHA-256.

The file is read once, as bytes: the hash and the dates come from the same
bytes, so a run reused because its trace's hash matched saw those very dates.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from orgsim.errors import SimulationError

__all__ = ["read_trace_file"]


def read_trace_file(path: Path, column: str) -> tuple[list[str], str]:
    """The non-blank values of ``column`` in the CSV file ``path``, and the SHA-256 (hex) of the file."""
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SimulationError(f"{path}: cannot read trace: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or column not in reader.fieldnames:
        raise SimulationError(f"{path}: no column {column!r} (columns: {reader.fieldnames})")
    return [row[column] for row in reader if row[column].strip()], hashlib.sha256(data).hexdigest()
