"""Global sensitivity analysis of the summary measures (SALib): Sobol and Morris.

The simulator is stochastic. Indices are computed on the *per-point summary* of each policy —
P(decline), mean depth and government cost per centre, each estimated from ``replicates`` runs ×
the cohort's centres at that point — with the same replicate seeds at every point (common random
numbers), so that differences between points reflect the parameters rather than the draws. The
Monte Carlo noise of each point's estimate still inflates total-order indices and Morris σ a little;
docs/ODD.md ("Sensitivity analysis") gives the sample sizes that keep it small.

The same functions analyse the Ishigami function (``model: ishigami``), whose indices are known
analytically; ``tests/test_sweep.py`` checks the pipeline against them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wpi_abm.experiment.store import ResultStore, now, versions
from wpi_abm.experiment.sweep import problem
from wpi_abm.schema.sweep import SweepSpec

ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1


def ishigami(x: np.ndarray) -> np.ndarray:
    """The Ishigami function on rows of (x1, x2, x3) in [-π, π]³."""
    return (
        np.sin(x[:, 0])
        + ISHIGAMI_A * np.sin(x[:, 1]) ** 2
        + ISHIGAMI_B * x[:, 2] ** 4 * np.sin(x[:, 0])
    )


def ishigami_summary(table: pd.DataFrame, spec: SweepSpec) -> pd.DataFrame:
    """Evaluate Ishigami at every point, shaped like a sweep summary (policy ``ishigami``)."""
    x = table[list(spec.parameters)].to_numpy(float)
    y = ishigami(x)
    out = pd.DataFrame({"point": table.index, "policy": "ishigami"})
    for name in spec.outputs:
        out[name] = y
    return out


def analyse(
    summary: pd.DataFrame, table: pd.DataFrame, spec: SweepSpec, policies: Iterable[str]
) -> pd.DataFrame:
    """Sobol and/or Morris indices per policy and output.

    Args:
        summary: One row per (point, policy) with the output columns.
        table: The point table (parameter columns and ``method``), indexed by point.
        spec: The study.
        policies: Policies to analyse.

    Returns:
        Columns policy, output, method, parameter, S1, S1_conf, ST, ST_conf, mu_star,
        mu_star_conf, sigma (NaN where a method does not give the measure).
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    prob = problem(spec)
    names = list(spec.parameters)
    rows = []
    for method in spec.methods:
        pts = table.index[table["method"] == method] if "method" in table else table.index
        x = table.loc[pts, names].to_numpy(float)
        for policy in policies:
            sub = summary[summary["policy"] == policy].set_index("point").reindex(pts)
            for output in spec.outputs:
                y = sub[output].to_numpy(float)
                if np.isnan(y).any():
                    missing = int(np.isnan(y).sum())
                    raise ValueError(
                        f"{missing} points have no {output} for {policy} (failed runs?); "
                        "resume the study to complete them"
                    )
                if method == "sobol":
                    res = sobol_analyze.analyze(
                        prob, y, calc_second_order=False, conf_level=0.95, seed=spec.design_seed
                    )
                    for j, name in enumerate(names):
                        rows.append(
                            _row(policy, output, method, name)
                            | {
                                "S1": res["S1"][j],
                                "S1_conf": res["S1_conf"][j],
                                "ST": res["ST"][j],
                                "ST_conf": res["ST_conf"][j],
                            }
                        )
                else:
                    res = morris_analyze.analyze(
                        prob, x, y, conf_level=0.95, num_levels=spec.levels, seed=spec.design_seed
                    )
                    for j, name in enumerate(names):
                        rows.append(
                            _row(policy, output, method, name)
                            | {
                                "mu_star": res["mu_star"][j],
                                "mu_star_conf": res["mu_star_conf"][j],
                                "sigma": res["sigma"][j],
                            }
                        )
    cols = [
        "policy", "output", "method", "parameter", "S1", "S1_conf", "ST", "ST_conf", "mu_star",
        "mu_star_conf", "sigma",
    ]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=cols)


def _row(policy: str, output: str, method: str, parameter: str) -> dict[str, object]:
    return {"policy": policy, "output": output, "method": method, "parameter": parameter}


def store_analytic(
    out: Path,
    tree: dict[str, Any],
    table: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    resume: bool,
    invocation: dict[str, Any] | None = None,
) -> None:
    """Store an analytic-function study like a simulated one (manifest, points, summary).

    Args:
        out: The results folder.
        tree: The study's resolved configuration (recorded in the manifest).
        table: The point table.
        summary: One row per point (:func:`ishigami_summary`).
        resume: Reopen an existing folder.
        invocation: How the study was started (recorded in the manifest, so that the folder
            alone can resume it).
    """
    with ResultStore(out) as store:
        store.open(resume=resume)
        store.write_manifest(
            {
                "experiment": tree["name"], "kind": "sensitivity", "model": "ishigami",
                "status": "complete", "started": now(), "ended": now(), "versions": versions(),
                "invocation": invocation or {}, "config": tree,
            }
        )  # fmt: skip
        store.write_points(table)
        store.write_summary(summary)
