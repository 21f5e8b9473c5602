"""Publication figures from a stored results folder, one module per figure, one shared style.

Entry points: :func:`wpi_abm.plots.summary.plot_results` (``wpi-abm plot``) and
:func:`wpi_abm.plots.summary.draw_run_figures` (end of a run). The figures are listed in
:mod:`wpi_abm.plots.catalogue`; the look lives in :mod:`wpi_abm.plots.style`.
"""
