"""Discrete-event simulation of approval lead times."""
