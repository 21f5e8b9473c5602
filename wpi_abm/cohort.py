"""The simulated cohort: centres, their hosts, and the companies and foundations around them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from wpi_abm.parameters import RankHeadcount
from wpi_abm.schema import FieldError, Money, Positive, Probability, Strict, one_of
from wpi_abm.schema.vocabulary import RESEARCH_FIELDS

Name = Annotated[str, Field(min_length=1, max_length=60)]


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
    """

    name: Name
    field: Name
    host: Name
    planned: RankHeadcount
    initial_fill: Probability
    reputation: Positive
    foreign_share: Probability

    @model_validator(mode="after")
    def _has_pis(self) -> CentreSpec:
        if self.planned.pi < 1:
            raise ValueError("a centre needs at least one PI (the seed requires 7–10+)")
        return self


class CompanySpec(Strict):
    """A company that may offer a comprehensive partnership.

    Attributes:
        name: Identifier.
        fields: Fields it funds.
        max_annual: Largest yearly payment of one partnership (M yen).
        max_partnerships: How many partnerships it holds at once.
    """

    name: Name
    fields: list[Name] = Field(min_length=1)
    max_annual: Money
    max_partnerships: Annotated[int, Field(ge=1, le=20)] = 1


class FoundationSpec(Strict):
    """A foundation that may endow centres.

    Attributes:
        name: Identifier.
        fields: Fields it funds.
        gift: Size of a founding gift to an endowment (M yen).
        max_endowments: How many centres it endows at most.
    """

    name: Name
    fields: list[Name] = Field(min_length=1)
    gift: Money
    max_endowments: Annotated[int, Field(ge=1, le=20)] = 1


class Cohort(Strict):
    """Everything that exists at year 1 of a run.

    Attributes:
        extra_fields: Research fields this cohort uses beyond
            :data:`~wpi_abm.schema.vocabulary.RESEARCH_FIELDS` (declared, so that a misspelt
            field is still an error).
    """

    name: Name
    description: str = ""
    extra_fields: list[Name] = []
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
        hosts = [h.name for h in self.hosts]
        for i, c in enumerate(self.centres):
            if c.host not in hosts:
                raise FieldError(
                    ("centres", i, "host"),
                    f"centre '{c.name}' names {one_of(c.host, hosts, 'host')}; a centre's host "
                    "is one of the cohort's hosts",
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
