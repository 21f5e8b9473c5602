"""Mesa agents that decide: centres, host institutions, companies and foundations.

Centres and hosts are one agent per cohort entry, acting in every run of a chunk at once (their
state is a slice of the world's per-centre arrays, one element per run); companies and foundations
are one agent per cohort entry and run, because each holds its own deals. The model steps them
through Mesa's agent sets by type, in the order of :meth:`wpi_abm.sim.model.WPIModel.step`.
"""
