"""Funding-policy designs as data: segments, matching, evaluations, growth plan, flexibility.

A :class:`PolicyDesign` is read from YAML (``configs/policies/*.yaml``). It is compiled, for a given
horizon, into a :class:`~wpi_abm.schedule.Schedule` (:mod:`wpi_abm.schedule`): year-indexed arrays
from which the subsidy owed to a centre in a year follows exactly from the centre's evaluation
record. Nothing here is random; the programme (:mod:`wpi_abm.sim.programme`) applies the schedule
and runs the (noisy) evaluations.

Money is in million yen (M yen) per fiscal year. Years are support years (1 = first funded year).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from wpi_abm.schema import FieldError, Money, NonNegative, Probability, Strict, Year, one_of

FOREVER = "forever"


class Segment(Strict):
    """A block of years with a subsidy amount, optionally matching and optionally gated.

    Attributes:
        from_year: First support year of the block.
        to_year: Last support year (inclusive), or ``"forever"``.
        amount: M yen per year; a list gives one amount per year of the block (a taper).
        matching: Whether the programme also pays matching on eligible private funds in these years.
        gate: Name of an evaluation the centre must pass for this block to be paid.
        otherwise: Amount paid in these years when the gate was not passed (per year or a list).
        adds: A top-up: its amount is paid on top of other segments in the years they share.
            Segments without it may not share a year, so that amounts never add up by accident.
    """

    from_year: Year
    to_year: Year | Literal["forever"]
    amount: Money | list[Money] = 0.0
    matching: bool = False
    gate: str | None = None
    otherwise: Money | list[Money] = 0.0
    adds: bool = False

    @model_validator(mode="after")
    def _check(self) -> Segment:
        if self.to_year != FOREVER and self.to_year < self.from_year:
            raise ValueError(f"to_year ({self.to_year}) is before from_year ({self.from_year})")
        for name in ("amount", "otherwise"):
            value = getattr(self, name)
            if isinstance(value, list):
                if self.to_year == FOREVER:
                    raise ValueError(f"{name} must be one number when to_year is 'forever'")
                span = self.to_year - self.from_year + 1
                if len(value) != span:
                    raise ValueError(
                        f"{name} lists {len(value)} amounts but years {self.from_year}-"
                        f"{self.to_year} are {span} years; give one amount per year or one number"
                    )
        if self.otherwise != 0.0 and self.gate is None:
            raise ValueError("'otherwise' only makes sense with a 'gate'")
        return self

    def amounts(self, horizon: int, which: str = "amount") -> tuple[int, np.ndarray]:
        """Per-year amounts of this block up to ``horizon``: (first year, array)."""
        last = horizon if self.to_year == FOREVER else min(self.to_year, horizon)
        span = max(0, last - self.from_year + 1)
        value = getattr(self, which)
        if isinstance(value, list):
            return self.from_year, np.asarray(value[:span], dtype=float)
        return self.from_year, np.full(span, float(value))


class Matching(Strict):
    """Matching support: ``min(cap, ratio × eligible private funds raised up to then)`` a year.

    Seed, slide 今後（2024年度～）: 「11年目以降、それまでの外部資金の獲得額等に応じ、最大3億円/年の
    マッチング支援」 — from year 11, matching of up to 300 M yen a year according to the external
    funds raised up to then; ※1 「民間等の外部資金（国・FA由来の資金を除く）」 — private and other
    external funds, excluding money from the state or funding agencies.

    Attributes:
        cap: Most matching per year (M yen). Reform 2024: 300 (seed).
        ratio: Yen of matching a year per yen of funds in the basis (assumption: the seed gives no
            formula).
        basis_years: The basis is the eligible funds of the last ``basis_years`` years before
            the matching year; None: every year since the start of support (assumption).
        eligible: Which private sources count; national and funding-agency money never counts
            (seed ※1).
    """

    cap: Money
    ratio: float = Field(1.0, gt=0, le=10)
    basis_years: int | None = Field(None, ge=1, le=50)
    eligible: list[Literal["company", "foundation"]] = ["company", "foundation"]

    def amount(self, basis: np.ndarray | float) -> np.ndarray:
        """Matching owed in a matching year on a ``basis`` of eligible funds raised.

        The only place the rule ``min(cap, ratio × basis)`` is written.
        """
        return np.minimum(self.cap, self.ratio * basis)


class Evaluation(Strict):
    """A programme-committee evaluation and what failing it does.

    Attributes:
        name: Identifier, referred to by segments' ``gate``.
        year: The support year at whose end the evaluation takes place.
        pass_score: Assessed score needed to pass (scores are ~1.0 for a centre on target).
        on_fail: ``continue`` (recorded only), ``cut`` (later payments × (1 − cut_fraction)),
            or ``stop`` (no later payments).
        cut_fraction: Share of later payments removed when ``on_fail`` is ``cut``.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    year: Year
    pass_score: NonNegative = 0.0
    on_fail: Literal["continue", "cut", "stop"] = "continue"
    cut_fraction: Probability = 0.0

    @model_validator(mode="after")
    def _check(self) -> Evaluation:
        if self.on_fail == "cut" and self.cut_fraction == 0:
            raise ValueError("on_fail is 'cut' but cut_fraction is 0; give a share in (0, 1]")
        return self


