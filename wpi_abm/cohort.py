"""The simulated cohort: centres, their hosts, and the companies and foundations around them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PrivateAttr, model_validator

from wpi_abm.parameters import RankHeadcount
from wpi_abm.schema import FieldError, Money, Positive, Probability, Strict, one_of
from wpi_abm.schema.vocabulary import RESEARCH_FIELDS

Name = Annotated[str, Field(min_length=1, max_length=60)]
CalendarYear = Annotated[int, Field(ge=1, le=3000)]
"""A year in the cohort's calendar: a model year, or a fiscal year (``first_fiscal_year``)."""


class HostSpec(Strict):
    """A host institution.

    Attributes:
        name: Identifier.
        strength: Size of its permanent budget relative to a large national university (1.0).
        commitment: How far it is willing to carry the centre after support (0–1).
    """

    name: Name
    strength: Positive
    commitment: Probability


class CentreSpec(Strict):
    """A research centre at the start of its support.

    Attributes:
        name: Identifier.
        field: Research field (companies and foundations favour some fields).
        host: Name of its host institution.
        planned: Planned headcount by rank when fully built.
        initial_fill: Share of the planned headcount present in year 1 (PIs come first).
        reputation: Starting reputation (1.0 = a typical WPI centre).
        foreign_share: Foreign share of the first researchers.
        start: Year of the centre's first supported year, in the cohort's calendar (model
            years, or fiscal years if the cohort sets ``first_fiscal_year``); default: the
            run's first year. A centre that
            starts later than the run exists from then on: before, it has no people, no money and
            no partners, and its support years count from its start.
        subsidy_history: Subsidy the centre actually received, by year of the cohort's calendar
            (M yen): history given as input. The policy design pays from the year after the last
            of these years (its evaluations before then count as passed, its features act from
            then on).
        co_hosts: Further host institutions (a Multiple-Host centre such as AIMEC, hosted by
            Tohoku University and JAMSTEC); their terms add up, and each shares its capacity
            with the other centres it hosts.
        subsidy_scale: The design's subsidy amounts for this centre, as a multiple of the
            design's (AIMEC's cap is 1,000 M yen a year against the usual 700); matching is not
            scaled.
    """

    name: Name
    field: Name
    host: Name
    co_hosts: list[Name] = []
    subsidy_scale: Positive = 1.0
    planned: RankHeadcount
    initial_fill: Probability
    reputation: Positive
    foreign_share: Probability
    start: CalendarYear | None = None
    subsidy_history: dict[CalendarYear, Money] = {}
    # Model year = calendar year - _shift (set by the cohort from its first_fiscal_year).
    _shift: int = PrivateAttr(default=0)

    @property
    def first_year(self) -> int:
        """Model year of the centre's first supported year."""
        return 1 if self.start is None else self.start - self._shift

    @property
    def history(self) -> dict[int, float]:
        """Subsidy history by model year."""
        return {y - self._shift: a for y, a in self.subsidy_history.items()}

    @property
    def policy_from(self) -> int:
        """First model year in which the policy design (not the history) pays this centre."""
        return max(self.first_year, max(self.history, default=0) + 1)

    @model_validator(mode="after")
    def _has_pis(self) -> CentreSpec:
        if self.planned.pi < 1:
            raise ValueError("a centre needs at least one PI (the seed requires 7–10+)")
        early = sorted(y for y in self.subsidy_history if self.start and y < self.start)
        if early:
            raise FieldError(
                ("subsidy_history",),
                f"years {early} come before the centre's start ({self.start}); history "
                "starts at the centre's first supported year",
            )
        return self


class PartnershipInput(Strict):
    """A partnership that happened (history given as input), in the cohort's calendar.

    Attributes:
        centre: The centre's name.
        amount: Yearly payment (M yen).
        first: First year paid.
        last: Last year agreed; after it the company decides on renewal as the model does.
    """

    centre: Name
    amount: Money
    first: CalendarYear
    last: CalendarYear

    @model_validator(mode="after")
    def _ordered(self) -> PartnershipInput:
        if self.last < self.first:
            raise FieldError(("last",), f"last year {self.last} is before first {self.first}")
        return self


class GiftInput(Strict):
    """A founding gift to an endowment that happened (history given as input).

    Attributes:
        centre: The centre's name.
        year: Year of the gift, in the cohort's calendar.
        gift: Size of the gift (M yen); the fund then grows, pays out and is topped up as the
            model's foundations do.
    """

    centre: Name
    year: CalendarYear
    gift: Money


class CompanySpec(Strict):
    """A company that may offer a comprehensive partnership.

    Attributes:
        name: Identifier.
        fields: Fields it funds.
        max_annual: Largest yearly payment of one partnership (M yen).
        max_partnerships: How many partnerships it holds at once.
        history: Partnerships it held, as input (e.g. IFReC × Chugai, FY2017–FY2026).
    """

    name: Name
    fields: list[Name] = Field(min_length=1)
    max_annual: Money
    max_partnerships: Annotated[int, Field(ge=1, le=20)] = 1
    history: list[PartnershipInput] = []


