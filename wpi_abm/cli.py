"""The ``wpi-abm`` command.

Exit codes: 0 success; 1 some runs (or figures) failed (the rest are stored); 2 anything the user
can fix — bad input, options, paths, results folder, missing cluster tools (a one-paragraph
message, no traceback); 3 internal error (a bug: report it); 130 interrupted (resumable).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import shlex
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from wpi_abm import __version__
from wpi_abm.errors import ConfigError, ConfigErrors, Interrupted, ResultsError, WpiError

EXIT_FAILED_RUNS, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 2, 3, 130


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be in 0..2^63-1 (got {value})")
    return value


def _execution_options(parser: argparse.ArgumentParser) -> None:
    """``--executor``, ``--workers`` and ``--scheduler``: where runs execute (never results)."""
    parser.add_argument(
        "--executor", choices=("serial", "processes", "dask"), help="where runs execute"
    )
    parser.add_argument(
        "--workers", type=_positive_int, help="worker processes (default: all cores)"
    )
    parser.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://HOST:PORT)")


def _set_option(parser: argparse.ArgumentParser, text: str) -> None:
    """The repeatable ``--set dotted.key=value`` option."""
    parser.add_argument(
        "--set", dest="sets", action="append", default=[], metavar="KEY=VALUE", help=text
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="wpi-abm",
        description="How often does a research centre's value decline after its founding grant "
        "ends, under each funding-policy design? (Agent-based model of Japan's WPI programme.)",
    )
    parser.add_argument("--version", action="version", version=f"wpi-abm {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run an experiment (default: every built-in policy on the default cohort)",
        description="Run an experiment and write a results folder (manifest.json, runs/, "
        "outcomes/, summary.csv, figures/). Without EXPERIMENT, runs the packaged default "
        "(experiments/policy_comparison.yaml).",
    )
    run.add_argument("experiment", nargs="?", help="experiment YAML (default: packaged default)")
    run.add_argument("--replicates", type=_positive_int, help="Monte Carlo runs per policy")
    run.add_argument("--seed", type=_seed, help="root seed (overrides the experiment's)")
    _execution_options(run)
    run.add_argument("--out", type=Path, help="results folder (default: results/NAME-TIMESTAMP)")
    run.add_argument(
        "--resume", type=Path, metavar="DIR",
        help="continue an interrupted run in DIR (EXPERIMENT and options may be left out; if "
        "given, they must match what DIR holds)",
    )  # fmt: skip
    _set_option(
        run, "override any field, e.g. --set parameters.researchers.foresight_window=2 (repeatable)"
    )
    run.add_argument("--no-figures", action="store_true", help="do not draw figures")
    run.add_argument("--no-panel", action="store_true", help="store outcomes only, not the panel")
    run.add_argument("--quiet", action="store_true", help="no progress output")

    res = sub.add_parser(
        "resume",
        help="continue an interrupted run, sweep or sensitivity study from its folder alone",
        description="Continue the run, sweep or sensitivity study in DIR from what its "
        "manifest records (the experiment as resolved, the overrides, the command line): only "
        "chunks not yet stored, or found damaged, are run; the finished folder equals an "
        "uninterrupted run's, byte for byte. Where runs execute may be chosen anew.",
    )
    res.add_argument("folder", type=Path, metavar="DIR", help="the results folder")
    _execution_options(res)
    res.add_argument("--no-figures", action="store_true", help="do not draw figures")
    res.add_argument("--quiet", action="store_true", help="no progress output")

    val = sub.add_parser(
        "validate",
        help="check a YAML file (experiment, policy, cohort or parameters)",
        description="Check a configuration file; prints what it holds or every problem found.",
    )
    val.add_argument("file", type=Path, help="the YAML file to check")
    _set_option(val, "check the experiment with this override applied (repeatable)")

    sub.add_parser(
        "policies",
        help="list the built-in policy designs",
        description="List the built-in policy designs (configs/policies/): name, title, the "
        "years they pay and what they model. An experiment names them under 'policies'.",
    )

    cal = sub.add_parser(
        "calibrate",
        help="compare the model with the public facts it is calibrated to",
        description="Simulate the legacy design and print the funded-years indicators against "
        "their targets (shared/reference/wpi_facts.md §6), the post-support drop, and pass rates.",
    )
    cal.add_argument("experiment", nargs="?", help="experiment YAML (default: packaged default)")
    cal.add_argument("--replicates", type=_positive_int, default=200, help="runs (default 200)")
    cal.add_argument("--seed", type=_seed, default=2023, help="root seed (default 2023)")
    _set_option(cal, "override any field of the experiment (repeatable)")

    for name, text in (
        ("sweep", "run a parameter sweep (grid, Latin hypercube, Sobol or Morris design)"),
        ("sensitivity", "Sobol and Morris sensitivity indices of P(decline), depth and cost"),
    ):
        sp = sub.add_parser(name, help=text, description=text)
        sp.add_argument(
            "spec", type=Path, nargs="?", help="sweep / sensitivity YAML (not with --resume DIR)"
        )
        sp.add_argument("--replicates", type=_positive_int, help="runs per point and policy")
        _execution_options(sp)
        sp.add_argument("--out", type=Path, help="results folder")
        sp.add_argument(
            "--resume", type=Path, metavar="DIR", help="continue an interrupted study in DIR"
        )
        _set_option(sp, "override a field of the base experiment (repeatable)")
        sp.add_argument("--quiet", action="store_true", help="no progress output")

    plot = sub.add_parser(
        "plot",
        help="draw the figures of a results folder (no re-running)",
        description="Draw every figure a results folder allows into RESULTS/figures (PDF and "
        "PNG), from the stored results only; says which figures it skipped and why. Checks the "
        "stored chunks against their checksums first.",
    )
    plot.add_argument("results", type=Path, help="a results folder")
    plot.add_argument("--lang", choices=("en", "ja"), default="en", help="label language")

    rep = sub.add_parser(
        "report",
        help="write one self-contained HTML report of a results folder (opens offline)",
        description="Write one HTML file (figures embedded, no network needed) with the "
        "question, the policies, the summary, the figures and the provenance of a results "
        "folder. Checks the stored chunks against their checksums first.",
    )
    rep.add_argument("results", type=Path, help="a results folder")
    rep.add_argument("--out", type=Path, help="default: RESULTS/report.html")
    rep.add_argument("--lang", choices=("en", "ja"), default="en", help="label language")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``wpi-abm`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt as exc:
        print(f"\n{_interrupted(exc)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ConfigError, ResultsError, WpiError) as exc:
        text = exc.render() if isinstance(exc, ConfigError) else str(exc)
        print(f"error: {text}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        if isinstance(exc, OSError) and exc.filename is not None:
            # A path the user gave (or a full disk) is not a bug in wpi-abm: say which file.
            print(f"error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if args.debug:
            traceback.print_exc()
        else:
            print(
                f"internal error: {type(exc).__name__}: {exc}\n(run again with --debug for the "
                "traceback, and report it)",
                file=sys.stderr,
            )
        return EXIT_INTERNAL


def _interrupted(exc: KeyboardInterrupt) -> str:
    """What to tell the user after Ctrl-C: the exact command that continues, if any."""
    folder = exc.folder if isinstance(exc, Interrupted) else None
    if folder is None or not (folder / "manifest.json").is_file():
        return "interrupted before anything was stored; nothing to resume"
    return (
        f"interrupted: finished chunks are saved in {folder}; continue with "
        f"`wpi-abm resume {shlex.quote(str(folder))}`"
    )


@contextlib.contextmanager
def _resumable(out: Path) -> Iterator[None]:
    """Tag Ctrl-C with the results folder, so the message names the command that resumes it."""
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt as exc:
        raise Interrupted(out) from exc


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return cmd_run(args)
    if args.command == "validate":
        return cmd_validate(args)
    if args.command == "policies":
        return cmd_policies()
    if args.command == "plot":
        return cmd_plot(args)
    if args.command == "report":
        from wpi_abm.report import write_report

        _verify_chunks(args.results)
        print(f"wrote {write_report(args.results, args.out, lang=args.lang)}")
        return 0
    if args.command == "resume":
        return cmd_resume(args)
    if args.command == "calibrate":
        return cmd_calibrate(args)
    if args.command in ("sweep", "sensitivity"):
        return cmd_sweep(args, sensitivity=args.command == "sensitivity")
    raise AssertionError(args.command)


OPTION_FIELDS = {"replicates": "--replicates", "seed": "--seed", "output.panel": "--no-panel"}
"""Fields that command-line options set (through the same path as ``--set``)."""

EXAMPLES = {
    "experiment": "experiments/policy_comparison.yaml",
    "sweep": "experiments/sweep_matching_cap.yaml",
    "sensitivity": "experiments/sensitivity_reform.yaml",
}


def _option_sets(args: argparse.Namespace) -> list[str]:
    """The options ``--replicates``, ``--seed`` and ``--no-panel`` as ``--set`` items."""
    sets = []
    if getattr(args, "replicates", None) is not None:
        sets.append(f"replicates={args.replicates}")
    if getattr(args, "seed", None) is not None:
        sets.append(f"seed={args.seed}")
    if getattr(args, "no_panel", False):
        sets.append("output.panel=false")
    return sets


@contextlib.contextmanager
def _blaming_options() -> Iterator[None]:
    """Name ``--replicates`` (not ``--set``) when the value it set is refused.

    Options are applied after the ``--set`` items, so the final value of their field is theirs.
    """
    try:
        yield
    except ConfigError as exc:
        for error in exc.errors if isinstance(exc, ConfigErrors) else [exc]:
            if error.file == "--set" and error.field in OPTION_FIELDS:
                error.file = OPTION_FIELDS[error.field]
        raise


def _expect_kind(path: Path, expected: str, command: str) -> None:
    """Refuse a file of another kind with a message that says what it is and what to give.

    Without this, a policy file given to ``run`` gets a list of 'unknown key' problems that never
    say it is a policy file.
    """
    from wpi_abm.config import guess_kind
    from wpi_abm.yamlio import load_yaml

    kind = guess_kind(load_yaml(path)[0])
    if kind in ("unknown", "sweep" if expected == "sensitivity" else expected):
        return
    hint = {
        "experiment": f"run it with `wpi-abm run {path}`",
        "sweep": f"run it with `wpi-abm sweep {path}` (or `wpi-abm sensitivity`)",
        "policy": "an experiment lists policy files under 'policies:'",
        "cohort": "an experiment names a cohort file under 'cohort:'",
        "parameters": "an experiment names a parameter file under 'parameters:'",
    }[kind]
    article = "an" if kind[0] in "aeiou" else "a"
    wanted = "a sweep" if expected != "experiment" else "an experiment"
    raise ConfigError(
        f"this is {article} {kind} file; `wpi-abm {command}` takes {wanted} file (see "
        f"{EXAMPLES[expected]}); {hint}",
        file=str(path),
    )


def cmd_run(args: argparse.Namespace) -> int:
    """``wpi-abm run``; with ``--resume DIR`` and no experiment file, from the folder alone."""
    from wpi_abm.config import load_experiment

    sets = [*args.sets, *_option_sets(args)]
    if args.experiment is None and args.resume is not None:
        from wpi_abm.experiment.resume import read_stored

        out = _out_folder(args, "")
        stored = read_stored(out, sets, kind="run", alternative=_default_tree(sets))
        return _run(args, stored.exp, stored.tree, out, _figures(args, stored.invocation))
    if args.experiment is not None:
        _expect_kind(Path(args.experiment), "experiment", "run")
    with _blaming_options():
        exp, tree = load_experiment(args.experiment, sets)
    out = _out_folder(args, exp.name)
    invocation = _invocation(args, args.experiment, sets)
    return _run(args, exp, tree, out, _figures(args, {}), invocation)


def _default_tree(sets: list[str]) -> dict | None:
    """The packaged default experiment with ``sets`` applied.

    What ``run --resume DIR OPTIONS`` (no file) meant before a folder could be resumed alone; None
    without options, or when they do not fit the default.
    """
    from wpi_abm.config import load_experiment

    if not sets:
        return None
    try:
        return load_experiment(None, sets)[1]
    except ConfigError:
        return None


def cmd_resume(args: argparse.Namespace) -> int:
    """``wpi-abm resume DIR``: continue a run, sweep or sensitivity study from its folder."""
    from wpi_abm.experiment.resume import read_stored

    stored = read_stored(args.folder)
    args.resume, args.out, args.sets = args.folder, None, []
    if stored.kind == "run":
        return _run(args, stored.exp, stored.tree, args.folder, _figures(args, stored.invocation))
    return _sweep(
        args, stored.kind, stored.spec, stored.exp, stored.tree, stored.points, stored.table,
        args.folder,
    )  # fmt: skip


def _invocation(args: argparse.Namespace, file: str | Path | None, sets: list[str]) -> dict:
    """What the manifest records about the command, so the folder alone can resume it."""
    return {
        "command": shlex.join(["wpi-abm", *args.argv]),
        "argv": list(args.argv),
        "cwd": str(Path.cwd()),
        "file": str(Path(file).resolve()) if file is not None else None,
        "sets": sets,
        "no_figures": bool(getattr(args, "no_figures", False)),
    }


def _figures(args: argparse.Namespace, invocation: dict) -> bool | None:
    """False when figures were turned off now or by the command that started the folder."""
    if getattr(args, "no_figures", False) or invocation.get("no_figures"):
        return False
    return None


def _run(args, exp, tree, out: Path, figures: bool | None, invocation: dict | None = None) -> int:
    """Run (or resume) an experiment into ``out`` and print its summary."""
    from wpi_abm.experiment.driver import run_experiment

    with _resumable(out), _executor(args, exp) as executor:
        report = run_experiment(
            exp, tree, executor, out, resume=args.resume is not None, progress=not args.quiet,
            figures=figures, invocation=invocation,
        )  # fmt: skip
    print(format_summary(report.summary, exp.policies, exp.baseline_policy))
    runs = report.runs_total
    print(
        f"\n{runs} runs × {len(exp.cohort.centres)} centres; decline = value index in years "
        f"{exp.decline.test_years} more than {exp.decline.theta:.0%} below year "
        f"{exp.decline.reference_year}; 95% intervals clustered by run."
    )
    print(f"results: {report.out}")
    return _failed(report)


def _failed(report) -> int:
    """Say how many runs failed (the rest are stored); the exit code."""
    if not report.failures:
        return 0
    n = sum(len(f["replicates"]) for f in report.failures)
    print(
        f"error: {n} of {report.runs_total} runs failed (see {report.out / 'failures.csv'}); "
        "the others are stored and summarised; --resume retries the failed chunks",
        file=sys.stderr,
    )
    return EXIT_FAILED_RUNS


def _out_folder(args: argparse.Namespace, name: str) -> Path:
    """The results folder, checked before anything starts (nothing is created yet)."""
    from wpi_abm.experiment.driver import default_out
    from wpi_abm.experiment.store import ResultStore

    if args.resume and args.out and args.resume.resolve() != args.out.resolve():
        raise ConfigError(
            "--out and --resume name different folders; give only --resume DIR", file="--resume"
        )
    out = args.resume or args.out or default_out(name)
    ResultStore(out).check(resume=args.resume is not None)
    return out


SCHEDULER_ADDRESS = re.compile(r"(tcp|tls|ws|wss|ucx)://(\[[0-9A-Fa-f:.]+\]|[\w.-]+):\d{1,5}")


def _check_scheduler(address: str, source: str) -> None:
    if not SCHEDULER_ADDRESS.fullmatch(address):
        raise ConfigError(
            f"'{address}' is not a Dask scheduler address; give tcp://HOST:PORT (for example "
            "tcp://10.0.0.5:8786, as `dask scheduler` prints it)",
            file=source,
        )


def _executor(args: argparse.Namespace, exp, cluster=None):
    """The executor chosen on the command line, else in the experiment.

    A ``cluster:`` section or a scheduler address imply Dask.
    """
    from wpi_abm.experiment.executors import make_executor

    cluster = cluster or exp.cluster
    if args.scheduler:
        _check_scheduler(args.scheduler, "--scheduler")
    elif exp.execution.scheduler:
        _check_scheduler(exp.execution.scheduler, "the experiment's execution.scheduler")
    scheduler = args.scheduler or exp.execution.scheduler
    kind = args.executor or ("dask" if scheduler or cluster else exp.execution.executor)
    if scheduler and kind != "dask":
        raise ConfigError(
            f"--scheduler needs the dask executor (got --executor {kind})", field="--executor"
        )
    return make_executor(kind, args.workers or exp.execution.workers, scheduler, cluster)


def cmd_sweep(args: argparse.Namespace, *, sensitivity: bool) -> int:
    """``wpi-abm sweep`` and ``sensitivity``; with ``--resume DIR`` alone, from the folder."""
    from wpi_abm.experiment.sweep import build

    kind = "sensitivity" if sensitivity else "sweep"
    sets = [*args.sets, *_option_sets(args)]
    if args.spec is None:
        if args.resume is None:
            raise ConfigError(
                f"give a {kind} file (see {EXAMPLES[kind]}), or --resume DIR to continue one",
                file=f"wpi-abm {kind}",
            )
        from wpi_abm.experiment.resume import read_stored

        out = _out_folder(args, "")
        st = read_stored(out, sets, kind=kind)
        return _sweep(args, kind, st.spec, st.exp, st.tree, st.points, st.table, out)
    _expect_kind(args.spec, kind, kind)
    with _blaming_options():
        spec, exp, tree, points, table = build(args.spec, sets, sensitivity=sensitivity)
    out = _out_folder(args, spec.name)
    invocation = _invocation(args, args.spec, sets)
    return _sweep(args, kind, spec, exp, tree, points, table, out, invocation)


def _sweep(args, kind, spec, exp, tree, points, table, out: Path, invocation=None) -> int:
    """Run (or resume) a sweep or sensitivity study into ``out`` and print its results."""
    with _resumable(out):
        return _sweep_into(args, kind, spec, exp, tree, points, table, out, invocation)


def _sweep_into(args, kind, spec, exp, tree, points, table, out: Path, invocation) -> int:
    from wpi_abm.experiment.driver import run_experiment
    from wpi_abm.experiment.sweep import expected_points

    sensitivity = kind == "sensitivity"
    designs = spec.methods if sensitivity else [spec.design]
    sizes = ", ".join(f"{d} {expected_points(spec, d)}" for d in designs)
    runs = len(points) * len(exp.policies) * exp.replicates
    report = None
    if spec.model == "ishigami":
        from wpi_abm.experiment.sensitivity import ishigami_summary

        if not sensitivity:
            raise ConfigError("model: ishigami is for `wpi-abm sensitivity` only", field="model")
        summary = ishigami_summary(table, spec)
        policies = ["ishigami"]
        _write_analytic(out, tree, table, summary, args.resume is not None, invocation)
        print(f"{kind} '{spec.name}': {len(points)} points ({sizes}) of the Ishigami function")
    else:
        print(
            f"{kind} '{spec.name}': {len(points)} points ({sizes}) × {len(exp.policies)} "
            f"policies × {exp.replicates} replicates = {runs} runs",
            flush=True,
        )
        with _executor(args, exp, spec.cluster) as executor:
            report = run_experiment(
                exp, tree, executor, out, points=points, point_columns=table,
                resume=args.resume is not None, progress=not args.quiet, kind=kind,
                invocation=invocation,
            )  # fmt: skip
        summary = report.summary
        policies = exp.policy_names
        if report.failures:
            # Sensitivity indices need every point; the sweep's other results are stored.
            print(format_sweep(summary, list(spec.parameters)))
            print(f"results: {out}")
            return _failed(report)
    if sensitivity:
        from wpi_abm.experiment.sensitivity import analyse
        from wpi_abm.experiment.store import write_atomic

        indices = analyse(summary, table, spec, policies)
        write_atomic(out / "sensitivity.csv", indices.to_csv(index=False).encode())
        from wpi_abm.experiment.progress import figure_progress
        from wpi_abm.plots.summary import plot_results

        # adds the sensitivity figures now that the indices exist
        plot_results(out, progress=None if args.quiet else figure_progress())
        print(format_indices(indices))
    else:
        print(format_sweep(summary, list(spec.parameters)))
    print(f"results: {out}")
    return 0


def format_sweep(summary, parameters: list[str], rows: int = 30) -> str:
    """The first rows of a sweep summary: parameters, policy, P(decline) [CI], depth, cost."""
    cols = ["point", *parameters, "policy", "n", "p_decline", "ci_low", "ci_high"]
    cols += [c for c in ("mean_depth", "cost_per_centre") if c in summary]
    table = summary[[c for c in cols if c in summary]].head(rows)
    table = table.rename(columns={p: p.rsplit(".", 1)[-1] for p in parameters})
    text = table.to_string(
        index=False, float_format=lambda x: f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"
    )
    if len(summary) > rows:
        text += f"\n... {len(summary) - rows} more rows in summary.csv"
    return text


def _write_analytic(out: Path, tree, table, summary, resume: bool, invocation) -> None:
    """Store an analytic-function study like a simulated one (manifest, points, summary)."""
    from wpi_abm.experiment.store import ResultStore, now, versions, write_atomic

    store = ResultStore(out)
    store.open(resume=resume)
    try:
        store.write_manifest(
            {
                "experiment": tree["name"], "kind": "sensitivity", "model": "ishigami",
                "status": "complete", "started": now(), "ended": now(), "versions": versions(),
                "invocation": invocation or {}, "config": tree,
            }
        )  # fmt: skip
        write_atomic(out / "points.csv", table.to_csv().encode())
        write_atomic(out / "summary.csv", summary.to_csv(index=False).encode())
    finally:
        store.close()


def format_indices(indices) -> str:
    """Sensitivity indices as a table, most influential first."""
    lines = []
    for (policy, output, method), group in indices.groupby(
        ["policy", "output", "method"], sort=False
    ):
        lines.append(f"\n{policy} — {output} — {method}")
        if method == "sobol":
            g = group.sort_values("ST", ascending=False)
            lines.append(f"  {'parameter':<48} {'S1 [±95%]':>16} {'ST [±95%]':>16}")
            for _, r in g.iterrows():
                lines.append(
                    f"  {r['parameter'][:48]:<48} {r['S1']:7.3f} ±{r['S1_conf']:6.3f}"
                    f" {r['ST']:7.3f} ±{r['ST_conf']:6.3f}"
                )
        else:
            g = group.sort_values("mu_star", ascending=False)
            lines.append(f"  {'parameter':<48} {'mu* [±95%]':>18} {'sigma':>9}")
            for _, r in g.iterrows():
                lines.append(
                    f"  {r['parameter'][:48]:<48} {r['mu_star']:9.4f} ±{r['mu_star_conf']:7.4f}"
                    f" {r['sigma']:9.4f}"
                )
    return "\n".join(lines)


def _pct(x: float) -> str:
    return "  n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:5.1f}"


def format_summary(summary, policies, baseline: str | None) -> str:
    """The table printed at the end of a run (one row per policy)."""
    diff = f"diff_vs_{baseline}" if baseline else None
    has_diff = diff is not None and diff in summary
    head = f"{'policy':<40} {'P(decline) % [95% CI]':>23}"
    if has_diff:
        head += f" {'vs ' + baseline + ' (pp) [95% CI]':>27}"
    head += f" {'depth %':>8} {'cost/centre M¥':>15} {'P(end) %':>9}"
    lines = [head, "-" * len(head)]
    for _, r in summary.iterrows():
        label = policies[r["policy"]].display if r["policy"] in policies else r["policy"]
        if "point" in summary.columns:
            label = f"[{r['point']}] {label}"
        line = (
            f"{label[:40]:<40} {_pct(r['p_decline'])} [{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]"
        )
        if has_diff:
            if r["policy"] == baseline:
                line += f" {'—':>27}"
            else:
                low, high = 100 * r["diff_ci_low"], 100 * r["diff_ci_high"]
                d = f"{100 * r[diff]:+6.1f} [{low:+6.1f}, {high:+6.1f}]"
                line += f" {d:>27}"
        depth, cost, end = _pct(r["mean_depth"]), r["cost_per_centre"], _pct(r["p_decline_end"])
        line += f" {depth:>8} {cost:>15,.0f} {end:>9}"
        lines.append(line)
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    """``wpi-abm validate FILE``."""
    from wpi_abm.cohort import Cohort
    from wpi_abm.config import guess_kind, load_experiment, validate_block
    from wpi_abm.parameters import Parameters
    from wpi_abm.policy import PolicyDesign
    from wpi_abm.yamlio import load_yaml

    raw, smap = load_yaml(args.file)
    kind = guess_kind(raw)
    if kind == "experiment":
        exp, _ = load_experiment(args.file, args.sets)
        print(
            f"{args.file}: valid experiment '{exp.name}': {len(exp.policies)} policies "
            f"({', '.join(exp.policies)}), cohort '{exp.cohort.name}' with "
            f"{len(exp.cohort.centres)} centres, {exp.replicates} replicates, horizon "
            f"{exp.horizon}, seed {exp.seed}"
        )
    elif kind == "policy":
        p = validate_block(raw, smap, PolicyDesign)
        print(
            f"{args.file}: valid policy '{p.name}' ({p.display}), "
            f"pays in years 1..{p.last_year() or 'forever'}"
        )
    elif kind == "cohort":
        c = validate_block(raw, smap, Cohort)
        print(
            f"{args.file}: valid cohort '{c.name}': {len(c.centres)} centres, {len(c.hosts)} hosts"
        )
    elif kind == "parameters":
        validate_block(raw, smap, Parameters)
        print(f"{args.file}: valid parameter set")
    elif kind == "sweep":
        from wpi_abm.experiment.sweep import build

        raw_design = raw.get("design", "grid")
        spec, exp, _, points, _ = build(
            args.file, args.sets, sensitivity=raw_design in ("sobol", "morris")
        )
        print(
            f"{args.file}: valid {spec.design} study '{spec.name}' of {len(spec.parameters)} "
            f"parameters: {len(points)} points"
            + (
                f" × {len(exp.policies)} policies × {exp.replicates} replicates"
                if spec.model == "wpi"
                else ""
            )
        )
    else:
        raise ConfigError(
            "cannot tell what kind of file this is; an experiment has 'policies'/'replicates', a "
            "policy 'segments', a cohort 'centres', a parameter set 'researchers' and 'money'",
            file=str(args.file),
        )
    return 0


def cmd_policies() -> int:
    """``wpi-abm policies``."""
    from wpi_abm.config import builtin, load_policy

    for name in builtin("policies"):
        p = load_policy(name)
        years = p.last_year()
        print(f"{name:<24} {p.display}")
        print(f"{'':<24} pays years 1..{years if years else 'forever'}; {p.description.strip()}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``wpi-abm calibrate``."""
    from wpi_abm.calibration import measure, report
    from wpi_abm.config import load_experiment

    if args.experiment is not None:
        _expect_kind(Path(args.experiment), "experiment", "calibrate")
    exp, _ = load_experiment(args.experiment, args.sets)
    missing = {"legacy"} - set(exp.policies)
    if missing:
        raise ConfigError("calibration needs the 'legacy' policy among the experiment's policies")
    values = measure(exp, args.replicates, args.seed)
    print(report(values, args.replicates, len(exp.cohort.centres)))
    return 0


def _verify_chunks(results: Path) -> None:
    """Refuse a folder whose chunks changed on disk; say so when it predates checksums."""
    from wpi_abm.experiment.store import verify_chunks

    note = verify_chunks(results)
    if note:
        print(f"note: {note}", file=sys.stderr)


def cmd_plot(args: argparse.Namespace) -> int:
    """``wpi-abm plot RESULTS``."""
    from wpi_abm.experiment.progress import figure_progress
    from wpi_abm.plots.summary import plot_results

    _verify_chunks(args.results)
    made, skipped = plot_results(args.results, lang=args.lang, progress=figure_progress())
    for name in made:
        print(f"wrote {args.results / 'figures' / name}")
    # A figure that raised has been reported on standard error as it failed; only say its count.
    failed = [name for name, why in skipped if why.startswith("failed")]
    for name, why in skipped:
        if name not in failed:
            print(f"skipped {name}: {why}")
    if failed:
        print(
            f"error: {len(failed)} figures failed (errors above); the others were written",
            file=sys.stderr,
        )
        return EXIT_FAILED_RUNS
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
