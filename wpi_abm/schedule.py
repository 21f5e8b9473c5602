"""What a policy design pays, year by year: the compiled schedule and each record's plan.

:func:`compile_schedule` turns a :class:`~wpi_abm.policy.PolicyDesign` (data) into year-indexed
arrays; a :class:`Schedule` evaluates them for an evaluation record (:class:`GateRecord`) into a
:class:`Plan`: amounts, matching years, secured support and the envelope's end. The programme
(:mod:`wpi_abm.sim.programme`) applies it to every centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from wpi_abm.policy import PolicyDesign


def compile_schedule(
    policy: PolicyDesign, horizon: int, lookahead: int, end_fraction: float, **clock: object
) -> Schedule:
    """The year-indexed schedule of ``policy`` for runs of ``horizon`` years.

    Args:
        policy: The design.
        horizon: Years simulated.
        lookahead: Extra years compiled for foresight.
        end_fraction: Support ends where the subsidy falls below this share of the year before
            (see :class:`Plan`).
        **clock: The centres' ``start``, ``history`` and ``scale`` (see :meth:`Schedule.build`).
    """
    return Schedule.build(policy, horizon + lookahead, end_fraction, **clock)  # type: ignore[arg-type]


@dataclass(frozen=True)
class GateRecord:
    """A centre's evaluation outcomes so far.

    Attributes:
        passed: evaluation name → True/False once evaluated; absent while pending.
        factor: Multiplier on later payments from cuts (1.0 = none, 0.0 = stopped).
    """

    passed: dict[str, bool]
    factor: float = 1.0


class Schedule:
    """Year-indexed subsidy arrays of one policy; index ``y`` is model year ``y`` (0 unused).

    Model year and support year coincide for centres that start in year 1; a centre that starts
    in model year ``start`` has its support year ``s`` at model year ``start + s - 1``, and its
    schedule is the design's shifted by ``start - 1`` (with its history, if any, in front).

    The amount owed in year ``y`` is ``(fixed[y] + Σ_g gated_g[y]) × factor`` where each gated
    array is the pass or the fail variant depending on the centre's record. Matching years are
    years where matching applies (on top of the amount). Because a record changes only at
    evaluations, everything that follows from a record is computed once and cached as a
    :class:`Plan`.
    """

    def __init__(
        self,
        policy: PolicyDesign,
        fixed: np.ndarray,
        gated: dict[str, tuple[np.ndarray, np.ndarray]],
        match_fixed: np.ndarray,
        match_gated: dict[str, np.ndarray],
        end_fraction: float,
        start: int = 1,
        policy_from: int = 1,
    ) -> None:
        self.policy = policy
        self.length = len(fixed) - 1
        self.fixed = fixed
        self.gated = gated
        self.match_fixed = match_fixed
        self.match_gated = match_gated
        self.gates = frozenset(gated) | frozenset(match_gated)
        self.start = start
        self.policy_from = policy_from
        self.evaluations = {e.name: e for e in policy.evaluations}
        shift = start - 1
        # Evaluations due before the design applies are history: every centre passed them.
        self.eval_years = {
            e.year + shift: e for e in policy.evaluations if e.year + shift >= policy_from
        }
        self.passed_before = frozenset(
            e.name for e in policy.evaluations if e.year + shift < policy_from
        )
        self.matching = policy.matching
        self.end_fraction = end_fraction
        self.match_eligible = frozenset(policy.matching.eligible if policy.matching else ())
        flex = policy.flexibility
        self.flex_from = max(flex.from_year + shift, policy_from) if flex else math.inf
        self.glide = flex is not None and flex.rule == "glide"
        self.foresight_from = (
            max(policy.foresight.from_year + shift, policy_from) if policy.foresight else math.inf
        )
        # Last year any record could be paid matching (None: no matching year); asked every year.
        possible = match_fixed.copy()
        for mask in match_gated.values():
            possible |= mask
        matching_years = np.flatnonzero(possible)
        self.last_match_year = int(matching_years[-1]) if len(matching_years) else None
        self._plans: dict[tuple[tuple[tuple[str, bool], ...], float], Plan] = {}
        # Prefix sums for expected amounts over a window: cum[y] = sum of years 1..y-1.
        self._cum_fixed = np.concatenate(([0.0], np.cumsum(fixed)))
        self._cum_match = np.concatenate(([0.0], np.cumsum(match_fixed)))
        self._cum_gated = {
            g: (np.concatenate(([0.0], np.cumsum(a))), np.concatenate(([0.0], np.cumsum(b))))
            for g, (a, b) in gated.items()
        }
        self._cum_match_gated = {
            g: np.concatenate(([0.0], np.cumsum(m))) for g, m in match_gated.items()
        }

    @classmethod
    def build(
        cls,
        policy: PolicyDesign,
        length: int,
        end_fraction: float,
        start: int = 1,
        history: dict[int, float] | None = None,
        scale: float = 1.0,
    ) -> Schedule:
        """Compile ``policy`` into arrays covering model years 1..length.

        Args:
            policy: The design.
            length: Last model year covered.
            end_fraction: See :class:`Plan`.
            start: Model year of the centres' first supported year: the design's support year
                ``s`` falls in model year ``start + s - 1``.
            history: Subsidy paid in past model years (input, not the design's rule): those
                years pay exactly that, ungated and without matching, and the design applies
                from the year after the last of them — unless that last year paid nothing: a
                centre whose support had ended gets nothing from the design.
            scale: Multiple of the design's amounts paid (history and matching unscaled).
        """
        shift = start - 1
        if shift or history or scale != 1.0:
            own = cls.build(policy, length, end_fraction)
            return own._shifted(shift, history or {}, scale)
        size = length + 1
        fixed = np.zeros(size)
        match_fixed = np.zeros(size, dtype=bool)
        gated: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        match_gated: dict[str, np.ndarray] = {}
        for seg in policy.segments:
            start, amt = seg.amounts(length, "amount")
            sl = slice(start, start + len(amt))
            if seg.gate is None:
                fixed[sl] += amt
                if seg.matching:
                    match_fixed[sl] = True
            else:
                on_pass, on_fail = gated.setdefault(seg.gate, (np.zeros(size), np.zeros(size)))
                on_pass[sl] += amt
                _, other = seg.amounts(length, "otherwise")
                on_fail[sl] += other
                if seg.matching:
                    match_gated.setdefault(seg.gate, np.zeros(size, dtype=bool))[sl] = True
        return cls(policy, fixed, gated, match_fixed, match_gated, end_fraction)

    def _shifted(self, shift: int, history: dict[int, float], scale: float = 1.0) -> Schedule:
        """This support-year schedule moved ``shift`` years later, with ``history`` in front."""
        size = self.length + 1

        def move(a: np.ndarray) -> np.ndarray:
            out = np.zeros_like(a)
            out[shift + 1 :] = a[1 : size - shift]
            return out

        fixed = move(self.fixed) * scale
        gated = {g: (move(a) * scale, move(b) * scale) for g, (a, b) in self.gated.items()}
        match_fixed = move(self.match_fixed)
        match_gated = {g: move(m) for g, m in self.match_gated.items()}
        if history and history[max(history)] == 0:
            # The history ends with a year unpaid: the centre has left the programme, and the
            # design does not take it back.
            last = max(history)
            fixed[last:] = 0.0
            match_fixed[last:] = False
            for a, b in gated.values():
                a[last:] = b[last:] = 0.0
            for m in match_gated.values():
                m[last:] = False
        for year, amount in history.items():
            if year < size:
                fixed[year] = amount
                match_fixed[year] = False
                for a, b in gated.values():
                    a[year] = b[year] = 0.0
                for m in match_gated.values():
                    m[year] = False
        policy_from = max(shift + 1, max(history, default=0) + 1)
        return type(self)(
            self.policy, fixed, gated, match_fixed, match_gated, self.end_fraction,
            shift + 1, policy_from,
        )  # fmt: skip

    def plan(self, record: GateRecord) -> Plan:
        """Everything that follows from ``record`` (cached)."""
        key = (tuple(sorted(record.passed.items())), record.factor)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan.build(self, record)
        return plan

    def window_fixed(self, lo: int, hi: int) -> float:
        """Ungated subsidy over years lo..hi (within the schedule)."""
        return float(self._cum_fixed[hi + 1] - self._cum_fixed[lo])

    def window_match(self, lo: int, hi: int) -> float:
        """Ungated matching years within lo..hi."""
        return float(self._cum_match[hi + 1] - self._cum_match[lo])

    def window_gated(self, gate: str, lo: int, hi: int) -> tuple[float, float]:
        """Subsidy over lo..hi gated by ``gate``: (if passed, if not passed)."""
        if gate not in self._cum_gated:
            return 0.0, 0.0
        cp, cf = self._cum_gated[gate]
        return float(cp[hi + 1] - cp[lo]), float(cf[hi + 1] - cf[lo])

    def match_years_between(self, lo: int, hi: np.ndarray) -> tuple[np.ndarray, dict]:
        """Matching years within lo..hi, ``hi`` per centre (none where hi < lo).

        Returns:
            The ungated count, and per gate the count opened by passing it.
        """
        hi = np.where(np.minimum(hi, self.length) >= lo, np.minimum(hi, self.length), lo - 1)
        fixed = self._cum_match[hi + 1] - self._cum_match[lo]
        gated = {g: cm[hi + 1] - cm[lo] for g, cm in self._cum_match_gated.items()}
        return fixed, gated

    def window_match_possible(self, lo: int, hi: int) -> float:
        """Years within lo..hi that pay matching under some record (gates passed)."""
        gated = sum(self.window_match_gated(g, lo, hi) for g in self.match_gated)
        return self.window_match(lo, hi) + gated

    def window_match_gated(self, gate: str, lo: int, hi: int) -> float:
        """Matching years within lo..hi opened by passing ``gate``."""
        if gate not in self._cum_match_gated:
            return 0.0
        cm = self._cum_match_gated[gate]
        return float(cm[hi + 1] - cm[lo])


@dataclass(frozen=True)
class Plan:
    """What a schedule gives one evaluation record, year by year (lists for fast scalar access).

    Attributes:
        amounts: Subsidy owed per year (index = year; beyond the schedule: 0).
        matching: Whether matching is paid per year.
        secured: For each year, the last year through which subsidy is certain (matching-only
            years are expected money, never secured; a fall below ``end_fraction`` of the
            year before ends secured support).
        envelope_end: Last year the programme may still pay if pending gates are passed.
    """

    amounts: list[float]
    matching: list[bool]
    secured: list[int]
    envelope_end: int

    @classmethod
    def build(cls, schedule: Schedule, record: GateRecord) -> Plan:
        """Evaluate ``schedule`` for ``record``."""

        def amounts_for(passed: dict[str, bool]) -> tuple[np.ndarray, np.ndarray]:
            total = schedule.fixed.copy()
            for gate, (on_pass, on_fail) in schedule.gated.items():
                total += on_pass if passed.get(gate, False) else on_fail
            match = schedule.match_fixed.copy()
            for gate, mask in schedule.match_gated.items():
                if passed.get(gate, False):
                    match |= mask
            if record.factor == 0.0:
                match[:] = False
            return total * record.factor, match

        amounts, match = amounts_for(record.passed)
        # Only subsidy is secured support: years that pay matching alone pay expected money
        # (it depends on the funds raised), so they never extend what a centre can count on.
        # Nor does a subsidy that falls below end_fraction of the year before (a cliff to a
        # token amount ends support as surely as a cliff to zero): support is secured from year
        # y through the years whose subsidy stays positive and above that share of the last.
        n = len(amounts)
        fraction = schedule.end_fraction
        secured = [0] * (n + 1)
        secured[n] = n - 1
        for y in range(n - 1, -1, -1):
            if amounts[y] <= 0:
                secured[y] = y - 1
            elif y + 1 < n and amounts[y + 1] > 0 and amounts[y + 1] >= fraction * amounts[y]:
                secured[y] = secured[y + 1]
            else:
                secured[y] = y
        optimistic = {g: record.passed.get(g, True) for g in schedule.gates}
        o_amounts, o_match = amounts_for(optimistic)
        o_paying = np.flatnonzero((o_amounts > 0) | o_match)
        envelope_end = int(o_paying[-1]) if len(o_paying) else 0
        return cls(amounts.tolist(), match.tolist(), secured, envelope_end)

    def amount_at(self, year: int) -> float:
        """Subsidy owed in ``year``."""
        return self.amounts[year] if year < len(self.amounts) else 0.0

    def matching_at(self, year: int) -> bool:
        """Whether matching is paid in ``year``."""
        return self.matching[year] if year < len(self.matching) else False

    def secured_at(self, year: int) -> int:
        """Last year through which support is certain, seen from ``year``."""
        return self.secured[year] if year < len(self.secured) else year - 1
