"""The experiment file's models: what an experiment may say, validated; no file reading here.

An :class:`Experiment` is a fully resolved experiment — its building blocks (policy designs, a
cohort, behavioural parameters) already loaded — plus how a decline is detected
(:class:`DeclineSpec`), what a run stores (:class:`OutputSpec`), where it executes
(:class:`ExecutionSpec`) and, optionally, a batch-system cluster (:class:`ClusterSpec`).
:func:`wpi_abm.config.load_experiment` reads the YAML and builds one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from wpi_abm.cohort import Cohort
from wpi_abm.parameters import Parameters
from wpi_abm.policy import PolicyDesign
from wpi_abm.schema import FieldError, NonNegative, Strict, Year, one_of

INDICATORS = ("researchers", "foreign", "staff", "papers", "top10_papers", "intl_papers")
"""Indicators the value index may weight (see :mod:`wpi_abm.metrics`)."""

EXPECTED_PAPERS = {
    "papers": "papers_expected",
    "top10_papers": "top10_expected",
    "intl_papers": "intl_expected",
}
"""The indicators that count papers → the panel column of their expected count, which the value
index reads instead of the year's draw with ``decline.output: expected``."""


class DeclineSpec(Strict):
    """How a value decline is detected (docs/ODD.md, "Decline").

    Attributes:
        theta: A drop of more than this share below the reference year is a decline (seed: 10%
            is our default threshold; the seed gives no number).
        reference_year: Support year compared against (the last year of standard support).
        test_years: Years compared with the reference (seed: the 1st and 2nd year after support).
        aggregate: ``min`` — a decline if any test year is below; ``mean`` — if their mean is.
        baseline_years: Years over which indicators are normalised for the value index.
        weights: Weights of the value index's indicators (normalised to sum to 1).
        reference: The level the value measures beyond the binary test (value-years lost, value
            at years 15 and 20, P(decline) over θ) compare with: ``year`` — the value index in
            ``reference_year`` (the seed's measure) — or ``pre_announcement`` — its mean over
            ``pre_announcement_years``, before a centre can anticipate the end of its support.
            The decline test ``decline`` always uses ``reference_year`` and ``decline_pre``
            always the pre-announcement years, so both are reported whatever this says.
        pre_announcement_years: First and last year of the pre-announcement reference (default:
            the four years before ``reference_year``, 6–9).
        end_window: Years after each centre's last year of programme money over which the
            value-years lost from its own end of support are summed (equal windows, so that a
            design that ends later is not credited with the years the horizon cuts off).
        output: Which paper counts the value index reads: ``expected`` (default) — the number
            of papers, top-10% papers and international papers the centre's people, money and
            staff are expected to produce that year, i.e. its research capacity — or
            ``observed`` — the year's random counts, as a bibliometric count would see them
            (counting noise of ~93 top-10% papers a year then dominates a 5% test; ODD §7.12).
            Head counts are what they are either way; the seed's papers test
            (``decline_papers``) always counts observed papers.
    """

    theta: Annotated[float, Field(gt=0, lt=1)] = 0.10
    reference_year: Year = 10
    test_years: list[Year] = Field(default=[11, 12], min_length=1)
    aggregate: Literal["min", "mean"] = "mean"
    baseline_years: tuple[Year, Year] = (3, 10)
    weights: dict[str, NonNegative] = {
        "researchers": 0.25,
        "foreign": 0.20,
        "staff": 0.15,
        "papers": 0.15,
        "top10_papers": 0.15,
        "intl_papers": 0.10,
    }
    reference: Literal["year", "pre_announcement"] = "year"
    pre_announcement_years: tuple[Year, Year] | None = None
    end_window: Year = 10
    output: Literal["expected", "observed"] = "expected"

    @model_validator(mode="after")
    def _check(self) -> DeclineSpec:
        for key in self.weights:
            if key not in INDICATORS:
                raise FieldError(("weights", key), one_of(key, INDICATORS, "indicator"))
        if sum(self.weights.values()) <= 0:
            raise ValueError("weights must not all be zero")
        if any(y <= self.reference_year for y in self.test_years):
            raise ValueError(
                f"test_years {self.test_years} must all come after reference_year "
                f"{self.reference_year}"
            )
        if self.baseline_years[0] > self.baseline_years[1]:
            raise ValueError("baseline_years must be [first, last] with first <= last")
        first, last = self.pre_years
        if first > last:
            raise ValueError("pre_announcement_years must be [first, last] with first <= last")
        if last >= min(self.test_years):
            raise ValueError(
                f"pre_announcement_years {[first, last]} must end before the first test year "
                f"({min(self.test_years)})"
            )
        return self

    @property
    def pre_years(self) -> tuple[int, int]:
        """The pre-announcement years (first, last): as given, else the 4 before the reference."""
        if self.pre_announcement_years is not None:
            return self.pre_announcement_years
        return max(1, self.reference_year - 4), max(1, self.reference_year - 1)

    @property
    def level_words(self) -> str:
        """The reference level in words, for tables and the report: "the value in year 10"."""
        if self.reference == "year":
            return f"the value in year {self.reference_year}"
        first, last = self.pre_years
        return f"the mean value of years {first}–{last}"