class GrowthPlan(Strict):
    """The reform's growth & development plan, drawn up with the host (seed).

    Attributes:
        year: Support year in which the plan is drawn up; effects start the next year.
        host_conversion_multiplier: Factor on the host's yearly conversion of centre posts to its
            permanent budget while the plan runs (assumption).
        host_commitment: Credibility of the host's absorption promise as centres and researchers
            see it (0–1) once the plan is checked every year (assumption).
        private_funding_push: Factor on the centre's search for company and foundation money
            ("diversifying income", seed) (assumption).
    """

    year: Year
    host_conversion_multiplier: float = Field(2.0, ge=1, le=10)
    host_commitment: Probability = 0.8
    private_funding_push: float = Field(1.5, ge=1, le=10)

    def in_force(self, year: int | np.ndarray) -> bool | np.ndarray:
        """Whether the plan shapes ``year`` (drawn up in ``self.year``, it acts from the next)."""
        return np.asarray(year) > self.year


class FromYear(Strict):
    """A feature that switches on from a support year."""

    from_year: Year


class Flexibility(FromYear):
    """From ``from_year`` the yearly amount is flexible within the total envelope.

    Seed, slide 今後（2024年度～）: 「6年目以降、『成長・発展計画』に基づき、各年度の補助金額を
    上記に依らず、支援総額の範囲内で、柔軟に措置可能に」 — from year 6, following the growth
    plan, each year's subsidy can be set regardless of the 700/300 profile, flexibly within the
    total.

    Attributes:
        rule: ``glide``: the centre chooses each year's draw from what is left of its envelope
            (:meth:`wpi_abm.sim.agents.centre.Centre.plan_draw`); ``carry_over``: the profile
            stays and only unspent money is kept for later years (the narrower reading).
    """

    rule: Literal["glide", "carry_over"] = "glide"


