"""The simulation core: the world, the agents that decide, and the yearly mechanisms.

Read :mod:`wpi_abm.sim.model` first: its ``step`` is the year, phase by phase. Data flows one way:
``world`` (state) ← ``population``, ``programme``, ``streams``; mechanisms and agents take the
world; the model builds the agents and orders the phases. Nothing imports the model.
"""
