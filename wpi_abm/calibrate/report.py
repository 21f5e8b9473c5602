"""What a calibration leaves in its results folder: posterior, validation table, figure.

``posterior.csv`` — one row per particle of the last generation: its weight, its distance, the
free parameters (shipped as ``wpi_abm/data/posterior/legacy.csv``);
``predictive.csv`` — the same particles' measurements (the posterior predictive);
``validation.csv`` — one row per target: source, range, model median and 90% interval, inside?;
``history.csv`` — one row per generation; ``figures/calibration_targets.{pdf,png}``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from wpi_abm.calibrate.method import AbcResult, weighted_quantiles
from wpi_abm.calibrate.spec import CalibrationSpec
from wpi_abm.calibrate.targets import MEASURES

VALIDATION_COLUMNS = (
    "target", "measure", "use", "source", "low", "high", "median", "q05", "q95", "inside",
    "description",
)  # fmt: skip
"""Columns of ``validation.csv``."""


def posterior_table(spec: CalibrationSpec, result: AbcResult) -> pd.DataFrame:
    """The posterior sample: particle, weight, distance, one column per free parameter."""
    g = result.posterior
    table = pd.DataFrame(g.thetas, columns=spec.keys)
    table.insert(0, "distance", g.distances)
    table.insert(0, "weight", g.weights)
    table.index.name = "particle"
    return table


def predictive_table(spec: CalibrationSpec, result: AbcResult) -> pd.DataFrame:
    """The posterior predictive: each particle's measurement of each target."""
    table = pd.DataFrame(result.posterior.measured, columns=[t.label for t in spec.targets])
    table.index.name = "particle"
    return table


def validation_table(spec: CalibrationSpec, result: AbcResult) -> pd.DataFrame:
    """One row per target: its range and source, the model's weighted median and 90% interval.

    ``inside`` says whether the model median lies in the target range; particles whose
    measurement is NaN (nothing to measure in their runs) are left out of that target's row.
    """
    g = result.posterior
    rows = []
    for j, t in enumerate(spec.targets):
        x, ok = g.measured[:, j], np.isfinite(g.measured[:, j])
        if ok.any():
            q05, med, q95 = weighted_quantiles(x[ok], g.weights[ok], [0.05, 0.5, 0.95])
        else:
            q05 = med = q95 = float("nan")
        rows.append({
            "target": t.label, "measure": t.measure, "use": t.use, "source": t.source,
            "low": t.low, "high": t.high, "median": med, "q05": q05, "q95": q95,
            "inside": bool(t.low <= med <= t.high), "description": MEASURES[t.measure].description,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=list(VALIDATION_COLUMNS))


def history_table(result: AbcResult) -> pd.DataFrame:
    """One row per generation: tolerance, simulations, acceptance rate, ESS, seconds."""
    return pd.DataFrame(
        [
            {
                "generation": i,
                "epsilon": g.epsilon,
                "simulations": g.simulations,
                "acceptance": g.acceptance,
                "ess": g.ess,
                "seconds": g.seconds,
            }
            for i, g in enumerate(result.generations)
        ]
    )


def format_validation(table: pd.DataFrame) -> str:
    """The validation table as console text."""
    lines = [
        f"{'target':<26} {'range':>17} {'median':>9} {'90% interval':>21}  in?  source",
        "-" * 100,
    ]
    for r in table.itertuples():
        mark = ("yes" if r.inside else "NO") + ("" if r.use == "fit" else "*")
        rng = f"{_fmt(r.low)}–{_fmt(r.high)}"
        iv = f"{_fmt(r.q05)}–{_fmt(r.q95)}"
        lines.append(f"{r.target:<26} {rng:>17} {_fmt(r.median):>9} {iv:>21}  {mark:<4} {r.source}")
    if (table["use"] == "check").any():
        lines.append("* checked, not fitted")
    return "\n".join(lines)


def _fmt(x: float) -> str:
    return f"{x:.3f}" if abs(x) < 2 else f"{x:.1f}"


def figure(table: pd.DataFrame, folder: Path) -> list[Path]:
    """Targets against the posterior predictive, each on its own range (0 = low, 1 = high).

    Args:
        table: The validation table.
        folder: Where ``calibration_targets.pdf`` and ``.png`` go.

    Returns:
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from wpi_abm.plots.style import PNG_DPI, RC

    # Targets differ in units (people, shares, M yen): each is drawn on its own range, so the
    # band [0, 1] is "inside the published range" for every row.
    span = (table["high"] - table["low"]).to_numpy()
    scaled = {
        c: (table[c].to_numpy() - table["low"].to_numpy()) / span for c in ("median", "q05", "q95")
    }
    n = len(table)
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(6.5, 0.45 * n + 1.2))
        y = np.arange(n)[::-1]
        ax.axvspan(0, 1, color="0.88", zorder=0, label="target range")
        ax.hlines(y, scaled["q05"], scaled["q95"], color="C0", lw=2, label="model 90% interval")
        ax.plot(scaled["median"], y, "o", color="C0", label="model median")
        ax.set_yticks(
            y,
            [
                f"{t}{'' if u == 'fit' else ' *'}"
                for t, u in zip(table["target"], table["use"], strict=True)
            ],
        )
        ax.set_xlabel("position in the target range (0 = low end, 1 = high end)")
        ax.legend(loc="lower right", fontsize="small", frameon=False)
        fig.tight_layout()
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / "calibration_targets.pdf", folder / "calibration_targets.png"]
        fig.savefig(paths[0])
        fig.savefig(paths[1], dpi=PNG_DPI)
        plt.close(fig)
    return paths
