"""Calibration with uncertainty: ``wpi-abm calibrate SPEC.yaml``.

One concept per module: :mod:`.spec` (the YAML file: priors and targets), :mod:`.targets` (the
registry of named measurements a target refers to), :mod:`.evaluate` (candidate points simulated
through the project's executors on common random numbers), :mod:`.method` (ABC-SMC),
:mod:`.report` (posterior, validation table, figure) and :mod:`.driver` (the whole calibration).
The spec-less ``wpi-abm calibrate`` table lives in :mod:`wpi_abm.calibration`.
"""
