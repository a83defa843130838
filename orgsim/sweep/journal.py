"""A sweep's results on disk: finished points as part files, a manifest, and the table.

With ``out``, each finished point is written at once (atomically) to a part
file in ``OUT.parts/``, beside a manifest naming the sweep; run the same sweep
again after an interruption and it skips the finished points. The complete
table is then written to ``out`` (CSV or Parquet) and the parts removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orgsim._io import atomic_write, atomic_write_text, output_errors, write_csv
from orgsim.errors import SweepError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Journal", "read_table", "parts_directory", "write_table", "is_temporary"]


class Journal:
    """A directory of per-point part files and a manifest naming the sweep they belong to."""

    MANIFEST = "manifest.json"
    PART = re.compile(r"^point-(\d+)\.csv$")

    def __init__(self, directory: Path, identity: dict[str, Any]) -> None:
        self.directory = directory
        self.identity = identity

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the sweep's working folder for this process alone; a second writer is refused at once.

        An advisory lock (``flock``) on the folder itself: the system drops it
        when the process ends, however it ends (kill -9 included), so a lock is
        never left stale. Where ``flock`` does not exist (Windows) there is no lock.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        while True:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise SweepError(
                    f"another sweep is writing to this output (its working folder {self.directory} is locked); "
                    "wait for it to finish, or use another --out"
                ) from None
            # The folder may have been removed (a sweep that finished) between mkdir and flock: lock the new one.
            try:
                same = os.stat(self.directory).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        try:
            yield
        finally:
            os.close(fd)  # releases the lock

    def open(self) -> None:
        manifest = self.directory / self.MANIFEST
        if manifest.exists():
            try:
                found = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SweepError(f"{manifest}: unreadable ({exc}); delete {self.directory} to start again") from None
            differ = [k for k in self.identity if found.get(k) != self.identity[k]]
            if differ:
                said = "; ".join(f"{k}: {_brief(found.get(k))} there, {_brief(self.identity[k])} here" for k in differ)
                raise SweepError(
                    f"{self.directory} holds results of a different sweep ({said}); refusing to mix them. "
                    f"Use another --out, or delete {self.directory} to start again"
                )
        else:
            if self.directory.exists() and any(not is_temporary(f) for f in self.directory.iterdir()):
                raise SweepError(f"{self.directory} exists and is not a sweep's results directory; "
                                 "use another --out or remove it")
            atomic_write_text(manifest, json.dumps(self.identity, indent=2, sort_keys=True) + "\n")
        # Temporary files of writes that were interrupted (kill -9): never complete, never read.
        for stale in self.directory.iterdir():
            if is_temporary(stale):
                stale.unlink(missing_ok=True)

    def part(self, point: int) -> Path:
        return self.directory / f"point-{point:06d}.csv"

    def done(self, rows_of: Callable[[int], int]) -> set[int]:
        """Points whose part is complete; a damaged part (not written by us whole) is set aside."""
        import pandas as pd

        done = set()
        for path in self.directory.iterdir():
            m = self.PART.match(path.name)
            if not m:
                continue
            point = int(m.group(1))
            try:
                frame = pd.read_csv(path)
                ok = len(frame) == rows_of(point) and bool((frame["point"] == point).all())
            except (ValueError, KeyError, IndexError, OSError):
                ok = False
            if ok:
                done.add(point)
            else:
                warnings.warn(f"{path}: incomplete part file; the point will be run again", stacklevel=3)
                path.unlink(missing_ok=True)
        return done

    def write(self, point: int, frame: pd.DataFrame) -> None:
        with output_errors(self.directory):
            atomic_write(self.part(point), lambda tmp: frame.to_csv(tmp, index=False))

    def read(self, points: Sequence[int]) -> pd.DataFrame:
        import pandas as pd

        return pd.concat([read_table(self.part(i)) for i in points], ignore_index=True)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a sweep's table (.csv or .parquet) back, every float exactly as it was written."""
    import pandas as pd

    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if int(pd.__version__.split(".")[0]) < 3:
        # pandas 2 parses floats fast but not always to the last bit; 3 always round-trips.
        return pd.read_csv(path, float_precision="round_trip")
    return pd.read_csv(path)


def is_temporary(path: Path) -> bool:
    """A temporary file of orgsim._io.atomic_write (left by a kill -9): never complete, never read."""
    return path.name.startswith(".") and path.name.endswith(".part")


def _brief(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def parts_directory(out: str | Path) -> Path:
    """Where a sweep writing ``out`` keeps its finished points until it completes."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def write_table(out: Path, frame: pd.DataFrame) -> None:
    """The sweep's table, whole or not at all; in CSV, text cells a spreadsheet would run as formulas neutralised."""
    with output_errors(out):
        if out.suffix.lower() == ".parquet":
            atomic_write(out, lambda tmp: frame.to_parquet(tmp, index=False))
        else:
            atomic_write(out, lambda tmp: write_csv(frame, tmp))

