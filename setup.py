"""Build the optional compiled event loop; everything else is in setup.cfg.

``orgsim/sim/fifo_loop.py`` is the FIFO engine's event loop in Cython's pure
Python mode, with its C types in ``fifo_loop.pxd``. When Cython and a C
compiler are present, this compiles it in place of the ``.py``; without them
the build skips it and the same source runs as Python (slower, identical
results).
"""

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # building without Cython: the loop runs as Python
    ext_modules = []
else:
    ext_modules = cythonize(
        [Extension("orgsim.sim.fifo_loop", ["orgsim/sim/fifo_loop.py"])],
        language_level=3,
        # Indexes are computed from the input's own offsets, never negative; C semantics for // are safe.
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True,
                             "initializedcheck": False,
                             # The .py's annotations are for readers and mypy; the C types are in the .pxd.
                             "annotation_typing": False},
        quiet=True,
    )
    for ext in ext_modules:
        ext.optional = True  # set after cythonize(), which does not carry it over

setup(ext_modules=ext_modules)
