"""Figure 8: global sensitivity of the outcomes to the model's parameters.

Sobol: first-order (S1, filled) and total (ST, hatched) indices with their 95% intervals. Morris:
μ* (mean absolute elementary effect, bars with 95% interval) and σ (spread of the effects, hollow
markers; σ beyond μ* means non-linear or interacting effects). One row per policy, one panel per
output; parameters ranked by importance across the row, so that their labels are shared — bars
read better in print than a labelled μ*–σ scatter, whose labels collide.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from wpi_abm.outcomes import BY_NAME, label, sensitivity_outputs
from wpi_abm.plots.results import Results, Skip, parameter_label
from wpi_abm.plots.style import DOUBLE, plt, top_legend
from wpi_abm.schema.sweep import RANKED_BY
from wpi_abm.text import t


def _table(res: Results, method: str) -> tuple[pd.DataFrame, list[str], list[str]]:
    df = res.sensitivity
    if df is None:
        raise Skip("no sensitivity.csv (run `wpi-abm sensitivity`)")
    df = df[df["method"] == method]
    if df.empty:
        raise Skip(f"sensitivity.csv holds no {method} indices")
    df = df.assign(policy=df["policy"].astype(str))
    present = list(dict.fromkeys(df["policy"]))
    policies = [p for p in res.policies if p in present] + [
        p for p in present if p not in res.policies
    ]
    known = sensitivity_outputs()
    outputs = [o for o in known if o in set(df["output"])] + [
        o for o in dict.fromkeys(df["output"]) if o not in known
    ]
    return df, policies, outputs


def _unit(output: str, lang: str) -> str:
    """The unit of an output's indices (a share where the output is not a known outcome)."""
    o = BY_NAME.get(output)
    return t(f"unit_{o.unit if o is not None else 'share'}", lang)


def _rows(
    res: Results, policies: list[str], n_outputs: int, row_height: float
) -> tuple[Figure, list[np.ndarray]]:
    """One row of panels per policy (titled with its label), one panel per output."""
    fig = plt.figure(figsize=(DOUBLE, len(policies) * row_height + 0.4), layout="constrained")
    subfigs = np.atleast_1d(fig.subfigures(len(policies), 1))
    rows = []
    for sub, p in zip(subfigs, policies, strict=True):
        sub.suptitle(res.label(p), x=0.0, ha="left", fontsize=7.5, fontweight="bold")
        rows.append(sub.subplots(1, n_outputs, sharey=True, squeeze=False)[0])
    return fig, rows


def _order(df: pd.DataFrame, outputs: list[str], key: str) -> list[str]:
    """Parameters from least to most important across a policy's outputs.

    Each output's index is scaled by its largest value first, so that an output in M yen does not
    outweigh one that is a share; one order per row keeps the parameter labels shared.
    """
    score: dict[str, float] = {}
    for out in outputs:
        d = df[df["output"] == out]
        top = float(np.nanmax(np.abs(d[key].to_numpy(float)), initial=0.0)) or 1.0
        for prm, v in zip(d["parameter"], d[key].to_numpy(float), strict=True):
            score[str(prm)] = score.get(str(prm), 0.0) + (v / top if np.isfinite(v) else 0.0)
    return sorted(score, key=lambda k: (score[k], k))


def _err(d: pd.DataFrame, conf: str) -> np.ndarray | None:
    e = d[conf].to_numpy(float)
    return np.where(np.isfinite(e), np.abs(e), 0.0) if np.isfinite(e).any() else None


