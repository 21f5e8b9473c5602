"""The ``wpi-abm`` command.

Exit codes: 0 success; 1 some runs failed (the rest are stored); 2 bad input or unusable results
folder (a one-paragraph message, no traceback); 3 internal error; 130 interrupted (resumable).

A little over 400 lines on purpose: the parser and the handlers of the nine commands are one
concept — the command line's contract — and each option reads best next to the handler that uses
it. The handlers only wire things together; the tables they print are :mod:`wpi_abm.tables`, the
work is in :mod:`wpi_abm.experiment`, :mod:`wpi_abm.plots` and :mod:`wpi_abm.report`.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from wpi_abm.errors import ConfigError, ResultsError, WpiError
from wpi_abm.text import LANGS

if TYPE_CHECKING:
    from wpi_abm.experiment.driver import ExperimentResult

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="wpi-abm",
        description="How often does a research centre's value decline after its founding grant "
        "ends, under each funding-policy design? (Agent-based model of Japan's WPI programme.)",
    )
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
    run.add_argument(
        "--executor", choices=("serial", "processes", "dask"), help="where runs execute"
    )
    run.add_argument("--workers", type=_positive_int, help="worker processes (default: all cores)")
    run.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://HOST:PORT)")
    run.add_argument("--out", type=Path, help="results folder (default: results/NAME-TIMESTAMP)")
    run.add_argument(
        "--resume", type=Path, metavar="DIR", help="continue an interrupted run in DIR"
    )
    run.add_argument(
        "--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
        help="override any field, e.g. --set parameters.researchers.foresight_window=2 "
        "(repeatable)",
    )  # fmt: skip
    run.add_argument("--no-figures", action="store_true", help="do not draw figures")
    run.add_argument("--no-panel", action="store_true", help="store outcomes only, not the panel")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    val = sub.add_parser(
        "validate",
        help="check a YAML file (experiment, policy, cohort or parameters)",
        description="Check a configuration file; prints what it holds or every problem found.",
    )
    val.add_argument("file", type=Path)
    val.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")

    sub.add_parser("policies", help="list the built-in policy designs")

    cal = sub.add_parser(
        "calibrate",
        help="compare the model with the public facts it is calibrated to",
        description="Simulate the legacy design and print the funded-years indicators against "
        "their targets (wpi_abm/data/reference/wpi_facts.md §6), the post-support drop, and "
        "pass rates.",
    )
    cal.add_argument("experiment", nargs="?", help="experiment YAML (default: packaged default)")
    cal.add_argument("--replicates", type=_positive_int, default=200)
    cal.add_argument("--seed", type=_seed, default=2023)
    cal.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")

    for name, text in (
        ("sweep", "run a parameter sweep (grid, Latin hypercube, Sobol or Morris design)"),
        ("sensitivity", "Sobol and Morris sensitivity indices of P(decline), depth and cost"),
    ):
        sp = sub.add_parser(name, help=text, description=text)
        sp.add_argument("spec", type=Path, help="sweep / sensitivity YAML")
        sp.add_argument("--replicates", type=_positive_int, help="runs per point and policy")
        sp.add_argument("--executor", choices=("serial", "processes", "dask"))
        sp.add_argument("--workers", type=_positive_int)
        sp.add_argument("--scheduler", help="address of a running Dask scheduler")
        sp.add_argument("--out", type=Path)
        sp.add_argument("--resume", type=Path, metavar="DIR")
        sp.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
        sp.add_argument("--quiet", action="store_true")

    plot = sub.add_parser("plot", help="draw the figures of a results folder (no re-running)")
    plot.add_argument("results", type=Path)
    plot.add_argument("--lang", choices=LANGS, default="en", help="label language")

    rep = sub.add_parser(
        "report", help="write one self-contained HTML report of a results folder (opens offline)"
    )
    rep.add_argument("results", type=Path)
    rep.add_argument("--out", type=Path, help="default: RESULTS/report.html")
    rep.add_argument("--lang", choices=LANGS, default="en")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``wpi-abm`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print(
            "\ninterrupted: finished chunks are saved; continue with "
            "`wpi-abm run ... --resume <results folder>`",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except (ConfigError, ResultsError, WpiError) as exc:
        text = exc.render() if isinstance(exc, ConfigError) else str(exc)
        print(f"error: {text}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        else:
            print(
                f"internal error: {type(exc).__name__}: {exc}\n(run again with --debug for the "
                "traceback, and report it)",
                file=sys.stderr,
            )
        return EXIT_INTERNAL


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

        print(f"wrote {write_report(args.results, args.out, lang=args.lang)}")
        return 0
    if args.command == "calibrate":
        return cmd_calibrate(args)
    if args.command in ("sweep", "sensitivity"):
        return cmd_sweep(args, sensitivity=args.command == "sensitivity")
    raise AssertionError(args.command)


def cmd_run(args: argparse.Namespace) -> int:
    """``wpi-abm run``."""
    from wpi_abm.config import load_experiment
    from wpi_abm.experiment.driver import run_experiment
    from wpi_abm.tables import format_summary

    sets = list(args.sets)
    if args.replicates is not None:
        sets.append(f"replicates={args.replicates}")
    if args.seed is not None:
        sets.append(f"seed={args.seed}")
    if args.no_panel:
        sets.append("output.panel=false")
    exp, tree = load_experiment(args.experiment, sets)
    out = _out_folder(args, exp.name)
    with _executor(args, exp) as executor:
        result = run_experiment(
            exp,
            tree,
            executor,
            out,
            resume=args.resume is not None,
            progress=not args.quiet,
            figures=False if args.no_figures else None,
        )
    print(format_summary(result.summary, exp.policies, exp.baseline_policy))
    runs = result.runs_total
    print(
        f"\n{runs} runs × {len(exp.cohort.centres)} centres; decline = value index in years "
        f"{exp.decline.test_years} more than {exp.decline.theta:.0%} below year "
        f"{exp.decline.reference_year}; 95% intervals clustered by run."
    )
    print(f"results: {result.out}")
    return _failed(result)


def _failed(result: ExperimentResult) -> int:
    """Say how many runs failed (the rest are stored); the exit code."""
    from wpi_abm.experiment.store import FAILURES

    if not result.failures:
        return 0
    n = sum(len(f["replicates"]) for f in result.failures)
    print(
        f"error: {n} of {result.runs_total} runs failed (see {result.out / FAILURES}); "
        "the others are stored and summarised; --resume retries the failed chunks",
        file=sys.stderr,
    )
    return EXIT_FAILED_RUNS


def _out_folder(args: argparse.Namespace, name: str) -> Path:
    from wpi_abm.experiment.driver import default_out

    if args.resume and args.out and args.resume.resolve() != args.out.resolve():
        raise ConfigError(
            "--out and --resume name different folders; give only --resume DIR", field="--resume"
        )
    return args.resume or args.out or default_out(name)


def _executor(args: argparse.Namespace, exp, cluster=None):
    """The executor chosen on the command line, else in the experiment.

    A ``cluster:`` section or a scheduler address imply Dask.
    """
    from wpi_abm.experiment.executors import make_executor

    cluster = cluster or exp.cluster
    scheduler = args.scheduler or exp.execution.scheduler
    kind = args.executor or ("dask" if scheduler or cluster else exp.execution.executor)
    if scheduler and kind != "dask":
        raise ConfigError(
            f"--scheduler needs the dask executor (got --executor {kind})", field="--executor"
        )
    return make_executor(kind, args.workers or exp.execution.workers, scheduler, cluster)


def cmd_sweep(args: argparse.Namespace, *, sensitivity: bool) -> int:
    """``wpi-abm sweep`` and ``wpi-abm sensitivity``."""
    from wpi_abm.experiment.driver import run_experiment
    from wpi_abm.experiment.sweep import build, expected_points
    from wpi_abm.tables import format_indices, format_sweep

    sets = list(args.sets)
    if args.replicates is not None:
        sets.append(f"replicates={args.replicates}")
    spec, exp, tree, points, table = build(args.spec, sets, sensitivity=sensitivity)
    kind = "sensitivity" if sensitivity else "sweep"
    out = _out_folder(args, spec.name)
    designs = spec.methods if sensitivity else [spec.design]
    sizes = ", ".join(f"{d} {expected_points(spec, d)}" for d in designs)
    runs = len(points) * len(exp.policies) * exp.replicates
    if spec.model == "ishigami":
        from wpi_abm.experiment.sensitivity import ishigami_summary, store_analytic

        if not sensitivity:
            raise ConfigError("model: ishigami is for `wpi-abm sensitivity` only", field="model")
        summary = ishigami_summary(table, spec)
        policies = ["ishigami"]
        store_analytic(out, tree, table, summary, resume=args.resume is not None)
        print(f"{kind} '{spec.name}': {len(points)} points ({sizes}) of the Ishigami function")
    else:
        print(
            f"{kind} '{spec.name}': {len(points)} points ({sizes}) × {len(exp.policies)} "
            f"policies × {exp.replicates} replicates = {runs} runs",
            flush=True,
        )
        with _executor(args, exp, spec.cluster) as executor:
            result = run_experiment(
                exp, tree, executor, out, points=points, point_columns=table,
                resume=args.resume is not None, progress=not args.quiet, kind=kind,
            )  # fmt: skip
        summary = result.summary
        policies = exp.policy_names
        if result.failures:
            # Sensitivity indices need every point; the sweep's other results are stored.
            print(format_sweep(summary, list(spec.parameters)))
            print(f"results: {out}")
            return _failed(result)
    if sensitivity:
        from wpi_abm.experiment.sensitivity import analyse
        from wpi_abm.experiment.store import ResultStore
        from wpi_abm.plots.summary import plot_results

        indices = analyse(summary, table, spec, policies)
        with ResultStore(out) as store:
            store.open(resume=True)
            store.write_sensitivity(indices)

        plot_results(out)  # adds the sensitivity figures now that the indices exist
        print(format_indices(indices))
    else:
        print(format_sweep(summary, list(spec.parameters)))
    print(f"results: {out}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``wpi-abm validate FILE``."""
    from wpi_abm.cohort import Cohort
    from wpi_abm.config import guess_kind, load_experiment
    from wpi_abm.parameters import Parameters
    from wpi_abm.policy import PolicyDesign
    from wpi_abm.validation import validate_block
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
    from wpi_abm.config import load_policy
    from wpi_abm.presets import policy_names

    for name in policy_names():
        p = load_policy(name)
        years = p.last_year()
        print(f"{name:<24} {p.display}")
        print(f"{'':<24} pays years 1..{years if years else 'forever'}; {p.description.strip()}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``wpi-abm calibrate``."""
    from wpi_abm.calibration import measure, report
    from wpi_abm.config import load_experiment

    exp, _ = load_experiment(args.experiment, args.sets)
    missing = {"legacy"} - set(exp.policies)
    if missing:
        raise ConfigError("calibration needs the 'legacy' policy among the experiment's policies")
    values = measure(exp, args.replicates, args.seed)
    print(report(values, args.replicates, len(exp.cohort.centres)))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """``wpi-abm plot RESULTS``."""
    from wpi_abm.plots.summary import plot_results

    made, skipped = plot_results(args.results, lang=args.lang)
    for name in made:
        print(f"wrote {args.results / 'figures' / name}")
    for name, why in skipped:
        print(f"skipped {name}: {why}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
