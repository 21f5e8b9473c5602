"""Figures drawn at the end of a run: P(decline) per policy and value-index trajectories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from wpi_abm.config import Experiment
from wpi_abm.plots.style import DOUBLE, plt, policy_style, save, style


def provenance(exp: Experiment, summary: pd.DataFrame) -> dict[str, str]:
    """What goes into a figure's metadata instead of onto the plot."""
    import wpi_abm

    n = int(summary["n"].max()) if "n" in summary else 0
    return {
        "subject": f"experiment {exp.name}; seed {exp.seed}; {exp.replicates} replicates; "
        f"n = {n} centre-runs per policy; wpi-abm {wpi_abm.__version__}",
        "keywords": "WPI, research centre, funding policy, agent-based model",
    }


def forest(summary: pd.DataFrame, exp: Experiment) -> plt.Figure:
    """P(decline) per policy with 95% intervals, and the paired difference against the baseline."""
    s = summary[summary["point"] == summary["point"].min()] if "point" in summary else summary
    policies = list(s["policy"])
    y = np.arange(len(policies))[::-1]
    baseline = exp.baseline_policy
    diff_col = f"diff_vs_{baseline}" if baseline else None
    has_diff = diff_col is not None and diff_col in s
    fig, axes = plt.subplots(
        1, 2 if has_diff else 1, figsize=(DOUBLE, 0.28 * len(policies) + 0.8), sharey=True,
        squeeze=False,
    )  # fmt: skip
    ax = axes[0, 0]
    for yi, (_, row) in zip(y, s.iterrows(), strict=True):
        st = policy_style(row["policy"], policies)
        ax.errorbar(
            row["p_decline"], yi,
            xerr=[[row["p_decline"] - row["ci_low"]], [row["ci_high"] - row["p_decline"]]],
            fmt=st["marker"], color=st["color"], capsize=2, markersize=4,
        )  # fmt: skip
    label = {p: exp.policies[p].display if p in exp.policies else p for p in policies}
    ax.set_yticks(y, [label[p] for p in policies])
    ax.set_xlim(-0.02, 1.02)
    years = "–".join(str(y) for y in (exp.decline.test_years[0], exp.decline.test_years[-1]))
    ax.set_xlabel(f"P(decline)\n(years {years} vs year {exp.decline.reference_year})")
    ax.grid(axis="x", linewidth=0.3, alpha=0.5)
    if has_diff:
        ax2 = axes[0, 1]
        ax2.axvline(0, color="0.5", linewidth=0.6)
        for yi, (_, row) in zip(y, s.iterrows(), strict=True):
            st = policy_style(row["policy"], policies)
            d = row[diff_col]
            if np.isnan(row["diff_ci_low"]):
                ax2.plot(d, yi, st["marker"], color=st["color"], markersize=4)
                continue
            ax2.errorbar(
                d, yi, xerr=[[d - row["diff_ci_low"]], [row["diff_ci_high"] - d]],
                fmt=st["marker"], color=st["color"], capsize=2, markersize=4,
            )  # fmt: skip
        ax2.set_xlabel(f"Paired difference in P(decline)\nvs {label.get(baseline, baseline)}")
        ax2.grid(axis="x", linewidth=0.3, alpha=0.5)
    fig.tight_layout()
    return fig


def mean_by_policy_year(runs: Path, column: str, horizon: int) -> pd.DataFrame | None:
    """Mean of a panel column per policy and year, read batch by batch (memory stays flat)."""
    files = sorted(runs.glob("*.parquet"))
    if not files:
        return None
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}
    for batch in ds.dataset(files, format="parquet").to_batches(
        columns=["policy", "year", column], batch_size=200_000
    ):
        policy = batch.column("policy")
        names = policy.dictionary.to_pylist()
        codes = policy.indices.to_numpy()
        year = batch.column("year").to_numpy().astype(np.int64)
        value = batch.column(column).to_numpy(zero_copy_only=False)
        ok = ~np.isnan(value)
        for k, name in enumerate(names):
            sel = ok & (codes == k)
            if not sel.any():
                continue
            s = sums.setdefault(name, np.zeros(horizon + 1))
            c = counts.setdefault(name, np.zeros(horizon + 1))
            s += np.bincount(year[sel], weights=value[sel], minlength=horizon + 1)
            c += np.bincount(year[sel], minlength=horizon + 1)
    years = np.arange(1, horizon + 1)
    return pd.DataFrame(
        {name: sums[name][1:] / np.maximum(counts[name][1:], 1) for name in sums}, index=years
    )


def value_trajectories(out: Path, exp: Experiment) -> plt.Figure | None:
    """Mean value index by support year per policy, from the stored panel (None if absent)."""
    mean = mean_by_policy_year(out / "runs", "value_index", exp.horizon)
    if mean is None:
        return None
    fig, ax = plt.subplots(figsize=(DOUBLE, 2.8))
    policies = [p for p in exp.policy_names if p in mean.columns]
    for p in policies:
        st = policy_style(p, policies)
        ax.plot(
            mean.index, mean[p], color=st["color"], linestyle=st["linestyle"],
            label=exp.policies[p].display,
        )  # fmt: skip
    ax.axvline(exp.decline.reference_year, color="0.6", linewidth=0.6)
    ax.axhline(1.0 - exp.decline.theta, color="0.6", linewidth=0.6, linestyle=":")
    ax.set_xlabel("Support year")
    ax.set_ylabel("Value index (1 = funded baseline)")
    ax.legend(frameon=False, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def draw_run_figures(out: Path, summary: pd.DataFrame, exp: Experiment) -> list[str]:
    """Draw the run's figures into ``out/figures``; returns the files written."""
    files: list[str] = []
    meta = provenance(exp, summary)
    folder = out / "figures"
    with style():
        files += save(forest(summary, exp), folder, "p_decline", {**meta, "title": "P(decline)"})
        fig = value_trajectories(out, exp)
        if fig is not None:
            files += save(fig, folder, "value_index", {**meta, "title": "Value index by year"})
    return files


def plot_results(results: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """Draw the figures of a stored results folder without re-running anything.

    Returns:
        Files written, and (figure, reason) for figures that could not be drawn.

    Raises:
        ResultsError: The folder holds no finished results.
    """
    from pydantic import ValidationError

    from wpi_abm.errors import ResultsError
    from wpi_abm.experiment.store import ResultStore

    store = ResultStore(results)
    manifest = store.read_manifest()
    summary_path = results / "summary.csv"
    if not summary_path.is_file():
        raise ResultsError(f"{results}: no summary.csv (the run did not finish; resume it first)")
    try:
        exp = Experiment.model_validate(manifest["config"])
    except (KeyError, ValidationError) as exc:
        raise ResultsError(f"{results}/manifest.json: no usable configuration ({exc})") from None
    summary = pd.read_csv(summary_path)
    made = draw_run_figures(results, summary, exp)
    skipped = []
    if "value_index.pdf" not in made:
        skipped.append(("value_index", "no centre × year panel stored (runs/ is empty)"))
    return made, skipped
