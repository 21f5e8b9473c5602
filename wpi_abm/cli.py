"""The ``wpi-abm`` command.

Exit codes: 0 success; 1 some runs (or figures) failed (the rest are stored); 2 anything the user
can fix — bad input, options, paths, results folder, missing cluster tools (a one-paragraph
message, no traceback); 3 internal error (a bug: report it); 130 interrupted (resumable).

One module on purpose: the parser and the handlers of its commands are one concept — the
command line's contract, including which mistakes are the user's (exit 2) and what a resume
needs recorded — and each option reads best next to the handler that uses it. The handlers only
wire things together; the tables they print are :mod:`wpi_abm.tables`, the work is in
:mod:`wpi_abm.experiment` (resuming from a folder alone: :mod:`wpi_abm.experiment.resume`),
:mod:`wpi_abm.plots` and :mod:`wpi_abm.report`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import re
import shlex
import sys
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from wpi_abm import __version__, interrupts
from wpi_abm.errors import (
    ConfigError,
    ConfigErrors,
    ConfigWarning,
    Interrupted,
    ResultsError,
    WpiError,
)
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


def _output_options(parser: argparse.ArgumentParser, *, figures: bool = True) -> None:
    """``--no-figures`` (where a command draws them) and ``--quiet``."""
    if figures:
        parser.add_argument("--no-figures", action="store_true", help="do not draw figures")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


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
    run.add_argument("--no-panel", action="store_true", help="store outcomes only, not the panel")
    run.add_argument(
        "--uncertainty", choices=("none", "posterior"),
        help="posterior: each group of 25 replicates draws its parameters from the calibrated "
        "posterior and the summary gives Monte Carlo and total intervals; none: every run uses "
        "the experiment's parameters (default: the experiment's 'uncertainty')",
    )  # fmt: skip
    run.add_argument(
        "--posterior", metavar="FILE",
        help="posterior.csv to draw from (written by `wpi-abm calibrate`; default: the "
        "packaged 'legacy' posterior); implies --uncertainty posterior unless given",
    )  # fmt: skip
    _output_options(run)

    res = sub.add_parser(
        "resume",
        help="continue an interrupted run, sweep, sensitivity study or decomposition from its "
        "folder alone",
        description="Continue the run, sweep, sensitivity study or decomposition in DIR from "
        "what its "
        "manifest records (the experiment as resolved, the overrides, the command line): only "
        "chunks not yet stored, or found damaged, are run; the finished folder equals an "
        "uninterrupted run's, byte for byte. Where runs execute may be chosen anew.",
    )
    res.add_argument("folder", type=Path, metavar="DIR", help="the results folder")
    _execution_options(res)
    _output_options(res)

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
        "their targets (wpi_abm/data/reference/wpi_facts.md §6), the post-support drop, and "
        "pass rates.",
    )
    cal.add_argument(
        "experiment",
        nargs="?",
        help="experiment YAML (default: packaged default), or a calibration spec (a file with "
        "'targets': fit its priors by ABC-SMC and write a results folder)",
    )
    # --replicates and --seed keep their defaults (the table's contract); a spec sets its own.
    cal.add_argument(
        "--replicates", type=_positive_int, default=200, help="runs (default 200; table form)"
    )
    cal.add_argument(
        "--seed", type=_seed, default=2023, help="root seed (default 2023; table form)"
    )
    _set_option(cal, "override any field of the experiment (repeatable)")
    _execution_options(cal)
    cal.add_argument("--out", type=Path, help="results folder (spec form)")
    cal.add_argument(
        "--check-posterior", type=Path, metavar="FILE",
        help="spec form: do not fit; re-measure the particles of FILE (a posterior.csv, e.g. "
        "wpi_abm/data/posterior/legacy.csv) and write their validation table",
    )  # fmt: skip
    _output_options(cal, figures=False)

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
        _output_options(sp, figures=False)

    dec = sub.add_parser(
        "decompose",
        help="which element of a design does the work: each element's contribution, paired",
        description="Run every hybrid between two designs (2^k designs for k differing "
        "elements) on common random numbers and split each headline outcome's difference "
        "TO − FROM into each element's Shapley contribution with a paired 95%% t interval. "
        "Writes a results folder with decomposition.csv and figures/decomposition.",
    )
    dec.add_argument("start", metavar="FROM", help="design to start from (e.g. legacy)")
    dec.add_argument("end", metavar="TO", help="design to arrive at (e.g. reform_2024)")
    dec.add_argument("experiment", nargs="?", help="experiment YAML (default: packaged default)")
    dec.add_argument(
        "--replicates", type=_positive_int, help="replicates per design (default: 100)"
    )
    dec.add_argument("--seed", type=_seed, help="root seed (overrides the experiment's)")
    _execution_options(dec)
    dec.add_argument("--out", type=Path, help="results folder (default: results/FROM-to-TO-...)")
    dec.add_argument(
        "--resume", type=Path, metavar="DIR", help="continue an interrupted decomposition in DIR"
    )
    _set_option(dec, "override a field of the experiment (repeatable)")
    _output_options(dec)

    plot = sub.add_parser(
        "plot",
        help="draw the figures of a results folder (no re-running)",
        description="Draw every figure a results folder allows into RESULTS/figures (PDF and "
        "PNG), from the stored results only; says which figures it skipped and why. Checks the "
        "stored chunks against their checksums first.",
    )
    plot.add_argument("results", type=Path, help="a results folder")
    plot.add_argument("--lang", choices=LANGS, default="en", help="label language")

    rep = sub.add_parser(
        "report",
        help="write one self-contained HTML report of a results folder (opens offline)",
        description="Write one HTML file (figures embedded, no network needed) with the "
        "question, the policies, the summary, the figures and the provenance of a results "
        "folder. Checks the stored chunks against their checksums first.",
    )
    rep.add_argument("results", type=Path, help="a results folder")
    rep.add_argument("--out", type=Path, help="default: RESULTS/report.html")
    rep.add_argument("--lang", choices=LANGS, default="en", help="label language")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``wpi-abm`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    ended = True
    try:
        with _config_warnings(), interrupts.catching():
            code = _dispatch(args)
        ended = False
        return code
    except (KeyboardInterrupt, Exception) as exc:
        return _failure(args, exc)
    finally:
        if ended:
            # Servers started for workers that no longer come stop now, not after their warm-up
            # (only ever to save time: nothing that goes wrong here hides what ended the command).
            with contextlib.suppress(Exception):
                _stop_idle_servers()


def _failure(args: argparse.Namespace, exc: BaseException) -> int:
    """Report what ended the command on standard error; its exit status."""
    if isinstance(exc, KeyboardInterrupt):
        print(f"\n{_interrupted(exc)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if isinstance(exc, (ConfigError, ResultsError, WpiError)):
        text = exc.render() if isinstance(exc, ConfigError) else str(exc)
        print(f"error: {text}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if isinstance(exc, OSError) and exc.filename is not None:
        # A path the user gave (or a full disk) is not a bug in wpi-abm: say which file.
        print(f"error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.debug:
        traceback.print_exception(exc)
    else:
        print(
            f"internal error: {type(exc).__name__}: {exc}\n(run again with --debug for the "
            "traceback, and report it)",
            file=sys.stderr,
        )
    return EXIT_INTERNAL


def _stop_idle_servers() -> None:
    """Stop the workers' and figures' forkservers this command started, if it started any.

    A command that ends early (an error, an interrupt) would otherwise leave them importing for
    a few seconds, holding its standard output and error open (:func:`wpi_abm.experiment.workers.
    stop_server`). Only modules already imported are asked: nothing is imported on the way out.
    """
    workers = sys.modules.get("wpi_abm.experiment.workers")
    if workers is not None:
        workers.stop_forkserver()
    pool = sys.modules.get("wpi_abm.plots.pool")
    if pool is not None:
        pool.stop_figure_server()


def command() -> NoReturn:
    """The ``wpi-abm`` program: :func:`main`, then exit with its status.

    Before exiting, what the command made is frozen out of the garbage collector
    (``gc.freeze``): the interpreter's last collection at exit would otherwise walk every object
    still alive (the model, matplotlib, pandas), 0.3–0.4 s of a ~10-s ``wpi-abm plot``, to free
    memory that the operating system takes back anyway. ``atexit`` handlers (multiprocessing's
    among them) still run and output is flushed; what no longer runs is the finaliser of an
    object caught in a reference cycle and still alive at exit, and wpi-abm leaves none to run
    (its files, folders and pools are closed by ``with`` blocks). Only the program does this,
    not :func:`main` (tests call it many times in one process).
    """
    code = main()
    gc.freeze()
    sys.exit(code)


def _interrupted(exc: KeyboardInterrupt) -> str:
    """What to tell the user after Ctrl-C: the exact command that continues, if any."""
    from wpi_abm.experiment.store import MANIFEST

    folder = exc.folder if isinstance(exc, Interrupted) else None
    if folder is None or not (folder / MANIFEST).is_file():
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
    if args.command == "decompose":
        return cmd_decompose(args)
    raise AssertionError(args.command)


OPTION_FIELDS = {"replicates": "--replicates", "seed": "--seed", "output.panel": "--no-panel"}
"""Fields that command-line options set (through the same path as ``--set``)."""

EXAMPLES = {
    "experiment": "experiments/policy_comparison.yaml",
    "sweep": "experiments/sweep_matching_cap.yaml",
    "sensitivity": "experiments/sensitivity_reform.yaml",
}


def _option_sets(args: argparse.Namespace) -> list[str]:
    """The options ``--replicates``, ``--seed``, ``--no-panel`` and the uncertainty ones as sets."""
    sets = []
    if getattr(args, "replicates", None) is not None:
        sets.append(f"replicates={args.replicates}")
    if getattr(args, "seed", None) is not None:
        sets.append(f"seed={args.seed}")
    if getattr(args, "no_panel", False):
        sets.append("output.panel=false")
    posterior = getattr(args, "posterior", None)
    kind = getattr(args, "uncertainty", None) or ("posterior" if posterior else None)
    if kind is not None:
        sets.append(f"uncertainty.kind={kind}")
    if posterior is not None:
        # From the working directory, as a command-line path means; recorded absolute.
        sets.append(f"uncertainty.posterior={Path(posterior).resolve()}")
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


def _expect_kind(path: Path, expected: str, command: str, raw: object = None) -> None:
    """Refuse a file of another kind with a message that says what it is and what to give.

    Without this, a policy file given to ``run`` gets a list of 'unknown key' problems that never
    say it is a policy file. ``raw``: the file's YAML data, where the caller has read it.
    """
    from wpi_abm.yamlio import guess_kind, load_yaml

    kind = guess_kind(load_yaml(path)[0] if raw is None else raw)
    if kind in ("unknown", "sweep" if expected == "sensitivity" else expected):
        return
    hint = {
        "experiment": f"run it with `wpi-abm run {path}`",
        "sweep": f"run it with `wpi-abm sweep {path}` (or `wpi-abm sensitivity`)",
        "policy": "an experiment lists policy files under 'policies:'",
        "cohort": "an experiment names a cohort file under 'cohort:'",
        "parameters": "an experiment names a parameter file under 'parameters:'",
        "calibration": f"run it with `wpi-abm calibrate {path}`",
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
    sets = [*args.sets, *_option_sets(args)]
    if args.experiment is None and args.resume is not None:
        from wpi_abm.experiment.resume import read_stored

        out = _out_folder(args, "")
        stored = read_stored(out, sets, kind="run", alternative=_default_tree(sets))
        return _run(args, stored.exp, stored.tree, out, _figures(args, stored.invocation))
    from wpi_abm.experiment.workers import start_workers_early  # standard library only

    raw = _experiment_yaml(args.experiment)
    if args.experiment is not None:
        _expect_kind(Path(args.experiment), "experiment", "run", raw)
    early = _certainly_processes(args, sets, raw)
    if early:
        # Known before the experiment is loaded (importing the schema and validating take
        # ~0.6 s): the workers' server starts warming (~3.5 CPU-s, on another core) 0.12-0.16 s
        # into the command instead of 0.84 s.
        start_workers_early("processes")
    from wpi_abm.config import load_experiment

    with _blaming_options():
        exp, tree = load_experiment(args.experiment, sets)
    # Checked now whoever started the server (a scheduler without Dask is refused here).
    kind = _executor_kind(args, exp)
    if not early:
        # The workers' server warms while the folder is checked and the driver imported.
        start_workers_early(*kind)
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
    """``wpi-abm resume DIR``: continue a run, sweep, sensitivity study or decomposition."""
    from wpi_abm.experiment.resume import read_stored

    stored = read_stored(args.folder)
    args.resume, args.out, args.sets = args.folder, None, []
    if stored.kind == "run":
        return _run(args, stored.exp, stored.tree, args.folder, _figures(args, stored.invocation))
    if stored.kind == "decompose":
        from wpi_abm.experiment.decomposition import stored_plan

        p = stored_plan(stored.exp)
        figures = _figures(args, stored.invocation)
        return _decompose(args, p, stored.exp, stored.tree, args.folder, figures)
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
    from wpi_abm.tables import beyond_note, format_beyond, format_summary, total_note

    with _resumable(out), _executor(args, exp) as executor:
        result = run_experiment(
            exp, tree, executor, out, resume=args.resume is not None, progress=not args.quiet,
            figures=figures, invocation=invocation,
        )  # fmt: skip
    print(format_summary(result.summary, exp.policies, exp.baseline_policy))
    runs = result.runs_total
    print(
        f"\n{runs} runs × {len(exp.cohort.centres)} centres; decline = value index in years "
        f"{exp.decline.test_years} more than {exp.decline.theta:.0%} below year "
        f"{exp.decline.reference_year}; 95% intervals clustered by run."
    )
    if total_note(result.summary):
        print(total_note(result.summary))
    beyond = format_beyond(result.summary, exp.policies, exp.baseline_policy)
    if beyond:
        print(f"\n{beyond}\n{beyond_note(exp.decline, exp.horizon, exp.baseline_policy)}")
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

    kind, scheduler, cluster = _executor_kind(args, exp, cluster)
    return make_executor(kind, args.workers or exp.execution.workers, scheduler, cluster)


def _executor_kind(args: argparse.Namespace, exp, cluster=None):
    """(kind, scheduler address or None, cluster spec or None) of :func:`_executor`."""
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
    return kind, scheduler, cluster


def _experiment_yaml(path: str | None) -> object:
    """The experiment file's YAML data (the packaged default's without a file), read once.

    Raises:
        ConfigError: The file cannot be read or parsed (what loading the experiment would say).
    """
    from wpi_abm.presets import builtin
    from wpi_abm.yamlio import load_yaml

    return load_yaml(Path(path or builtin("experiments")["policy_comparison"]))[0]


def _certainly_processes(args: argparse.Namespace, sets: list[str], raw: object) -> bool:
    """Whether ``run`` will use the processes executor, known without loading the experiment.

    From the options, or the experiment file's own ``execution`` (``raw``: its YAML data, the
    packaged default's without a file) when nothing else can change it: no ``--scheduler``, no
    ``cluster:``, no ``--set`` or ``overrides:`` entry under ``execution`` or ``cluster``.
    Anything else is not certain: the server then starts once the experiment is loaded, as it
    would have anyway.
    """
    if args.scheduler or args.executor not in (None, "processes"):
        return False
    if args.executor == "processes":
        return True

    def decides(key: object) -> bool:
        return str(key).split("=", 1)[0].strip().split(".")[0] in ("execution", "cluster")

    if any(decides(s) for s in sets):
        return False
    if not isinstance(raw, dict) or "cluster" in raw:
        return False
    overrides, execution = raw.get("overrides") or {}, raw.get("execution") or {}
    if not isinstance(overrides, dict) or any(decides(k) for k in overrides):
        return False
    return (
        isinstance(execution, dict)
        and not execution.get("scheduler")
        and execution.get("executor", "processes") == "processes"
    )


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
    from wpi_abm.tables import format_indices, format_sweep

    sensitivity = kind == "sensitivity"
    designs = spec.methods if sensitivity else [spec.design]
    sizes = ", ".join(f"{d} {expected_points(spec, d)}" for d in designs)
    runs = len(points) * len(exp.policies) * exp.replicates
    if spec.model == "ishigami":
        from wpi_abm.experiment.sensitivity import ishigami_summary, store_analytic

        if not sensitivity:
            raise ConfigError("model: ishigami is for `wpi-abm sensitivity` only", field="model")
        summary = ishigami_summary(table, spec)
        policies = ["ishigami"]
        store_analytic(
            out, tree, table, summary, resume=args.resume is not None, invocation=invocation
        )
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
                invocation=invocation,
            )  # fmt: skip
        summary = result.summary
        policies = exp.policy_names
        if result.failures:
            # Sensitivity indices need every point; the sweep's other results are stored.
            print(format_sweep(summary, list(spec.parameters)))
            print(f"results: {out}")
            return _failed(result)
    if sensitivity:
        from wpi_abm.experiment.progress import figure_progress
        from wpi_abm.experiment.sensitivity import analyse
        from wpi_abm.experiment.store import ResultStore
        from wpi_abm.plots.summary import plot_results

        indices = analyse(summary, table, spec, policies)
        with ResultStore(out) as store:
            store.open(resume=True)
            store.write_sensitivity(indices)

        # adds the sensitivity figures now that the indices exist
        plot_results(out, progress=None if args.quiet else figure_progress())
        print(format_indices(indices))
    else:
        print(format_sweep(summary, list(spec.parameters)))
    print(f"results: {out}")
    return 0


def cmd_decompose(args: argparse.Namespace) -> int:
    """``wpi-abm decompose FROM TO``."""
    from wpi_abm.config import load_experiment
    from wpi_abm.experiment.decomposition import DEFAULT_REPLICATES, prepare

    sets = [f"replicates={DEFAULT_REPLICATES}", *args.sets, *_option_sets(args)]
    if args.experiment is not None:
        _expect_kind(Path(args.experiment), "experiment", "decompose")
    with _blaming_options():
        exp, tree = load_experiment(args.experiment, sets)
    p, dexp, dtree = prepare(exp, tree, args.start, args.end)
    out = _out_folder(args, f"{args.start}-to-{args.end}")
    invocation = _invocation(args, args.experiment, sets)
    return _decompose(args, p, dexp, dtree, out, _figures(args, {}), invocation)


def _decompose(args, p, exp, tree, out: Path, figures: bool | None, invocation=None) -> int:
    """Run (or resume) a decomposition into ``out`` and print each element's contribution."""
    from wpi_abm.experiment.decomposition import additivity_gap, decompose
    from wpi_abm.tables import format_decomposition

    with _resumable(out), _executor(args, exp) as executor:
        result = decompose(
            p, exp, tree, executor, out, resume=args.resume is not None,
            progress=not args.quiet, figures=figures is not False, invocation=invocation,
        )  # fmt: skip
    print(
        f"decompose {p.start.name} → {p.end.name}: {len(p.names)} elements "
        f"({', '.join(p.names)}), {len(p.designs)} designs × {exp.replicates} replicates × "
        f"{len(exp.cohort.centres)} centres on common random numbers; per replicate the "
        "outcome's mean over centres; Shapley contributions, paired 95% t intervals\n"
    )
    print(format_decomposition(result.table, p.start.display, p.end.display))
    print(
        f"\nthe contributions add up to TO − FROM (largest gap {additivity_gap(result.table):.1e})"
    )
    print(f"results: {out}")
    return _failed(result.run)


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
        from wpi_abm.experiment.uncertainty import load as load_posterior

        exp, _ = load_experiment(args.file, args.sets)
        posterior = load_posterior(exp)  # the file, its keys and every particle's values
        drawn = f", parameters drawn from {posterior.file}" if posterior is not None else ""
        print(
            f"{args.file}: valid experiment '{exp.name}': {len(exp.policies)} policies "
            f"({', '.join(exp.policies)}), cohort '{exp.cohort.name}' with "
            f"{len(exp.cohort.centres)} centres, {exp.replicates} replicates, horizon "
            f"{exp.horizon}, seed {exp.seed}{drawn}"
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
    elif kind == "calibration":
        from wpi_abm.calibrate.spec import build as build_calibration

        cs, exp, _ = build_calibration(args.file, args.sets)
        print(
            f"{args.file}: valid calibration '{cs.name}': {len(cs.parameters)} free parameters, "
            f"{len(cs.targets)} targets, policy '{cs.policy}', {exp.replicates} replicates per "
            f"candidate, population {cs.method.population}"
        )
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


@contextlib.contextmanager
def _config_warnings() -> Iterator[None]:
    """Print each configuration warning once, as ``warning: FILE, line N, field 'F': ...``.

    Warnings go to standard error as soon as the configuration is loaded, before anything runs,
    so that a user can stop a run that would not mean what they meant.
    """
    shown: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if not issubclass(category, ConfigWarning):
            default(message, category, filename, lineno, file, line)
        elif str(message) not in shown:
            shown.add(str(message))
            print(f"warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        default = warnings.showwarning
        warnings.simplefilter("always", ConfigWarning)
        warnings.showwarning = show
        yield


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``wpi-abm calibrate``."""
    from wpi_abm.calibration import measure, report
    from wpi_abm.config import load_experiment

    if args.experiment is not None:
        if _is_calibration_spec(args.experiment):
            return cmd_calibrate_spec(args)
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
    from wpi_abm.experiment.store import ResultFolder

    note = ResultFolder(results).verify_checksums()
    if note:
        print(f"note: {note}", file=sys.stderr)


def cmd_plot(args: argparse.Namespace) -> int:
    """``wpi-abm plot RESULTS``."""
    from wpi_abm.plots.pool import start_figure_server

    # The figure workers' server imports and warms up while this process imports and checks
    # (not for a path that is no folder: the error comes at once, and no server outlives it).
    if args.results.is_dir():
        start_figure_server()
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


def _is_calibration_spec(path: str) -> bool:
    from wpi_abm.calibrate.spec import is_spec
    from wpi_abm.yamlio import load_yaml

    # A missing file is the experiment loader's to report (its message is the contract).
    return Path(path).is_file() and is_spec(load_yaml(path)[0])


def cmd_calibrate_spec(args: argparse.Namespace) -> int:
    """``wpi-abm calibrate SPEC.yaml``: ABC-SMC fit, posterior, validation table, figure."""
    from wpi_abm.calibrate.driver import calibrate
    from wpi_abm.calibrate.report import format_validation
    from wpi_abm.calibrate.spec import build

    spec, exp, tree = build(args.experiment, args.sets)
    args.resume = None
    if args.check_posterior is not None:
        return _check_posterior(args, spec, exp)
    out = _out_folder(args, spec.name)

    def progress(gen, t: int) -> None:
        if not args.quiet:
            print(
                f"generation {t}: ε = {gen.epsilon:.3g}, {gen.simulations} candidates, "
                f"ESS {gen.ess:.0f}, {gen.seconds:.0f} s",
                file=sys.stderr,
            )

    with _executor(args, exp, spec.cluster) as executor:
        cal = calibrate(spec, exp, executor, tree=tree, out=out, progress=progress)
    print(format_validation(cal.validation))
    print(
        f"{cal.result.stopped}; {cal.simulations} candidates × {exp.replicates} runs in "
        f"{cal.seconds:.0f} s\n{out}"
    )
    return 0


def _check_posterior(args: argparse.Namespace, spec, exp) -> int:
    """``wpi-abm calibrate SPEC --check-posterior FILE``: the validation table of a posterior."""
    import pandas as pd

    from wpi_abm.calibrate.driver import check_posterior
    from wpi_abm.calibrate.report import format_validation
    from wpi_abm.posterior import read_posterior

    file = args.check_posterior
    post = read_posterior(file)  # format errors name the file, line and column
    wrong = sorted(set(post.keys) ^ set(spec.keys))
    if wrong:
        raise ConfigError(
            f"its parameter columns differ from the spec's ({', '.join(wrong)}); give the "
            "posterior.csv that this spec's calibration wrote",
            file=str(file),
            line=1,
            field=wrong[0],
        )
    table = (
        pd.read_csv(file, index_col="particle")
        if "particle" in _header(file)
        else (pd.read_csv(file))
    )
    out = _out_folder(args, f"{spec.name}-check")
    with _executor(args, exp, spec.cluster) as executor:
        cal = check_posterior(spec, exp, executor, table, out=out)
    print(format_validation(cal.validation))
    print(f"{cal.result.stopped} × {exp.replicates} runs in {cal.seconds:.0f} s\n{out}")
    return 0


def _header(file: Path) -> list[str]:
    with file.open(encoding="utf-8") as f:
        return [h.strip() for h in f.readline().split(",")]


if __name__ == "__main__":  # pragma: no cover
    command()