class PolicyDesign(Strict):
    """One funding-policy design: who gets how much, when, and on what conditions.

    Attributes:
        name: Identifier used on the command line and in results.
        label: Short human-readable name for tables and figures.
        label_ja: The label in Japanese (``--lang ja``); the label is used when empty.
        description: What the design is and where it comes from.
        sources: Where each number comes from (source names, see docs/ODD.md).
        segments: The yearly amounts.
        matching: Matching rule, required when any segment has ``matching: true``.
        evaluations: Programme evaluations.
        growth_plan: Growth & development plan (reform 2024), if any.
        flexibility: From this year the yearly amount is flexible within the envelope.
        foresight: From this year the yearly follow-up tells the centre its prospects at the gates.
        hosts_per_centre: Host institutions per centre (Multiple-Host WPI: several).
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = ""
    label_ja: str = ""
    description: str = ""
    sources: list[str] = []
    segments: list[Segment] = Field(min_length=1)
    matching: Matching | None = None
    evaluations: list[Evaluation] = []
    growth_plan: GrowthPlan | None = None
    flexibility: Flexibility | None = None
    foresight: FromYear | None = None
    hosts_per_centre: int = Field(1, ge=1, le=5)

    @field_validator("evaluations")
    @classmethod
    def _unique_names(cls, v: list[Evaluation]) -> list[Evaluation]:
        names = [e.name for e in v]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"evaluation names must be unique; repeated: {sorted(dup)}")
        return v

    @model_validator(mode="after")
    def _check(self) -> PolicyDesign:
        by_name = {e.name: e for e in self.evaluations}
        for i, seg in enumerate(self.segments):
            if seg.gate is not None:
                if seg.gate not in by_name:
                    raise FieldError(
                        ("segments", i, "gate"),
                        f"{one_of(seg.gate, sorted(by_name), 'evaluation')}; a gate names "
                        "one of this policy's evaluations",
                    )
                if by_name[seg.gate].year >= seg.from_year:
                    raise FieldError(
                        ("segments", i, "gate"),
                        f"segments[{i}] starts in year {seg.from_year} but its gate "
                        f"'{seg.gate}' is evaluated at the end of year {by_name[seg.gate].year}; "
                        "a gate must be evaluated before the years it gates",
                    )
            if seg.matching and self.matching is None:
                raise FieldError(
                    ("segments", i, "matching"),
                    f"segments[{i}] has matching: true but the policy has no 'matching'",
                )
        self._check_overlaps()
        return self

    def _check_overlaps(self) -> None:
        """Segments may share years only when one of them says ``adds: true``.

        The schedule adds the amounts of segments that share a year; written by accident (1–10 at
        700 and 8–15 at 350), that pays 1,050 M yen in years 8–10 without a word.
        """
        far = 10**6  # stands for "forever" in the comparison

        def last(seg: Segment) -> int:
            return far if seg.to_year == FOREVER else int(seg.to_year)

        for j, later in enumerate(self.segments):
            for i, earlier in enumerate(self.segments[:j]):
                lo = max(earlier.from_year, later.from_year)
                hi = min(last(earlier), last(later))
                if lo > hi or earlier.adds or later.adds:
                    continue
                shared = f"{lo}–{'forever' if hi == far else hi}" if lo != hi else str(lo)
                raise FieldError(
                    ("segments", j),
                    f"segments[{j}] (years {later.from_year}–{later.to_year}) overlaps "
                    f"segments[{i}] (years {earlier.from_year}–{earlier.to_year}) in years "
                    f"{shared}, where both would be paid; make the "
                    f"years not overlap, or write 'adds: true' on segments[{j}] if its amount is "
                    "a top-up paid on top",
                )

    @property
    def display(self) -> str:
        """The label, or the name when no label is given."""
        return self.label or self.name

    def plan_in_force(self, year: int | np.ndarray) -> bool | np.ndarray:
        """Whether a growth plan shapes ``year`` (False for every year without a plan)."""
        if isinstance(year, int):
            return self.growth_plan is not None and year > self.growth_plan.year
        if self.growth_plan is None:
            return np.zeros(np.shape(year), dtype=bool)
        return self.growth_plan.in_force(year)

    def host_commitment_seen(self, year: int, without_plan: float) -> float:
        """How far centres and researchers believe their host's absorption promise in ``year``.

        The growth plan's checked commitment once it is in force, else ``without_plan``.
        """
        if self.plan_in_force(year):
            return self.growth_plan.host_commitment
        return without_plan

    def fundraising_push(self, year: int) -> float:
        """The growth plan's factor on a centre's search for private money in ``year``."""
        if self.plan_in_force(year):
            return self.growth_plan.private_funding_push
        return 1.0

    def host_conversion_multiplier(self, year: int | np.ndarray) -> float | np.ndarray:
        """The growth plan's factor on the host's conversion of posts in ``year``."""
        mult = self.growth_plan.host_conversion_multiplier if self.growth_plan else 1.0
        return np.where(self.plan_in_force(year), mult, 1.0)

    def host_commitment_floor(self, year: int | np.ndarray, own: float) -> float | np.ndarray:
        """A host's commitment in ``year``: the plan raises ``own`` to the plan's level."""
        raised = max(own, self.growth_plan.host_commitment) if self.growth_plan else 0.0
        return np.where(self.plan_in_force(year), raised, own)

    def last_year(self) -> int | None:
        """Last year any segment can pay, or None when support never ends."""
        ends = [s.to_year for s in self.segments]
        if FOREVER in ends:
            return None
        return max(int(e) for e in ends)
