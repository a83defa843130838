"""The default engine: the FIFO loop of :mod:`orgsim.sim.fifo_loop`, compiled where it was built.

``fifo_loop.py`` is one source: ``pip install`` compiles it with Cython when
a C compiler is present (10-20 times faster; 20-40 times the SimPy engine,
benchmarks/README.md); otherwise the same file runs as Python. This
module chooses which runs (:data:`LOOP`) and says which (:func:`compiled`).
In a checkout (an editable install), a compiled loop older than its source
(``fifo_loop.py`` or ``fifo_loop.pxd``) would run old code: it is not used,
with a warning, and the source runs as Python.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import warnings
from pathlib import Path
from types import ModuleType

from orgsim.sim.run_io import RunInput, RunOutput

__all__ = ["LOOP", "compiled", "python_loop", "run_fifo"]

_SOURCES = (Path(__file__).with_name("fifo_loop.py"), Path(__file__).with_name("fifo_loop.pxd"))
_PYTHON_NAME = "orgsim.sim._fifo_loop_python"


@functools.cache
def python_loop() -> ModuleType:
    """The loop's source run as Python (under another module name, so the compiled one may be loaded too)."""
    spec = importlib.util.spec_from_file_location(_PYTHON_NAME, _SOURCES[0])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_PYTHON_NAME] = module
    spec.loader.exec_module(module)
    return module


def _load() -> ModuleType:
    spec = importlib.util.find_spec("orgsim.sim.fifo_loop")
    origin = Path(spec.origin) if spec is not None and spec.origin else None
    if origin is None or origin.suffix == ".py":  # no compiled module: the source is the loop
        return python_loop()
    checkout = (Path(__file__).parents[2] / "setup.py").exists()
    if checkout and any(p.exists() and p.stat().st_mtime > origin.stat().st_mtime for p in _SOURCES):
        warnings.warn("orgsim's compiled event loop is older than orgsim/sim/fifo_loop.py or .pxd; running "
                      "the loop as Python instead (same results, slower). Rebuild it: pip install -e .",
                      RuntimeWarning, stacklevel=3)
        return python_loop()
    try:
        from orgsim.sim import fifo_loop
    except ImportError as exc:  # pragma: no cover - a broken build
        warnings.warn(f"orgsim's compiled event loop does not load ({exc}); running the loop as Python "
                      "instead (same results, slower). Rebuild it: pip install -e .", RuntimeWarning, stacklevel=3)
        return python_loop()
    return fifo_loop


#: The module whose FifoLoop runs: the compiled extension, or the source as Python.
LOOP: ModuleType = _load()


def compiled() -> bool:
    """True when the compiled event loop runs (otherwise the same source runs as Python, slower)."""
    return bool(LOOP.COMPILED)


def run_fifo(run: RunInput) -> RunOutput:
    """One replication of ``run`` by the FIFO recursion."""
    return LOOP.FifoLoop(run).run()