class OutputSpec(Strict):
    """What a run stores.

    Attributes:
        panel: Store the centre × year panel (runs/*.parquet); outcomes are always stored.
        chunk_runs: Runs per chunk (the unit of work, of streaming and of resume).
        figures: Draw the summary figures at the end.
    """

    panel: bool = True
    chunk_runs: Annotated[int, Field(ge=1, le=100_000)] = 100
    figures: bool = True


class ExecutionSpec(Strict):
    """Where runs execute (the command line overrides these).

    Attributes:
        executor: ``serial``, ``processes`` or ``dask``.
        workers: Worker processes (default: all cores).
        scheduler: Address of a running Dask scheduler.
    """

    executor: Literal["serial", "processes", "dask"] = "processes"
    workers: Annotated[int, Field(ge=1, le=4096)] | None = None
    scheduler: str | None = None


class UncertaintySpec(Strict):
    """Parameter uncertainty: draw each group of replicates' parameters from a posterior sample.

    Attributes:
        kind: ``none`` (every run uses the experiment's parameters) or ``posterior`` (each group
            of :data:`~wpi_abm.experiment.uncertainty.RUNS_PER_DRAW` replicates takes one particle
            of the posterior, drawn by weight; docs/architecture.md).
        posterior: A packaged posterior by name (``legacy``, the calibrated one) or a path to a
            ``posterior.csv`` written by ``wpi-abm calibrate`` (relative to the experiment file).
        sha256: The posterior file's checksum, recorded when the run starts; a resumed run
            refuses a file that changed since.
        inherit: Dotted key → the posterior column whose drawn value it also takes. ``wpi-abm
            decompose`` writes it, so that a hybrid design takes the calibrated values (e.g.
            ``policies.legacy.evaluations[0].pass_score``) of the design it takes that element
            from; rarely written by hand.
    """

    kind: Literal["none", "posterior"] = "none"
    posterior: str = Field("legacy", min_length=1)
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    inherit: dict[str, str] = {}


class ClusterSpec(Strict):
    """A batch-system cluster started through dask-jobqueue.

    Attributes:
        kind: ``slurm``, ``pbs`` or ``sge``.
        cores: Cores per job.
        memory: Memory per job (e.g. ``16GB``).
        walltime: Wall-time limit per job (``HH:MM:SS``).
        jobs: Number of jobs (each runs ``processes`` Dask workers).
        processes: Worker processes per job (default: one per core).
        queue: Queue or partition.
        account: Account or project to charge.
        job_extra: Extra scheduler directives, e.g. ``["--qos=normal"]``.
    """

    kind: Literal["slurm", "pbs", "sge"]
    cores: Annotated[int, Field(ge=1, le=1024)]
    memory: str = Field(pattern=r"^\d+(\.\d+)?\s*[KMGT]i?B$")
    walltime: str = Field(pattern=r"^(\d+-)?\d{1,3}:\d{2}:\d{2}$")
    jobs: Annotated[int, Field(ge=1, le=10_000)]
    processes: Annotated[int, Field(ge=1, le=1024)] | None = None
    queue: str | None = None
    account: str | None = None
    job_extra: list[str] = []


