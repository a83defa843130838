"""Build the optional compiled event loop; everything else is in setup.cfg.

``orgsim.sim._fifo_kernel`` is the FIFO engine's loop compiled with Cython.
It is optional: without a C compiler the build skips it and orgsim runs the
same algorithm in Python (slower, identical results).
"""

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # building without Cython: no compiled loop
    ext_modules = []
else:
    ext_modules = cythonize(
        [Extension("orgsim.sim._fifo_kernel", ["orgsim/sim/_fifo_kernel.pyx"])],
        language_level=3,
        quiet=True,
    )
    for ext in ext_modules:
        ext.optional = True  # set after cythonize(), which does not carry it over

setup(ext_modules=ext_modules)