class FoundationSpec(Strict):
    """A foundation that may endow centres.

    Attributes:
        name: Identifier.
        fields: Fields it funds.
        gift: Size of a founding gift to an endowment (M yen).
        max_endowments: How many centres it endows at most.
        history: Endowments it founded, as input (e.g. the Kavli IPMU fund, 2012).
    """

    name: Name
    fields: list[Name] = Field(min_length=1)
    gift: Money
    max_endowments: Annotated[int, Field(ge=1, le=20)] = 1
    history: list[GiftInput] = []


class Cohort(Strict):
    """Everything that exists at year 1 of a run.

    Attributes:
        extra_fields: Research fields this cohort uses beyond
            :data:`~wpi_abm.schema.vocabulary.RESEARCH_FIELDS` (declared, so that a misspelt
            field is still an error).
        first_fiscal_year: The fiscal year of model year 1. When set, every year written in the
            cohort (starts, subsidy history, partnerships and gifts given as input) is a fiscal
            year, and results carry fiscal years; when not, years are model years.
    """

    name: Name
    description: str = ""
    extra_fields: list[Name] = []
    first_fiscal_year: Annotated[int, Field(ge=1900, le=2200)] | None = None
    hosts: list[HostSpec] = Field(min_length=1)
    centres: list[CentreSpec] = Field(min_length=1, max_length=500)
    companies: list[CompanySpec] = []
    foundations: list[FoundationSpec] = []

    @model_validator(mode="after")
    def _references(self) -> Cohort:
        for kind in ("hosts", "centres", "companies", "foundations"):
            names = [x.name for x in getattr(self, kind)]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"{kind} names must be unique; repeated: {dup}")
        self._calendar()
        hosts = [h.name for h in self.hosts]
        for i, c in enumerate(self.centres):
            if c.host not in hosts:
                raise FieldError(
                    ("centres", i, "host"),
                    f"centre '{c.name}' names {one_of(c.host, hosts, 'host')}; a centre's host "
                    "is one of the cohort's hosts",
                )
            for k, h in enumerate(c.co_hosts):
                if h not in hosts or h == c.host or c.co_hosts.count(h) > 1:
                    raise FieldError(
                        ("centres", i, "co_hosts", k),
                        f"centre '{c.name}' names {one_of(h, hosts, 'host')}; a co-host is "
                        "another of the cohort's hosts, named once",
                    )
        # Fields are a closed vocabulary: a misspelt field would be a new field no company or
        # foundation funds, and the run would go on with it.
        fields = [*RESEARCH_FIELDS, *self.extra_fields]
        used: list[tuple[tuple[str | int, ...], str]] = [
            (("centres", i, "field"), c.field) for i, c in enumerate(self.centres)
        ]
        for kind in ("companies", "foundations"):
            for i, funder in enumerate(getattr(self, kind)):
                used += [((kind, i, "fields", k), f) for k, f in enumerate(funder.fields)]
        for loc, value in used:
            if value not in fields:
                raise FieldError(
                    loc,
                    f"{one_of(value, fields, 'research field')}; add a new field to the cohort's "
                    "extra_fields",
                )
        return self

    def model_year(self, year: int) -> int:
        """The model year of ``year`` in the cohort's calendar."""
        return year - (self.first_fiscal_year - 1 if self.first_fiscal_year else 0)

    def fiscal_year(self, model_year: int) -> int | None:
        """The fiscal year of a model year (None when the cohort has no fiscal calendar)."""
        return self.first_fiscal_year + model_year - 1 if self.first_fiscal_year else None

    def _calendar(self) -> None:
        """Check every year written in the calendar; tell each centre its shift."""
        shift = self.first_fiscal_year - 1 if self.first_fiscal_year else 0
        first = shift + 1
        what = "the cohort's first_fiscal_year" if shift else "model year 1"
        names = [c.name for c in self.centres]
        for i, c in enumerate(self.centres):
            if c.start is not None and c.start < first:
                raise FieldError(
                    ("centres", i, "start"), f"start {c.start} is before {what} ({first})"
                )
            c._shift = shift
        for kind in ("companies", "foundations"):
            for i, funder in enumerate(getattr(self, kind)):
                for k, event in enumerate(funder.history):
                    loc = (kind, i, "history", k)
                    if event.centre not in names:
                        raise FieldError((*loc, "centre"), one_of(event.centre, names, "centre"))
                    deal = isinstance(event, PartnershipInput)
                    year, key = (event.first, "first") if deal else (event.year, "year")
                    start = self.centres[names.index(event.centre)].start or first
                    if year < start:
                        raise FieldError(
                            (*loc, key),
                            f"year {year} is before centre '{event.centre}' starts ({start})",
                        )