class Experiment(Strict):
    """A fully resolved experiment: every building block loaded and validated."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    replicates: Annotated[int, Field(ge=1, le=10_000_000)]
    horizon: Annotated[int, Field(ge=2, le=100)] = 25
    policies: dict[str, PolicyDesign] = Field(min_length=1)
    baseline_policy: str | None = "legacy"
    cohort: Cohort
    parameters: Parameters
    decline: DeclineSpec = DeclineSpec()
    output: OutputSpec = OutputSpec()
    execution: ExecutionSpec = ExecutionSpec()
    cluster: ClusterSpec | None = None
    uncertainty: UncertaintySpec = UncertaintySpec()

    @model_validator(mode="after")
    def _check(self) -> Experiment:
        for key, policy in self.policies.items():
            if key != policy.name:
                raise FieldError(
                    ("policies", key, "name"),
                    f"policy listed as '{key}' is named '{policy.name}' in its file",
                )
            for i, ev in enumerate(policy.evaluations):
                if ev.year > self.horizon:
                    raise FieldError(
                        ("policies", key, "evaluations", i, "year"),
                        f"policy '{key}': evaluation '{ev.name}' in year {ev.year} is beyond the "
                        f"horizon ({self.horizon}); allowed: years 1..{self.horizon}",
                    )
        dec = self.decline
        # Point at the decline key that was written; a default beyond a short horizon is the
        # horizon's fault.
        written = dec.model_fields_set if "decline" in self.model_fields_set else set()
        for key, years in (
            ("reference_year", [dec.reference_year]),
            ("test_years", dec.test_years),
            ("baseline_years", list(dec.baseline_years)),
        ):
            late = [i for i, y in enumerate(years) if y > self.horizon]
            if late:
                loc = ("decline", key, late[0]) if key in written else ("horizon",)
                raise FieldError(
                    loc,
                    f"decline.{key} ({', '.join(map(str, years))}) goes beyond the horizon "
                    f"({self.horizon}); allowed: years 1..{self.horizon}",
                )
        if self.baseline_policy is not None and self.baseline_policy not in self.policies:
            if "baseline_policy" in self.model_fields_set:
                raise FieldError(
                    ("baseline_policy",),
                    f"{one_of(self.baseline_policy, self.policies, 'policy')}; "
                    "the baseline is one of the experiment's policies",
                )
            object.__setattr__(self, "baseline_policy", None)
        return self

    def past_horizon(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Segments that pay years beyond the horizon: (location, message) for a warning.

        Not an error: a design may be deliberately longer than a study (a 15-year design in a
        12-year run), and ``to_year: forever`` never is. But the years after the horizon are
        never simulated (only foresight in the last years sees them), which a user should know.
        """
        found = []
        for key, policy in self.policies.items():
            for i, seg in enumerate(policy.segments):
                if seg.to_year == "forever" or seg.to_year <= self.horizon:
                    continue
                unseen = f"{max(seg.from_year, self.horizon + 1)}–{seg.to_year}"
                found.append(
                    (
                        ("policies", key, "segments", i, "to_year"),
                        f"policy '{key}' pays years {seg.from_year}–{seg.to_year} but the horizon "
                        f"is {self.horizon}: years {unseen} are never simulated (researchers' "
                        "foresight in the last years still sees them); raise 'horizon' to "
                        f"{seg.to_year} to see them",
                    )
                )
        return found

    @property
    def policy_names(self) -> list[str]:
        """Policies in the order the experiment lists them."""
        return list(self.policies)
