"""Figures from stored results: every figure function on a real small run and on synthetic sweep
and sensitivity folders, checked on the matplotlib objects and on the files written."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import shutil
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator

from wpi_abm.cli import main
from wpi_abm.outcomes import sensitivity_outputs
from wpi_abm.plots import (
    after_support,
    cost,
    decline_curve,
    fans,
    forest,
    income,
    sensitivity,
    survival,
    sweep,
)
from wpi_abm.plots.catalogue import CATALOGUE, caption
from wpi_abm.plots.fonts import cache_font_subsets
from wpi_abm.plots.results import Results, Skip, parameter_label
from wpi_abm.plots.style import (
    PNG_DPI,
    fix_layout,
    fix_ticks,
    freeze_ticks,
    luminance,
    plt,
    policy_style,
    save,
    style,
    thousands_axis,
    tight_box,
    top_legend,
)
from wpi_abm.plots.summary import draw_files, plot_results
from wpi_abm.presets import policy_looks, policy_names

POLICIES = ["legacy", "reform_2024", "taper", "flat_forever"]
REPLICATES = 4
CENTRES = 12
RUN_FIGURES = {
    "p_decline",
    "p_decline_curve",
    "cost_effectiveness",
    "after_support",
    "survival",
    "value_index",
    "researchers",
    "personnel_cost",
    "papers",
    "income",
}
NAMES = tuple(spec.name for spec in CATALOGUE)
_BUILT: dict[str, Path] = {}


# -- folders (shared with test_report.py) -------------------------------------------------------
def build_run(base: Path) -> Path:
    """One small real results folder per session (4 policies × 4 replicates × 12 centres)."""
    if "run" not in _BUILT:
        out = base / "run"
        code = main(
            [
                "run",
                "--replicates",
                str(REPLICATES),
                "--executor",
                "serial",
                "--quiet",
                "--out",
                str(out),
                "--set",
                "output.chunk_runs=4",
                "--set",
                f"policies=[{','.join(POLICIES)}]",
            ]
        )
        assert code == 0
        _BUILT["run"] = out
    return _BUILT["run"]


def _summary_rows(
    points: pd.DataFrame, policies: list[str], rng: np.random.Generator
) -> pd.DataFrame:
    """A summary.csv for a sweep: P(decline) a smooth function of the levers, plus noise."""
    rows = []
    base_shift = {"legacy": 1.5, "reform_2024": 1.0, "taper": 0.2, "flat_forever": -4.0}
    for point, values in points.iterrows():
        z = sum(
            (i + 1) * (float(v) - points[c].mean()) / (points[c].std() or 1.0)
            for i, (c, v) in enumerate(values.items())
        )
        for p in policies:
            prob = float(1 / (1 + np.exp(-(base_shift[p] - 0.6 * z))))
            half = 0.03 + 0.02 * rng.random()
            c = 6000 + 2000 * rng.random() + (10000 if p == "flat_forever" else 0)
            rows.append(
                {
                    "point": point,
                    **values.to_dict(),
                    "policy": p,
                    "n": 48,
                    "p_decline": prob,
                    "ci_low": max(0.0, prob - half),
                    "ci_high": min(1.0, prob + half),
                    "runs": 4,
                    "mean_depth": 0.4,
                    "depth_ci_low": 0.35,
                    "depth_ci_high": 0.45,
                    "cost_per_centre": c,
                    "cost_ci_low": c - 50,
                    "cost_ci_high": c + 50,
                    "p_decline_personnel": prob,
                    "p_decline_papers": prob,
                    "p_decline_end": prob,
                    "end_ci_low": prob - half,
                    "end_ci_high": prob + half,
                    "mean_years_below": 5.0,
                    "p_recovered": 0.1,
                    "diff_vs_legacy": 0.0,
                    "diff_ci_low": -0.1,
                    "diff_ci_high": 0.1,
                    "cost_diff_vs_legacy": 0.0,
                    "cost_diff_ci_low": -1.0,
                    "cost_diff_ci_high": 1.0,
                }
            )
    return pd.DataFrame(rows)


def build_sweep(base: Path, name: str, design: str, levers: dict[str, list[float]]) -> Path:
    """A synthetic sweep folder (manifest with the run's configuration, points, summary)."""
    key = f"sweep-{name}"
    if key in _BUILT:
        return _BUILT[key]
    run = build_run(base)
    out = base / key
    out.mkdir()
    manifest = json.loads((run / "manifest.json").read_text())
    manifest.update(kind="sweep", experiment=name)
    manifest["sweep"] = {
        "design": design,
        "parameters": {
            k: {"values": v} if design == "grid" else {"range": [min(v), max(v)]}
            for k, v in levers.items()
        },
    }
    manifest["config"] = {**manifest["config"], "sweep": manifest["sweep"]}
    (out / "manifest.json").write_text(json.dumps(manifest))
    rng = np.random.default_rng(7)
    if design == "grid":
        combos = list(itertools.product(*levers.values()))
    else:
        combos = [tuple(rng.uniform(min(v), max(v)) for v in levers.values()) for _ in range(12)]
    points = pd.DataFrame(combos, columns=list(levers))
    points.index.name = "point"
    points.to_csv(out / "points.csv")
    _summary_rows(points, POLICIES, rng).to_csv(out / "summary.csv", index=False)
    _BUILT[key] = out
    return out


SENS_PARAMS = [
    "parameters.host.absorption_share",
    "parameters.researchers.insecurity_sensitivity",
    "policies.reform_2024.matching.cap",
    "parameters.company.offer_rate",
]


def build_sensitivity(base: Path) -> Path:
    """A synthetic sensitivity folder: a Sobol + Morris study of two policies."""
    if "sensitivity" in _BUILT:
        return _BUILT["sensitivity"]
    levers = {k: [0.1 * (i + 1), 0.5 * (i + 2)] for i, k in enumerate(SENS_PARAMS)}
    folder = build_sweep(base, "sens", "sobol", levers)
    out = base / "sensitivity"
    shutil.copytree(folder, out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["kind"] = "sensitivity"
    (out / "manifest.json").write_text(json.dumps(manifest))
    rows = []
    nan = float("nan")
    for policy, output in itertools.product(["legacy", "reform_2024"], sensitivity_outputs()):
        scale = 1000.0 if output == "cost_per_centre" else 0.1
        for i, prm in enumerate(SENS_PARAMS):
            st = 0.6 / (i + 1)
            rows.append(
                {
                    "policy": policy,
                    "output": output,
                    "method": "sobol",
                    "parameter": prm,
                    "S1": 0.8 * st,
                    "S1_conf": 0.05,
                    "ST": st,
                    "ST_conf": 0.06,
                    "mu_star": nan,
                    "mu_star_conf": nan,
                    "sigma": nan,
                }
            )
            mu = scale / (i + 1)
            rows.append(
                {
                    "policy": policy,
                    "output": output,
                    "method": "morris",
                    "parameter": prm,
                    "S1": nan,
                    "S1_conf": nan,
                    "ST": nan,
                    "ST_conf": nan,
                    "mu_star": mu,
                    "mu_star_conf": 0.1 * mu,
                    "sigma": mu * (0.3 + 0.4 * i),
                }
            )
    pd.DataFrame(rows).to_csv(out / "sensitivity.csv", index=False)
    _BUILT["sensitivity"] = out
    return out


def build_analytic(base: Path) -> Path:
    """A synthetic analytic (Ishigami-like) sensitivity folder: the summary holds only point,
    policy and outputs; the parameters are in points.csv."""
    if "analytic" in _BUILT:
        return _BUILT["analytic"]
    run = build_run(base)
    out = base / "analytic"
    out.mkdir()
    params = ["x1", "x2", "x3"]
    manifest = json.loads((run / "manifest.json").read_text())
    spec = {"design": "sobol", "parameters": {k: {"range": [-3.14, 3.14]} for k in params}}
    manifest.update(kind="sensitivity", model="ishigami", sweep=spec)
    manifest["config"] = {**manifest["config"], "sweep": spec}
    (out / "manifest.json").write_text(json.dumps(manifest))
    rng = np.random.default_rng(3)
    points = pd.DataFrame(rng.uniform(-3.14, 3.14, (40, 3)), columns=params)
    points["method"] = "sobol"
    points.index.name = "point"
    points.to_csv(out / "points.csv")
    y = np.sin(points["x1"]) + 7 * np.sin(points["x2"]) ** 2
    summary = pd.DataFrame({"point": points.index, "policy": "ishigami", "p_decline": y / 20})
    summary.to_csv(out / "summary.csv", index=False)
    rows = [
        {"policy": "ishigami", "output": "p_decline", "method": "sobol", "parameter": k,
         "S1": s1, "S1_conf": 0.02, "ST": st, "ST_conf": 0.03, "mu_star": float("nan"),
         "mu_star_conf": float("nan"), "sigma": float("nan")}
        for k, s1, st in zip(params, [0.31, 0.44, 0.0], [0.56, 0.44, 0.24], strict=True)
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(out / "sensitivity.csv", index=False)
    _BUILT["analytic"] = out
    return out


def assert_image_not_blank(path: Path) -> None:
    """The file exists, is non-empty and its pixels vary (not one flat colour)."""
    assert path.is_file() and path.stat().st_size > 0, path
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    rgb = pixels[..., :3].astype(float)
    assert rgb.var() > 1e-4, f"{path} is blank"
    assert (rgb.mean(axis=2) < 0.9).mean() > 0.005, f"{path} has almost nothing drawn"


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def res(run_folder: Path) -> Results:
    return Results.load(run_folder)


@pytest.fixture(scope="session")
def sweep1(tmp_path_factory: pytest.TempPathFactory) -> Results:
    levers = {"policies.reform_2024.matching.cap": [100.0, 200.0, 300.0, 400.0, 500.0]}
    return Results.load(build_sweep(tmp_path_factory.getbasetemp(), "one", "grid", levers))


@pytest.fixture(scope="session")
def sweep2(tmp_path_factory: pytest.TempPathFactory) -> Results:
    levers = {
        "policies.reform_2024.matching.cap": [100.0, 300.0, 500.0],
        "parameters.host.absorption_share": [0.2, 0.4, 0.6, 0.8],
    }
    return Results.load(build_sweep(tmp_path_factory.getbasetemp(), "two", "grid", levers))


@pytest.fixture(scope="session")
def sweep_lhs(tmp_path_factory: pytest.TempPathFactory) -> Results:
    levers = {
        "policies.reform_2024.matching.cap": [100.0, 500.0],
        "parameters.host.absorption_share": [0.2, 0.8],
        "parameters.researchers.insecurity_sensitivity": [1.0, 5.0],
    }
    return Results.load(build_sweep(tmp_path_factory.getbasetemp(), "lhs", "lhs", levers))


@pytest.fixture(scope="session")
def sens(tmp_path_factory: pytest.TempPathFactory) -> Results:
    return Results.load(build_sensitivity(tmp_path_factory.getbasetemp()))


@pytest.fixture(autouse=True)
def _close_figures():
    with style():
        yield
    plt.close("all")


def legend_texts(fig_or_ax) -> list[str]:
    legends = fig_or_ax.legends if hasattr(fig_or_ax, "legends") else []
    if not hasattr(fig_or_ax, "legends") or not legends:
        leg = fig_or_ax.get_legend() if hasattr(fig_or_ax, "get_legend") else None
        legends = [leg] if leg is not None else []
    return [t.get_text() for leg in legends for t in leg.get_texts()]


def visible_axes(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


# -- the run's own figures and plot_results -----------------------------------------------------
def test_run_draws_its_figures_pdf_and_png(run_folder: Path) -> None:
    """The driver's end-of-run figures: every run figure as PDF (fonts and provenance embedded)
    and 300-dpi PNG, listed in the manifest."""
    manifest = json.loads((run_folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert {Path(f).stem for f in manifest["figures"]} == RUN_FIGURES
    assert {Path(f).suffix for f in manifest["figures"]} == {".pdf", ".png"}
    for name in RUN_FIGURES:
        assert_image_not_blank(run_folder / "figures" / f"{name}.png")
        pdf = (run_folder / "figures" / f"{name}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF")
        assert b"/FontFile2" in pdf, "TrueType fonts embedded (pdf.fonttype 42)"
        assert b"/Subtype /Type3" not in pdf
        assert b"seed 20231128" in pdf and b"wpi-abm" in pdf, "provenance in the PDF metadata"
    # 300 dpi: a double-column figure is about 7 in wide
    width = mpimg.imread(run_folder / "figures" / "p_decline.png").shape[1]
    assert 0.8 * 7 * PNG_DPI < width < 1.25 * 7 * PNG_DPI


def test_plot_results_without_a_panel_draws_the_rest_and_says_why(
    run_folder: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "nopanel"
    shutil.copytree(run_folder, folder, ignore=shutil.ignore_patterns("runs", "figures"))
    made, skipped = plot_results(folder, strict=True)
    assert made == [
        "p_decline.pdf",
        "p_decline.png",
        "p_decline_curve.pdf",
        "p_decline_curve.png",
        "cost_effectiveness.pdf",
        "cost_effectiveness.png",
    ]
    why = dict(skipped)
    assert set(why) == set(NAMES) - {"p_decline", "p_decline_curve", "cost_effectiveness"}
    for name in ("after_support", "survival", "value_index", "researchers", "income"):
        assert "no centre × year panel" in why[name]
    assert "not a sweep" in why["sweep_response"]
    assert "sensitivity.csv" in why["sensitivity_sobol"]
    assert "wpi-abm decompose" in why["decomposition"]
    assert_image_not_blank(folder / "figures" / "p_decline.png")


def test_plot_results_reports_a_broken_figure_instead_of_failing(
    run_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(run_folder, folder, ignore=shutil.ignore_patterns("runs", "figures"))

    def broken(res: Results) -> None:
        raise ValueError("boom")

    from wpi_abm.plots import catalogue

    spec = next(s for s in catalogue.CATALOGUE if s.name == "cost_effectiveness")
    monkeypatch.setattr(
        catalogue,
        "CATALOGUE",
        (catalogue.CATALOGUE[0], type(spec)(spec.name, broken, spec.title, spec.caption)),
    )
    made, skipped = plot_results(folder)
    assert made == ["p_decline.pdf", "p_decline.png"]
    assert skipped == [("cost_effectiveness", "failed: ValueError: boom")]
    with pytest.raises(ValueError, match="boom"):
        plot_results(folder, strict=True)


def test_results_folder_without_summary_is_an_error(tmp_path: Path) -> None:
    from wpi_abm.errors import ResultsError

    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(ResultsError, match=r"summary\.csv"):
        plot_results(tmp_path)


# -- one test per figure ------------------------------------------------------------------------
def test_forest(res: Results) -> None:
    fig = forest.forest(res)
    ax, ax2 = fig.axes
    assert "P(decline)" in ax.get_xlabel() and "%" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_yticklabels()] == [res.label(p) for p in POLICIES]
    # one estimate per policy, and the end-of-support one where support ends
    assert len(ax.containers) == 4 + 3
    assert len(ax2.containers) == 3  # every policy but the baseline
    assert "baseline" in [t.get_text() for t in ax2.texts]
    assert "percentage points" in ax2.get_xlabel()
    assert len(legend_texts(ax)) == 2


def test_forest_clips_intervals_a_hair_inside_the_estimate(res: Results) -> None:
    s = res.summary.copy()
    s.loc[0, "ci_low"] = s.loc[0, "p_decline"] + 1e-17
    other = Results(res.root, res.manifest, res.exp, s)
    forest.forest(other)


def test_after_support(res: Results) -> None:
    fig = after_support.after_support(res)
    axes = fig.axes
    assert len(axes) == 2
    for ax in axes:
        assert "% of last supported year" in ax.get_xlabel()
        assert len(ax.containers) == 3 * 2  # 1st and 2nd year for the three policies that end
        assert any("outlasts" in t.get_text() for t in ax.texts)  # flat_forever
    assert len(legend_texts(fig)) == 4


def test_after_support_matches_the_panel(res: Results, run_folder: Path) -> None:
    """Median personnel cost in the 1st year after support, recomputed the slow way."""
    panel = (
        ds.dataset(run_folder / "runs")
        .to_table(columns=["run_id", "centre", "policy", "year", "personnel_cost"])
        .to_pandas()
    )
    out = (
        ds.dataset(run_folder / "outcomes")
        .to_table(columns=["run_id", "centre", "policy", "end_year"])
        .to_pandas()
    )
    for df in (panel, out):
        df["policy"] = df["policy"].astype(str)
        df["centre"] = df["centre"].astype(str)
    legacy = panel[panel["policy"] == "legacy"].merge(
        out[out["policy"] == "legacy"], on=["run_id", "centre", "policy"]
    )
    last = legacy[legacy["year"] == legacy["end_year"]].set_index(["run_id", "centre"])
    after = legacy[legacy["year"] == legacy["end_year"] + 1].set_index(["run_id", "centre"])
    ratio = 100 * after["personnel_cost"] / last["personnel_cost"]
    got = res.panel("legacy").after["personnel_cost"][1, 0]
    assert got == pytest.approx(float(np.median(ratio)), rel=1e-9)
    assert res.panel("legacy").after_n == REPLICATES * CENTRES
    assert res.panel("flat_forever").after_n == 0


@pytest.mark.parametrize(
    ("draw", "label", "bands_per_panel", "medians_per_panel"),
    [
        (fans.fan_value_index, "Value index", 2, 1),
        (fans.fan_researchers, "Researchers", 4, 2),
        (fans.fan_personnel_cost, "M yen", 2, 1),
        (fans.fan_papers, "Papers", 2, 1),
    ],
)
def test_fans(res: Results, draw, label: str, bands_per_panel: int, medians_per_panel: int):
    fig = draw(res)
    axes = visible_axes(fig)
    assert len(axes) == len(POLICIES)
    assert label in fig.get_supylabel() and fig.get_supxlabel() == "Support year"
    assert [ax.get_title(loc="left") for ax in axes] == [res.label(p) for p in POLICIES]
    for ax, p in zip(axes, POLICIES, strict=True):
        assert len(ax.collections) == bands_per_panel
        data_lines = [ln for ln in ax.lines if len(ln.get_xdata()) == res.exp.horizon]
        assert len(data_lines) == medians_per_panel
        # the reference year, and the design's end of support where it differs
        marks = [ln for ln in ax.lines if len(ln.get_xdata()) == 2]
        assert len(marks) == (2 if p in ("reform_2024", "taper") else 1)
    texts = legend_texts(fig)
    assert "year 10 (reference)" in texts and "end of support (design)" in texts


def test_income(res: Results) -> None:
    fig = income.income(res)
    axes = visible_axes(fig)
    assert len(axes) == len(POLICIES)
    assert "M yen" in fig.get_supylabel()
    for ax in axes:
        assert len(ax.collections) == len(income.STACK)
    assert set(legend_texts(fig)) == {
        "Programme subsidy",
        "Matching support",
        "Host institution",
        "Competitive grants",
        "Company partnership",
        "Endowment payout",
    }
    # programme money stops: legacy's top layer (subsidy) is empty after year 10
    pp = res.panel("legacy")
    assert pp.income["income_subsidy"][9] > 0 and pp.income["income_subsidy"][12] == 0


def _drawn_pixels(fig: Figure) -> np.ndarray:
    """The figure as Agg draws it (a copy: the figure is closed after)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


@pytest.mark.parametrize(
    ("draw", "module"),
    [
        (fans.fan_value_index, fans),
        (fans.fan_researchers, fans),
        (fans.fan_personnel_cost, fans),
        (income.income, income),
    ],
)
def test_autoscaling_once_draws_the_same_figure(
    res: Results, monkeypatch: pytest.MonkeyPatch, draw, module
) -> None:
    """The panels' limits autoscaled once after all their fills (``fans.autoscale_once``) are
    those autoscaling after every fill gives: the same limits, the same pixels; and they are
    autoscaled once (the y limits set once), not once per fill."""
    from matplotlib.axes import Axes

    bounds = {"set": 0}
    set_ybound = Axes.set_ybound

    def counted(ax: Axes, *args: object, **kwargs: object) -> object:
        bounds["set"] += 1
        return set_ybound(ax, *args, **kwargs)

    monkeypatch.setattr(Axes, "set_ybound", counted)
    once = draw(res)
    set_once, bounds["set"] = bounds["set"], 0
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in once.axes]
    flags = [(ax.get_autoscalex_on(), ax.get_autoscaley_on()) for ax in once.axes]
    monkeypatch.setattr(module, "autoscale_once", lambda axes: contextlib.nullcontext())
    every = draw(res)
    assert set_once == 1 and bounds["set"] >= 2 * len(POLICIES)
    assert [(ax.get_xlim(), ax.get_ylim()) for ax in every.axes] == limits
    assert [(ax.get_autoscalex_on(), ax.get_autoscaley_on()) for ax in every.axes] == flags
    np.testing.assert_array_equal(_drawn_pixels(once), _drawn_pixels(every))


def test_autoscale_once_holds_autoscaling_off_and_gives_back_each_axes_own() -> None:
    def panels(defer: bool) -> tuple[Figure, list[tuple[tuple[float, float], ...]]]:
        fig = Figure()
        free, fixed = fig.subplots(1, 2, sharey=True)
        fixed.set_xlim(0, 1)  # x autoscaling off for this panel only
        with fans.autoscale_once(fig.axes) if defer else contextlib.nullcontext():
            if defer:
                assert not any(ax.get_autoscalex_on() or ax.get_autoscaley_on() for ax in fig.axes)
            free.fill_between([0, 10], [0, 0], [5, 7])
            if defer:
                assert free.get_ylim() == (0, 1)  # not autoscaled yet
            free.fill_between([2, 4], [-3, -3], [1, 1])
            free.axvline(3)  # reads the limits, requests no y autoscaling: leaving the block must
        return fig, [(ax.get_xlim(), ax.get_ylim()) for ax in fig.axes]

    fig, limits = panels(defer=True)
    assert [(ax.get_autoscalex_on(), ax.get_autoscaley_on()) for ax in fig.axes] == [
        (True, True),
        (False, True),
    ]
    assert limits == panels(defer=False)[1]
    assert limits[1][0] == (0, 1) and limits[0][1] == limits[1][1]
    assert limits[0][1][0] < -3 and limits[0][1][1] > 7  # both fills, with margins


def test_survival(res: Results) -> None:
    """One panel per policy (nine curves on one axis piled up near 0): the baseline in grey in
    every other panel, the share left at the horizon written out, the test's years named."""
    fig = survival.survival(res)
    axes = visible_axes(fig)
    assert [ax.get_title(loc="left") for ax in axes] == [res.label(p) for p in POLICIES]
    assert "%" in fig.get_supylabel() and fig.get_supxlabel() == "Years after year 10"
    texts = legend_texts(fig)
    assert "years of the decline test (11–12)" in texts
    assert f"{res.label('legacy')} (baseline)" in texts and "end of support (design)" in texts
    for ax, p in zip(axes, POLICIES, strict=True):
        s = res.panel(p).survival
        assert s[0] == 1.0 and np.all(np.diff(s) <= 0)
        steps = [ln for ln in ax.lines if len(ln.get_xdata()) == len(s)]
        assert len(steps) == (1 if p == "legacy" else 2)  # the policy, and the baseline
        assert [t.get_text() for t in ax.texts] == [f"{100 * s[-1]:.0f}%"]
        assert len(ax.patches) == 1  # the shaded test years
    assert res.panel("flat_forever").survival[2] > res.panel("legacy").survival[2]


def test_survival_matches_the_panel(res: Results, run_folder: Path) -> None:
    panel = (
        ds.dataset(run_folder / "runs")
        .to_table(columns=["run_id", "centre", "policy", "year", "value_index"])
        .to_pandas()
    )
    panel = panel[panel["policy"].astype(str) == "taper"]
    wide = panel.pivot_table(
        index=["run_id", "centre"], columns="year", values="value_index", observed=True
    )
    rel = wide.div(wide[10], axis=0)
    never_below = (rel[[11, 12]] >= 0.9).all(axis=1).mean()
    assert res.panel("taper").survival[2] == pytest.approx(never_below)


def test_cost_effectiveness(res: Results) -> None:
    fig = cost.cost_effectiveness(res)
    left, right = fig.axes
    assert "M yen" in left.get_xlabel() and "P(decline)" in left.get_ylabel()
    assert "after end of support" in right.get_ylabel()
    assert len(left.containers) == len(right.containers) == len(POLICIES)
    assert legend_texts(right) == [res.label(p) for p in POLICIES] + ["Pareto frontier"]
    # The frontier is taken on value-years lost after each centre's own end of support; a
    # design whose support outlasts the horizon has no such value and is not on it.
    s = res.summary
    front = cost.frontier_policies(s)
    assert ("flat_forever", None) not in front
    rows = s.set_index("policy").loc[[p for p, _ in front]]
    assert rows["cost_per_centre"].is_monotonic_increasing
    assert rows["value_lost_end"].is_monotonic_decreasing


def test_a_design_that_only_moves_the_cliff_is_not_a_winner() -> None:
    """flat_15 pays five more years: P(decline) at 11-12 near zero, but no lower cliff after."""
    summary = pd.DataFrame(
        {
            "policy": ["legacy", "taper", "flat_15"],
            "cost_per_centre": [6700.0, 6700.0, 10100.0],
            "p_decline": [0.97, 0.73, 0.005],
            "p_decline_end": [0.97, 0.41, 0.97],
            "value_lost_end": [3.9, 3.0, 4.4],
        }
    )
    assert cost.frontier_outcome(summary).name == "value_lost_end"
    assert cost.frontier_policies(summary) == [("taper", None)]
    # Older summaries without value-years lost fall back on P(decline) at the end of support.
    older = summary.drop(columns="value_lost_end")
    assert cost.frontier_outcome(older).name == "p_decline_end"
    assert cost.frontier_policies(older) == [("taper", None)]
    with pytest.raises(Skip, match="no value_lost_end or p_decline_end"):
        cost.frontier_outcome(older.drop(columns="p_decline_end"))


def test_decline_curve(res: Results) -> None:
    fig = decline_curve.decline_curve(res)
    (ax,) = fig.axes
    assert "θ" in ax.get_xlabel() and "P(decline)" in ax.get_ylabel()
    curves = [ln for ln in ax.lines if len(ln.get_xdata()) == 5]
    assert len(curves) == len(POLICIES) and len(ax.collections) == len(POLICIES)  # line + band
    assert list(curves[0].get_xdata()) == [5.0, 10.0, 20.0, 30.0, 50.0]
    row = res.summary.set_index("policy").loc[POLICIES[0]]
    expected = [100 * row[f"p_decline_{k}"] for k in ("05", "10", "20", "30", "50")]
    assert list(curves[0].get_ydata()) == pytest.approx(expected)
    # The curve falls as θ grows, and passes through P(decline) at the test's θ.
    assert expected == sorted(expected, reverse=True)
    assert expected[1] == pytest.approx(100 * row["p_decline"])
    assert legend_texts(ax) == [res.label(p) for p in POLICIES]


def test_pareto_front() -> None:
    cost_ = np.array([5.0, 6.0, 7.0, 8.0, 6.5, np.nan])
    p = np.array([0.9, 0.95, 0.5, 0.1, 0.5, 0.0])
    # 6.0 is dominated by 5.0; 7.0 by 6.5 (same P, cheaper); nan is ignored
    assert list(cost.pareto_front(cost_, p)) == [0, 4, 3]


def test_forest_and_panel_figures_skip_sweeps(sweep1: Results) -> None:
    with pytest.raises(Skip, match="parameter points"):
        forest.forest(sweep1)
    with pytest.raises(Skip, match="parameter points"):
        decline_curve.decline_curve(sweep1)
    with pytest.raises(Skip, match="panel"):
        fans.fan_value_index(sweep1)


def test_sweep_one_lever(sweep1: Results) -> None:
    fig = sweep.sweep_response(sweep1)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "reform_2024: matching.cap"
    assert "P(decline)" in ax.get_ylabel()
    assert len(ax.lines) == len(POLICIES) and len(ax.collections) == len(POLICIES)  # line + band
    assert all(len(ln.get_xdata()) == 5 for ln in ax.lines)
    assert legend_texts(ax) == [*(sweep1.label(p) for p in POLICIES), "95% interval"]
    with pytest.raises(Skip, match="exactly two"):
        sweep.sweep_heatmap(sweep1)


def test_sweep_two_levers_heatmap(sweep2: Results) -> None:
    fig = sweep.sweep_heatmap(sweep2)
    panels = [ax for ax in visible_axes(fig) if ax.images]
    assert len(panels) == len(POLICIES)
    summary = sweep2.summary
    for ax, p in zip(panels, POLICIES, strict=True):
        assert ax.images[0].get_array().shape == (4, 3)
        assert len(ax.texts) == 12  # every cell labelled, with its interval (12 ≤ 36 cells)
        first = summary[summary["policy"] == p].iloc[0]
        low, high = 100 * first["ci_low"], 100 * first["ci_high"]
        assert ax.texts[0].get_text().endswith(f"\n{low:.0f}–{high:.0f}")
    assert any("P(decline)" in ax.get_ylabel() for ax in fig.axes)  # the colour bar


def test_sweep_two_levers_response_has_each_points_interval(sweep2: Results) -> None:
    fig = sweep.sweep_response(sweep2)
    axes = visible_axes(fig)
    assert [ax.get_xlabel() for ax in axes] == [
        "reform_2024: matching.cap",
        "host.absorption_share",
    ]
    summary = sweep2.summary
    for ax in axes:
        bars = [c for c in ax.containers if c.has_yerr]
        assert len(bars) == len(POLICIES)
        for p, bar in zip(POLICIES, bars, strict=True):
            rows = summary[summary["policy"] == p]
            segments = bar.lines[2][0].get_segments()
            assert len(segments) == len(rows) == 12
            tops = sorted(round(seg[1][1], 6) for seg in segments)
            assert tops == sorted(round(100 * v, 6) for v in rows["ci_high"])
            # Points that share a lever value are set side by side, not on top of each other.
            xs = [seg[0][0] for seg in segments]
            assert len(set(xs)) == len(xs)
    assert "95% interval" in legend_texts(fig)


def test_sweep_lhs(sweep_lhs: Results) -> None:
    fig = sweep.sweep_response(sweep_lhs)
    axes = visible_axes(fig)
    assert len(axes) == 3
    for ax in axes:
        assert len(ax.lines) == len(POLICIES)
        assert all(len(ln.get_xdata()) == 12 for ln in ax.lines)
        assert len([c for c in ax.containers if c.has_yerr]) == len(POLICIES)
    assert legend_texts(fig) == [*(sweep_lhs.label(p) for p in POLICIES), "95% interval"]
    with pytest.raises(Skip, match="exactly two"):
        sweep.sweep_heatmap(sweep_lhs)
    fig = cost.cost_effectiveness(sweep_lhs)
    points = [ln for ln in fig.axes[0].lines if ln.get_linestyle() == "None"]
    assert [len(ln.get_xdata()) for ln in points][: len(POLICIES)] == [12] * len(POLICIES)


def test_sweep_not_a_full_grid(sweep_lhs: Results) -> None:
    two = sweep_lhs.summary.drop(columns=["parameters.researchers.insecurity_sensitivity"])
    spec = dict(sweep_lhs.manifest["sweep"])
    spec["parameters"] = {k: v for k, v in spec["parameters"].items() if "insecurity" not in k}
    manifest = {**sweep_lhs.manifest, "sweep": spec}
    folder = Results(sweep_lhs.root, manifest, sweep_lhs.exp, two)
    with pytest.raises(Skip, match="full"):
        sweep.sweep_heatmap(folder)


def test_sensitivity_sobol(sens: Results) -> None:
    fig = sensitivity.sensitivity_sobol(sens)
    assert len(fig.axes) == 2 * 3  # policies × outputs
    assert [ax.get_title() for ax in fig.axes[:3]] == [
        "P(decline)",
        "Mean depth",
        "Cost per centre",
    ]
    for ax in fig.axes:
        bars = [c for c in ax.containers if hasattr(c, "patches")]
        assert [len(b.patches) for b in bars] == [len(SENS_PARAMS)] * 2  # ST and S1
    for ax in fig.axes[::3]:  # labels on each row's first panel, shared along the row
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels[-1] == "host.absorption_share"  # ranked by ST, largest on top
    assert "Sobol index" in fig.get_supxlabel()
    assert legend_texts(fig) == ["S1 (first order)", "ST (total)"]
    assert [sf.get_suptitle() for sf in fig.subfigs] == [
        sens.label("legacy"),
        sens.label("reform_2024"),
    ]


def test_sensitivity_morris(sens: Results) -> None:
    fig = sensitivity.sensitivity_morris(sens)
    assert len(fig.axes) == 2 * 3
    for ax in fig.axes:
        bars = [c for c in ax.containers if hasattr(c, "patches")]
        assert [len(b.patches) for b in bars] == [len(SENS_PARAMS)]  # mu*
        assert len(ax.lines[-1].get_xdata()) == len(SENS_PARAMS)  # sigma
    for ax in fig.axes[::3]:
        assert [t.get_text() for t in ax.get_yticklabels()][-1] == "host.absorption_share"
    assert "share" in fig.axes[3].get_xlabel() and "M yen" in fig.axes[5].get_xlabel()
    assert len(legend_texts(fig)) == 2


def test_sweep_and_sensitivity_folders_through_plot_results(
    sweep2: Results, sens: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("wpi_abm.plots.raster.PNG_DPI", 100)  # resolution is tested elsewhere
    made, skipped = plot_results(sweep2.root, strict=True)
    assert {Path(f).stem for f in made} == {"cost_effectiveness", "sweep_response", "sweep_heatmap"}
    assert "panel" in dict(skipped)["value_index"]
    assert_image_not_blank(sweep2.root / "figures" / "sweep_heatmap.png")
    made, _ = plot_results(sens.root, strict=True)
    assert {"sensitivity_sobol", "sensitivity_morris", "sweep_response"} <= {
        Path(f).stem for f in made
    }
    assert_image_not_blank(sens.root / "figures" / "sensitivity_morris.png")


def test_analytic_study_with_parameters_only_in_points_csv(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("wpi_abm.plots.raster.PNG_DPI", 100)
    folder = build_analytic(tmp_path_factory.getbasetemp())
    res = Results.load(folder)
    assert res.parameters == ["x1", "x2", "x3"] and res.policies == ["ishigami"]
    assert list(res.summary.columns[:5]) == ["point", "x1", "x2", "x3", "method"]
    made, skipped = plot_results(folder, strict=True)
    assert {Path(f).stem for f in made} == {"sweep_response", "sensitivity_sobol"}
    why = dict(skipped)
    assert why["cost_effectiveness"] == "summary.csv has no cost_per_centre"
    assert "Morris" in why["sensitivity_morris"] or "morris" in why["sensitivity_morris"]


# -- style --------------------------------------------------------------------------------------
def test_every_builtin_policy_has_its_own_look() -> None:
    builtins = policy_names()
    assert set(builtins) <= set(policy_looks()), "list new designs in configs/policies/_index.yaml"
    looks = [policy_style(p) for p in builtins]
    for key in ("color", "marker"):
        assert len({str(s[key]) for s in looks}) == len(builtins)
    assert "#F0E442" not in {s["color"] for s in looks}, "yellow is weak on white"
    mine = [f"mine_{i}" for i in range(6)]
    extras = [policy_style(p, [*builtins, *mine]) for p in mine]
    assert len({s["color"] for s in extras}) == 6
    assert all(luminance(str(s["color"])) < 0.6 for s in extras[:5])
    assert extras[5]["color"] == "#F0E442" and extras[5]["markeredgecolor"] != "#F0E442"
    assert luminance("#000000") == 0 and luminance("#FFFFFF") == pytest.approx(1)


def test_parameter_label() -> None:
    assert parameter_label("parameters.host.absorption_share") == "host.absorption_share"
    assert parameter_label("policies.reform_2024.matching.cap") == "reform_2024: matching.cap"
    assert parameter_label("cohort.centres[0].reputation") == "cohort.centres[0].reputation"


def test_captions_fill_in_the_decline_definition(res: Results) -> None:
    for spec in CATALOGUE:
        text = caption(spec, res)
        assert "{" not in text and text.endswith(".")
    assert "years 11–12" in caption(CATALOGUE[0], res)


def test_japanese_labels_render_with_the_bundled_font(run_folder: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib_fontja", reason="Japanese labels need matplotlib-fontja")
    from wpi_abm.plots.style import save

    res = Results.load(run_folder, lang="ja")
    with style("ja"):
        fig = forest.forest(res)
        assert "価値低下" in fig.axes[0].get_xlabel()
        save(fig, tmp_path, "forest", res.provenance())
        fig = income.income(res)
        assert "収入" in fig.get_supylabel() and "補助金" in legend_texts(fig)
        save(fig, tmp_path, "income", res.provenance())
    pdf = (tmp_path / "forest.pdf").read_bytes()
    assert b"IPAexGothic" in pdf, "the Japanese font is embedded"
    assert_image_not_blank(tmp_path / "income.png")


def test_unknown_language_is_refused(run_folder: Path) -> None:
    from wpi_abm.errors import ConfigError

    with pytest.raises(ConfigError, match="allowed: en, ja"):
        Results.load(run_folder, lang="fr")


def test_japanese_without_the_font_package_says_what_to_install(
    res: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wpi_abm.errors import WpiError
    from wpi_abm.plots import style as style_module

    monkeypatch.setattr(style_module, "JA_FONT_MODULE", "no_such_font_package")
    with pytest.raises(WpiError, match="pip install matplotlib-fontja"):
        style_module.japanese_font_path()


def test_figures_drawn_in_parallel_equal_those_drawn_in_one_process(
    run_folder: Path, tmp_path: Path
) -> None:
    """Same files (PNG bytes identical), same skips, progress in catalogue order — whether the
    pool reads the panel or this process has (as while the figure server warms, ``here``)."""
    reports: dict[str, list[tuple[int, str]]] = {"1": [], "2": [], "here": []}
    out = {}
    for way in reports:
        res = Results.load(run_folder)
        if way == "here":
            for p in res.policies:
                res.panel(p)
        out[way] = draw_files(
            res,
            tmp_path / way,
            workers=1 if way == "1" else 2,
            progress=lambda i, n, name, s, w=way: reports[w].append((i, name)),
        )
    assert out["2"] == out["here"] == out["1"] and len(out["1"][0]) >= 16
    assert reports["2"] == reports["here"] == reports["1"] == sorted(reports["1"])
    for name in out["1"][0]:
        if name.endswith(".png"):
            one = (tmp_path / "1" / name).read_bytes()
            assert (
                (tmp_path / "2" / name).read_bytes()
                == (tmp_path / "here" / name).read_bytes()
                == one
            )


class _MapOnly:
    """A pool that only records what it is asked to map, and answers with markers."""

    def __init__(self) -> None:
        self.mapped: list[list[str]] = []

    def map(self, fn: object, ress: object, policies: object) -> object:
        self.mapped.append(list(policies))  # type: ignore[call-overload]
        return iter(f"pool:{p}" for p in self.mapped[-1])


@pytest.mark.parametrize("up", [False, True])
def test_the_panel_is_read_here_until_the_pool_has_a_worker_then_by_the_pool(
    up: bool, run_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each policy read once: here while no worker is up, the rest by the pool; kept ones not."""
    import threading

    from wpi_abm.plots import summary
    from wpi_abm.plots.panel import PolicyPanel

    event = threading.Event()
    if up:
        event.set()
    monkeypatch.setattr(summary, "_worker_up", lambda pool: event)
    res = Results.load(run_folder)
    first, *rest = res.policies
    res.keep_panel(first, "kept")  # type: ignore[arg-type]
    pool = _MapOnly()
    summary._read_panels(res, pool)  # type: ignore[arg-type]
    assert pool.mapped == [rest if up else []]
    assert res.panel(first) == "kept"
    for p in rest:
        got = res.panel(p)
        assert got == f"pool:{p}" if up else isinstance(got, PolicyPanel)


# -- saving: one layout for both files ----------------------------------------------------------
def _grid_figure(layout: str | None) -> Figure:
    """A small-multiples figure like the fans (shared axes, titles, a figure legend)."""
    fig, axes = plt.subplots(2, 3, figsize=(7, 3.5), sharex=True, sharey=True, layout=layout)
    x = np.arange(1, 26)
    for k, ax in enumerate(axes.ravel()):
        ax.fill_between(x, 0.5 * x, 1.5 * x + 40 * k, alpha=0.3, linewidth=0)
        ax.plot(x, x + 20 * k, label="median" if k == 0 else None)
        ax.set_title(f"Policy {k} with a long name", loc="left", fontsize=7.5)
        ax.grid(linewidth=0.3)
    fig.supylabel("Personnel cost (M yen per year)")
    fig.supxlabel("Support year")
    # One panel's own axis label: placed clear of its tick labels, unlike the empty ones.
    axes[1, 0].set_ylabel("Lower row")
    top_legend(fig, fig.axes[0].get_lines())
    if layout is None:
        fig.tight_layout()
    return fig


def _media_box(pdf: Path) -> list[float]:
    box = re.search(rb"/MediaBox \[([^\]]*)\]", pdf.read_bytes()).group(1)
    return [float(v) for v in box.split()]


def _assert_shows_what_matplotlib_draws(png: np.ndarray, drawn: np.ndarray) -> None:
    """``png`` (PDFium's rendering of the PDF) shows the figure matplotlib's Agg draws in the
    same box: the same size within a pixel, and the darkness of its 12-px blocks, over the
    whole image, correlates at 0.98 or more (anti-aliasing and text weight differ; on the figures
    here 0.988-0.992, and 0.91-0.95 with the image moved 12 px, ~0.58 with half of it blank)."""
    assert png.shape[-1] == 3 and abs(png.shape[0] - drawn.shape[0]) <= 1
    assert abs(png.shape[1] - drawn.shape[1]) <= 1

    def blocks(image: np.ndarray, k: int = 12) -> np.ndarray:
        dark = 1 - image[..., :3].mean(axis=2)
        h, w = (
            (min(png.shape[0], drawn.shape[0]) // k) * k,
            (min(png.shape[1], drawn.shape[1]) // k) * k,
        )
        return dark[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3)).ravel()

    assert np.corrcoef(blocks(png), blocks(drawn))[0, 1] >= 0.98


@pytest.mark.parametrize("layout", [None, "constrained"])
def test_save_lays_out_once_and_the_png_is_the_pdf_page(layout: str | None, tmp_path: Path) -> None:
    """The PDF has the page ``savefig(bbox_inches="tight")`` gives it (the same, for a figure
    laid out when drawn; for one with a layout engine, laid out once, within a fraction of a
    point); the PNG is that page at 300 dpi, showing what matplotlib draws."""
    from matplotlib.backends.backend_pdf import FigureCanvasPdf

    fig = _grid_figure(layout)
    assert save(fig, tmp_path / "new", "fig", {"title": "t"}) == ["fig.pdf", "fig.png"]
    assert not plt.fignum_exists(fig.number)  # closed
    plain = _grid_figure(layout)
    (tmp_path / "old").mkdir()
    plain.savefig(tmp_path / "old" / "fig.pdf")
    got, want = (_media_box(tmp_path / d / "fig.pdf") for d in ("new", "old"))
    if layout is None:
        assert got == want
    else:
        assert got == pytest.approx(want, abs=1.0)
    png = mpimg.imread(tmp_path / "new" / "fig.png")
    np.testing.assert_allclose(png.shape[1::-1], np.array(got[2:]) * PNG_DPI / 72, atol=1.0)
    plain = _grid_figure(layout)
    fix_layout(plain)
    box = tight_box(plain, FigureCanvasPdf)
    plain.savefig(tmp_path / "old" / "fig.png", dpi=PNG_DPI, bbox_inches=box)
    drawn = mpimg.imread(tmp_path / "old" / "fig.png")
    _assert_shows_what_matplotlib_draws(png, drawn)
    with pytest.raises(AssertionError):  # the comparison discriminates: moved 12 px, it fails
        _assert_shows_what_matplotlib_draws(np.roll(png, 12, axis=1), drawn)


def _labelled_bars(layout: str | None) -> Figure:
    """Bars with long category labels at the left and a long title: text at both side edges."""
    fig, ax = plt.subplots(figsize=(3.5, 2), layout=layout)
    names = ["Legacy (700 M × 10, cliff)", "Reform 2024 (10 + 5 matching)", "WPI CORE (500 → 700)"]
    ax.barh(names, [0.3, 0.25, 0.4])
    ax.set_xlabel("P(decline)")
    ax.set_title("Probability of decline, measured at both edges", loc="left")
    if layout is None:
        fig.tight_layout()
    return fig


@pytest.mark.parametrize("layout", [None, "constrained"])
def test_png_has_the_pdf_box_with_all_its_ink(layout: str | None, tmp_path: Path) -> None:
    """Both files have the PDF backend's crop, which is wider than Agg's on this figure (the PDF
    backend measures its labels wider): the PNG has the PDF page's extent, a blank margin all
    round (no ink cut off), and its text reaches further out than Agg would draw it."""
    from matplotlib.backends.backend_pdf import FigureCanvasPdf

    measured = _labelled_bars(layout)
    fix_layout(measured)
    pdf_box, agg_box = tight_box(measured, FigureCanvasPdf), tight_box(measured, FigureCanvasAgg)
    assert pdf_box.x0 < agg_box.x0 - 1 / 72 and pdf_box.x1 > agg_box.x1 + 1 / 72  # discriminates
    assert save(_labelled_bars(layout), tmp_path, "fig", {"title": "t"}) == ["fig.pdf", "fig.png"]
    png = mpimg.imread(tmp_path / "fig.png")
    page = np.array(_media_box(tmp_path / "fig.pdf")[2:]) * PNG_DPI / 72
    np.testing.assert_allclose(png.shape[1::-1], page, atol=1.0)
    margin = round(0.5 * plt.rcParams["savefig.pad_inches"] * PNG_DPI)
    for edge in (png[:margin], png[-margin:], png[:, :margin], png[:, -margin:]):
        assert (edge == 1.0).all(), "the margin is blank: no ink cut off"
    plain = _labelled_bars(layout)
    fix_layout(plain)
    plain.savefig(tmp_path / "plain.png", dpi=PNG_DPI, bbox_inches=pdf_box)
    drawn = mpimg.imread(tmp_path / "plain.png")
    _assert_shows_what_matplotlib_draws(png, drawn)
    ink, agg_ink = (
        np.flatnonzero((img[..., :3].mean(axis=2) < 0.5).any(axis=0)) for img in (png, drawn)
    )
    assert ink[0] < agg_ink[0] - 2  # the labels at the left edge are the PDF's, wider


def test_png_from_pdf_writes_the_page_its_text_and_resolution(tmp_path: Path) -> None:
    """A 1 x 0.5 inch page, red on its left half: 300 x 150 RGB pixels, exactly those colours
    away from the edge between them; the text chunks and dpi given; the same bytes twice."""
    from PIL import Image

    from wpi_abm.plots.raster import png_from_pdf

    fig = Figure(figsize=(1, 0.5))
    fig.patches.append(
        plt.Rectangle((0, 0), 0.5, 1, transform=fig.transFigure, color="red", linewidth=0)
    )
    buffer = BytesIO()
    fig.savefig(buffer, format="pdf", bbox_inches=fig.bbox_inches)  # the whole page
    meta = {"Title": "t", "Software": "wpi-abm", "Description": "d"}
    for name in ("a.png", "b.png"):
        png_from_pdf(buffer.getvalue(), tmp_path / name, meta)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    with Image.open(tmp_path / "a.png") as image:
        assert image.mode == "RGB" and image.size == (300, 150)
        assert image.text == meta and image.info["dpi"] == pytest.approx((300, 300), rel=1e-5)
        pixels = np.asarray(image)
    assert (pixels[:, :148] == (255, 0, 0)).all() and (pixels[:, 152:] == 255).all()


def test_encode_png_is_the_pixels_text_and_resolution_pillow_reads(tmp_path: Path) -> None:
    """Any RGB pixels (here a non-contiguous view), Latin-1 and Japanese text, the chunks'
    checksums right (Pillow's verify), every row unfiltered; what PNG does not allow refused."""
    import zlib

    from PIL import Image

    from wpi_abm.plots.raster import encode_png

    rng = np.random.default_rng(7)
    padded = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    pixels = padded[:, :, :3]  # not contiguous
    text = {"Title": "財源別の収入", "Software": "wpi-abm", "Description": "n = 12,000; ¥ × 10"}
    data = encode_png(pixels, text, 300)
    assert data == encode_png(np.ascontiguousarray(pixels), text, 300)
    (tmp_path / "x.png").write_bytes(data)
    with Image.open(tmp_path / "x.png") as image:
        image.verify()
    with Image.open(tmp_path / "x.png") as image:
        assert image.mode == "RGB" and image.size == (53, 37)
        assert image.text == text and image.info["dpi"] == pytest.approx((300, 300), rel=1e-5)
        np.testing.assert_array_equal(np.asarray(image), pixels)
    idat = data.index(b"IDAT")
    (length,) = np.frombuffer(data[idat - 4 : idat], dtype=">u4")
    rows = np.frombuffer(zlib.decompress(data[idat + 4 : idat + 4 + int(length)]), np.uint8)
    assert (rows.reshape(37, 1 + 3 * 53)[:, 0] == 0).all()
    with pytest.raises(ValueError, match="uint8"):
        encode_png(pixels.astype(float), {}, 300)
    for key in (" Title", "Ti  tle", "Ti\ntle", "", "k" * 80, "題名"):
        with pytest.raises(ValueError, match="keyword"):
            encode_png(pixels, {key: "x"}, 300)
    with pytest.raises(ValueError, match="NUL"):
        encode_png(pixels, {"Title": "a\0b"}, 300)
    with pytest.raises(ValueError, match="rows and columns"):
        encode_png(pixels[:0], {}, 300)


def test_fixed_ticks_are_the_ticks_the_figure_had(tmp_path: Path) -> None:
    fig = _grid_figure("constrained")
    ax = fig.axes[0]
    ax.set_ylim(0, 25000)
    thousands_axis(ax, "y")
    fig.axes[1].set_xscale("linear")
    fig.get_layout_engine().execute(fig)
    before = [
        ([t.get_text() for t in a.get_xticklabels()], [t.get_text() for t in a.get_yticklabels()])
        for a in fig.axes
    ]
    locs = [(tuple(a.get_xticks()), tuple(a.get_yticks())) for a in fig.axes]
    fix_ticks(fig)
    assert isinstance(ax.yaxis.get_major_locator(), FixedLocator)
    fig.canvas.draw()
    after = [
        ([t.get_text() for t in a.get_xticklabels()], [t.get_text() for t in a.get_yticklabels()])
        for a in fig.axes
    ]
    assert after == before and "25,000" in after[0][1]
    assert [(tuple(a.get_xticks()), tuple(a.get_yticks())) for a in fig.axes] == locs
    # Frozen, each fixed axis answers what matplotlib's own method answers, without asking it.
    freeze_ticks(fig)
    for a in fig.axes:
        for axis in (a.xaxis, a.yaxis):
            assert "_update_ticks" in vars(axis)
            assert axis._update_ticks() == type(axis)._update_ticks(axis)
    # An axis whose labels need an offset ("1e6") keeps its own formatter.
    fig, ax = plt.subplots()
    ax.plot([1e6, 1e6 + 3])
    fig.canvas.draw()
    fix_ticks(fig)
    assert not isinstance(ax.yaxis.get_major_formatter(), FixedFormatter)
    freeze_ticks(fig)
    assert "_update_ticks" not in vars(ax.yaxis)  # its ticks are still asked for


def _glyphs_by_name(data: bytes, index: dict[int, int]) -> dict[int, tuple[str, object, int]]:
    """Each original glyph id's (name, outline points, advance) in the subset font ``data``."""
    from fontTools.ttLib import TTFont

    font = TTFont(BytesIO(data))
    order, glyf, hmtx = font.getGlyphOrder(), font["glyf"], font["hmtx"]
    out = {}
    for original, new in index.items():
        name = order[new]
        coords, ends, flags = glyf[name].getCoordinates(glyf)
        out[original] = (name, (list(coords), list(ends), list(flags)), hmtx[name][0])
    return out


@pytest.mark.parametrize(
    ("text", "in_base"),
    [
        ("ff", True),  # the ligature subset every figure has
        ("Legacy (700 M × 10, cliff) −5% θ ≤ 0.1; μ* σ → 1,300 M¥ “effect” fi fl", True),
        ("Time to decline ☃ ∮", False),  # outside the base: from the whole font, as before
    ],
)
def test_font_subsets_draw_the_glyphs_matplotlib_makes(text: str, in_base: bool) -> None:
    """Kept, or made from the base subset: every glyph as matplotlib's own subset draws it.

    A subset made from the base has no text-layout tables (``fonts.LAYOUT_TABLES``), so its file
    and glyph ids differ from matplotlib's; each glyph asked for has the same name, outline and
    advance width. A subset outside the base is matplotlib's, byte for byte.
    """
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager
    from matplotlib.backends import _backend_pdf_ps as pdf_ps
    from matplotlib.ft2font import FT2Font

    from wpi_abm.plots.fonts import LAYOUT_TABLES

    cache_font_subsets()
    cached = pdf_ps.get_glyphs_subset
    if not hasattr(cached, "make"):
        pytest.skip("this matplotlib has no SubsetResults hook; nothing is cached")
    path = font_manager.FontPath(font_manager.findfont("DejaVu Sans"), 0)
    charmap = FT2Font(path).get_charmap()
    glyphs = {charmap[ord(c)] for c in text if ord(c) in charmap}
    made = []
    for make in (cached.make, cached, cached):
        with make(path, glyphs) as result:
            made.append((pdf_ps.font_as_file(result.font).getvalue(), result.glyph_index_map))
    assert made[1] == made[2], "kept: the same subset the second time"
    assert (glyphs <= cached.bases[(str(path), 0)][1].keys()) == in_base
    ours, theirs = _glyphs_by_name(*made[1]), _glyphs_by_name(*made[0])
    assert glyphs <= ours.keys() & theirs.keys()
    assert all(ours[g] == theirs[g] for g in ours.keys() & theirs.keys())
    tables = set(TTFont(BytesIO(made[1][0])).keys())
    if in_base:
        assert not tables & set(LAYOUT_TABLES)
        assert {"glyf", "hmtx", "cmap", "loca", "head"} <= tables
    else:
        assert made[1] == made[0], "outside the base: matplotlib's subset, byte for byte"
    cache_font_subsets()  # installed once
    assert pdf_ps.get_glyphs_subset is cached


def test_figure_workers_server_starts_warm() -> None:
    """What the figure workers fork from: drawing code imported, the base font subset made."""
    code = (
        "import wpi_abm.plots.warmup\n"
        "from matplotlib.backends import _backend_pdf_ps as pdf_ps\n"
        "subsets = pdf_ps.get_glyphs_subset\n"
        "print(sorted(k[0].rsplit('/', 1)[-1] for k, v in subsets.bases.items() if v), "
        "len(subsets.made))\n"
    )
    root = Path(__file__).resolve().parents[1]  # this checkout's wpi_abm, as the tests import
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=root,
    )
    assert proc.stderr == ""
    assert proc.stdout.split() == ["['DejaVuSans.ttf']", "2"]  # text and ligature subsets
