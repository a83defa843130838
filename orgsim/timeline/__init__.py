"""A reform as a programme over time (``orgsim timeline``): dated phases, the workforce and its pay, in one run."""
