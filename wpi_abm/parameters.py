"""Behavioural parameters of the model (``configs/parameters/*.yaml``).

Every field is required: the packaged ``default.yaml`` is the single place where values and their
sources are written down (docs/ODD.md lists them too). Money in million yen (M yen) per year.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, create_model, model_validator

from wpi_abm.schema import (
    FieldError,
    Money,
    NonNegative,
    Positive,
    Probability,
    Real,
    Share,
    Strict,
)

SCORE_KEYS = ("top10_share", "foreign_share", "intl_share", "size")
"""Indicators the programme committee assesses, in the order the model records them."""
SCORE_SHARES = ("top10_share", "foreign_share", "intl_share")
"""The assessed indicators that are shares (``size`` is relative to the plan and may exceed 1)."""


class ByRank(Strict):
    """One value per researcher rank (concrete subclasses fix the value type)."""

    def as_tuple(self) -> tuple[Any, Any, Any, Any]:
        """Values in rank order (PI, researcher, postdoc, specialist staff)."""
        return (self.pi, self.researcher, self.postdoc, self.staff)  # type: ignore[attr-defined]


def _by_rank(name: str, value: Any) -> type[ByRank]:
    # Named module-level classes (not ByRank[T]) so that configurations pickle to workers.
    cls = create_model(
        name,
        __base__=ByRank,
        __module__=__name__,
        pi=(value, ...),
        researcher=(value, ...),
        postdoc=(value, ...),
        staff=(value, ...),
    )
    cls.__doc__ = f"One {name.removeprefix('Rank').lower()} value per researcher rank."
    return cls


RankMoney = _by_rank("RankMoney", Money)
RankProbability = _by_rank("RankProbability", Probability)
RankNonNegative = _by_rank("RankNonNegative", NonNegative)
RankYears = _by_rank("RankYears", Annotated[int, Field(ge=1, le=20)])
RankHeadcount = _by_rank("RankHeadcount", Annotated[int, Field(ge=0, le=2000)])


class MoneyParams(Strict):
    """Pay and research money."""

    salary: RankMoney
    research_norm_per_researcher: Positive
    reserve_cap: NonNegative


class Grants(Strict):
    """Researchers' own competitive grants (national money: never eligible for matching)."""

    per_head: RankMoney
    personnel_share: Share
    reputation_elasticity: NonNegative


class Researchers(Strict):
    """Stay/leave behaviour, contracts and talent."""

    base_leave: RankProbability
    insecurity_sensitivity: NonNegative
    foreign_outside_option: NonNegative
    talent_outside_option: NonNegative
    reputation_retention: NonNegative
    secure_contract_exposure: Share
    foresight_window: Annotated[int, Field(ge=1, le=10)]
    contract_years: RankYears
    productivity_sigma: NonNegative
    foreign_productivity_premium: Positive
    reputation_talent: NonNegative


class Recruitment(Strict):
    """How centres hire."""

    fill_rate: Probability
    fill_insecurity_sensitivity: Share
    foreign_hire_base: Probability
    foreign_hire_reputation_slope: Real
    foreign_hire_min: Probability
    foreign_hire_max: Probability
    max_size_factor: Annotated[float, Field(ge=0.5, le=5)]
    founding_pi_fill_bonus: Share

    @model_validator(mode="after")
    def _bounds(self) -> Recruitment:
        if self.foreign_hire_min > self.foreign_hire_max:
            raise ValueError("foreign_hire_min must not exceed foreign_hire_max")
        return self


class Output(Strict):
    """Papers, top-10% papers, international co-authorship."""

    papers_per_year: RankNonNegative
    publication_lag_weight: Share
    top10_base: Probability
    top10_talent_slope: NonNegative
    intl_base: Probability
    intl_per_foreign_share: NonNegative
    resource_elasticity: NonNegative
    resource_ratio_min: Positive
    resource_ratio_max: Positive
    staff_ratio: NonNegative
    staff_elasticity: NonNegative
    staff_support_floor: Annotated[float, Field(gt=0, le=1)]

    @model_validator(mode="after")
    def _range(self) -> Output:
        if self.resource_ratio_min > self.resource_ratio_max:
            raise ValueError("resource_ratio_min must not exceed resource_ratio_max")
        return self


class Reputation(Strict):
    """Reputation follows output with a lag."""

    lag_years: Annotated[float, Field(ge=1, le=20)]
    top10_per_researcher_ref: Positive
    floor: Annotated[float, Field(gt=0, le=1)]


class HostParams(Strict):
    """Host institutions: permanent posts, conversion, absorption, cash."""

    initial_permanent_share: RankProbability
    capacity_posts: NonNegative
    conversion_rate: NonNegative  # posts a year, not a share
    absorption_share: Share
    cash_support: Money
    operating_grant_decline: Annotated[float, Field(ge=0, lt=1)]
    commitment_belief: Probability


class CompanyParams(Strict):
    """Company comprehensive partnerships (the IFReC × Chugai model)."""

    offer_rate: Probability
    off_field_fit: Probability
    reputation_elasticity: NonNegative
    seek_multiplier: Positive
    min_share_of_max: Probability
    duration_years: Annotated[int, Field(ge=1, le=30)]
    renewal_midpoint: NonNegative
    renewal_steepness: NonNegative
    renewal_belief: Probability


class FoundationParams(Strict):
    """Foundation endowments (the Kavli IPMU model)."""

    gift_rate: Probability
    off_field_fit: Probability
    reputation_elasticity: NonNegative
    seek_multiplier: Positive
    topup_rate: Probability
    topup_share: NonNegative  # a multiple of the gift (Kavli IPMU: 1.25), not a share of it
    return_mean: Real
    return_sd: NonNegative
    return_floor: Annotated[float, Field(gt=-1, le=0)]
    spending_rate: Probability
    smoothing_years: Annotated[int, Field(ge=1, le=10)]
    min_national_support: Money


class ProgrammeParams(Strict):
    """The programme committee's assessment and what centres believe about future gates."""

    score_weights: dict[str, NonNegative]
    score_targets: dict[str, Positive]
    assessment_noise_sd: NonNegative
    prior_gate_belief: Probability
    seek_years_before_end: Annotated[int, Field(ge=0, le=10)]
    track_years: Annotated[int, Field(ge=1, le=10)]
    support_end_fraction: Annotated[float, Field(gt=0, le=1)]

    @model_validator(mode="after")
    def _weights(self) -> ProgrammeParams:
        allowed = set(SCORE_KEYS)
        bad = set(self.score_weights) - allowed
        if bad:
            raise ValueError(f"unknown score_weights {sorted(bad)}; allowed: {sorted(allowed)}")
        if set(self.score_targets) != allowed:
            raise ValueError(f"score_targets must give exactly {sorted(allowed)}")
        for key in SCORE_SHARES:
            if self.score_targets[key] > 1:
                raise FieldError(
                    ("score_targets", key),
                    f"{key} is a share: its target must be in (0, 1] "
                    f"(got {self.score_targets[key]})",
                )
        if sum(self.score_weights.values()) <= 0:
            raise ValueError("score_weights must not all be zero")
        return self


class CentreParams(Strict):
    """How centres plan."""

    matching_response: NonNegative


class Parameters(Strict):
    """All behavioural parameters."""

    money: MoneyParams
    grants: Grants
    researchers: Researchers
    recruitment: Recruitment
    output: Output
    reputation: Reputation
    host: HostParams
    company: CompanyParams
    foundation: FoundationParams
    programme: ProgrammeParams
    centre: CentreParams
