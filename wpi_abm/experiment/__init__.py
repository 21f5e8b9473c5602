"""Experiments: expansion into runs, execution, storage and analysis."""
