"""What orgsim.sim.fifo_loop needs of the ``cython`` module when Cython is not installed.

The loop's C types are in ``fifo_loop.pxd``, which plain Python never reads;
the source itself only asks whether it is compiled.
"""

compiled = False