def sensitivity_sobol(res: Results) -> Figure:
    """Sobol S1 and ST per parameter, ranked by ST, per policy and output.

    Raises:
        Skip: No sensitivity.csv, or no Sobol rows in it.
    """
    df, policies, outputs = _table(res, "sobol")
    lang = res.lang
    n_params = df["parameter"].nunique()
    fig, rows = _rows(res, policies, len(outputs), 0.16 * n_params + 0.75)
    h = 0.38
    for p, axes in zip(policies, rows, strict=True):
        st = res.style(p)
        dp = df[df["policy"] == p]
        order = _order(dp, outputs, RANKED_BY["sobol"])
        y = {prm: k for k, prm in enumerate(order)}
        for ax, out in zip(axes, outputs, strict=True):
            d = dp[dp["output"] == out]
            pos = np.array([y[str(v)] for v in d["parameter"]], dtype=float)
            ax.barh(
                pos + h / 2,
                d["ST"].to_numpy(float),
                height=h,
                color="white",
                edgecolor=st["color"],
                linewidth=0.8,
                hatch="////",
                xerr=_err(d, "ST_conf"),
                error_kw={"elinewidth": 0.6, "capsize": 1.5},
            )
            ax.barh(
                pos - h / 2,
                d["S1"].to_numpy(float),
                height=h,
                color=st["color"],
                edgecolor=st["color"],
                linewidth=0.8,
                xerr=_err(d, "S1_conf"),
                error_kw={"elinewidth": 0.6, "capsize": 1.5},
            )
            ax.axvline(0, color="0.5", linewidth=0.5)
            ax.set_xlim(min(-0.05, ax.get_xlim()[0]), max(1.0, ax.get_xlim()[1]))
            ax.set_title(label(out, lang), fontsize=7, pad=2)
            ax.grid(axis="x", linewidth=0.3, alpha=0.4)
        axes[0].set_yticks(range(len(order)), [parameter_label(k) for k in order], fontsize=6.5)
        axes[0].set_ylim(-0.6, len(order) - 0.4)
    fig.supxlabel(t("sobol_axis", lang))
    handles = [
        Patch(facecolor="0.3", edgecolor="0.3", label=t("s1", lang)),
        Patch(facecolor="white", edgecolor="0.3", hatch="////", label=t("st", lang)),
    ]
    top_legend(fig, handles, ncols=2)
    return fig


def sensitivity_morris(res: Results) -> Figure:
    """Morris μ* (bars, 95% interval) and σ (hollow markers) per parameter, ranked by μ*.

    Raises:
        Skip: No sensitivity.csv, or no Morris rows in it.
    """
    df, policies, outputs = _table(res, "morris")
    lang = res.lang
    n_params = df["parameter"].nunique()
    fig, rows = _rows(res, policies, len(outputs), 0.16 * n_params + 0.75)
    for i, (p, axes) in enumerate(zip(policies, rows, strict=True)):
        st = res.style(p)
        dp = df[df["policy"] == p]
        order = _order(dp, outputs, RANKED_BY["morris"])
        y = {prm: k for k, prm in enumerate(order)}
        for ax, out in zip(axes, outputs, strict=True):
            d = dp[dp["output"] == out]
            pos = np.array([y[str(v)] for v in d["parameter"]], dtype=float)
            ax.barh(
                pos,
                d["mu_star"].to_numpy(float),
                height=0.55,
                color=st["color"],
                alpha=0.85,
                xerr=_err(d, "mu_star_conf"),
                error_kw={"elinewidth": 0.6, "capsize": 1.5},
            )
            ax.plot(
                d["sigma"].to_numpy(float),
                pos,
                linestyle="none",
                marker="o",
                markerfacecolor="white",
                markeredgecolor="black",
                markersize=3.5,
            )
            ax.set_xlim(left=0)
            ax.set_title(label(out, lang), fontsize=7, pad=2)
            ax.grid(axis="x", linewidth=0.3, alpha=0.4)
            if i == len(policies) - 1:
                ax.set_xlabel(t("morris_axis", lang, unit=_unit(out, lang)))
        axes[0].set_yticks(range(len(order)), [parameter_label(k) for k in order], fontsize=6.5)
        axes[0].set_ylim(-0.6, len(order) - 0.4)
    handles = [
        Patch(facecolor="0.3", label=t("mu_star_bar", lang)),
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markerfacecolor="white",
            markeredgecolor="black",
            markersize=3.5,
            label=t("sigma_marker", lang),
        ),
    ]
    top_legend(fig, handles, ncols=2)
    return fig
