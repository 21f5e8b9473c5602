"""The programme: government and programme committee applying a policy design to every centre.

It owes each centre the subsidy the :class:`~wpi_abm.schedule.Schedule` gives for the centre's
evaluation record, pays matching on eligible private funds, keeps unspent programme money for later
years where the design is flexible, and evaluates centres with a noisy assessment of their
indicators. All methods work on every centre of a run at once (arrays indexed by centre).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from wpi_abm.parameters import SCORE_KEYS, ProgrammeParams
from wpi_abm.policy import PolicyDesign
from wpi_abm.schedule import GateRecord, Schedule, compile_schedule


class Programme:
    """Applies one policy design to the centres of a run.

    Args:
        policy: The design.
        horizon: Years simulated.
        lookahead: Extra years compiled for foresight beyond the horizon.
        params: The programme's behavioural parameters.
        n_centres: Number of centres.

    Attributes:
        records: Each centre's evaluation record.
        amounts: (n_centres, years) subsidy owed per year given each record.
        match_open: (n_centres, years) whether matching is paid.
        secured: (n_centres, years) last year of certain support seen from each year.
        envelope_end: Last year each centre may still be paid if pending gates are passed.
        deferred: Unspent programme money kept for later years (flexible designs).
    """

    def __init__(
        self,
        policy: PolicyDesign,
        horizon: int,
        lookahead: int,
        params: ProgrammeParams,
        n_centres: int,
    ) -> None:
        self.policy = policy
        self.schedule: Schedule = compile_schedule(
            policy, horizon, lookahead, params.support_end_fraction
        )
        self.params = params
        self.n = n_centres
        size = self.schedule.length + 1
        self.records = [GateRecord({}) for _ in range(n_centres)]
        self.amounts = np.zeros((n_centres, size))
        self.match_open = np.zeros((n_centres, size), dtype=bool)
        self.secured = np.zeros((n_centres, size), dtype=np.int64)
        self.envelope_end = np.zeros(n_centres, dtype=np.int64)
        self.factor = np.ones(n_centres)
        self.deferred = np.zeros(n_centres)
        # Subsidy each centre has used so far (what is left of a flexible envelope).
        self.used = np.zeros(n_centres)
        # Eligible private funds each centre received, by year (row = year): the matching basis.
        self.raised = np.zeros((size + 1, n_centres))
        self.last_score = np.full(n_centres, np.nan)
        # Outcome of each gate per centre: 1 passed, 0 failed, NaN pending.
        self.gate_state = {g: np.full(n_centres, np.nan) for g in self.schedule.gates}
        for c in range(n_centres):
            self._refresh(c)
        total = sum(params.score_weights.values())
        self._score_vector = np.array(
            [params.score_weights.get(k, 0.0) / total / params.score_targets[k] for k in SCORE_KEYS]
        )
        self._flex_from = self.schedule.flex_from
        self._foresight_from = self.schedule.foresight_from

    def _refresh(self, c: int) -> None:
        plan = self.schedule.plan(self.records[c])
        self.amounts[c] = plan.amounts
        self.match_open[c] = plan.matching
        self.secured[c] = plan.secured[: len(plan.amounts)]
        self.envelope_end[c] = plan.envelope_end
        self.factor[c] = self.records[c].factor

    def _col(self, year: int) -> int | None:
        return year if year <= self.schedule.length else None

    # -- money --------------------------------------------------------------------------------
    def owed(self, year: int, draw: np.ndarray | None = None) -> np.ndarray:
        """Subsidy owed to each centre in ``year`` (before matching and carry-over).

        Args:
            year: The year.
            draw: Under a glide (flexible) design, the draw each centre chose for ``year`` from
                what is left of its envelope (paid within it); ignored otherwise.
        """
        if draw is not None and self.gliding(year):
            # Within what is left, and only while the envelope is open (then it lapses).
            paid = np.clip(draw, 0.0, self.envelope_left())
            return np.where(year <= self.envelope_end, paid, 0.0)
        col = self._col(year)
        # A copy: evaluations rewrite the schedule rows later in the year.
        return self.amounts[:, col].copy() if col is not None else np.zeros(self.n)

    # -- the flexible envelope ------------------------------------------------------------------
    def gliding(self, year: int) -> bool:
        """Whether centres choose ``year``'s draw from their envelope (glide designs)."""
        return self.schedule.glide and year >= self._flex_from

    def envelope_left(self) -> np.ndarray:
        """Subsidy each centre may still draw: its schedule's total (given its record) less use."""
        return np.maximum(0.0, self.amounts.sum(axis=1) - self.used)

    def matching_ahead(
        self, year: int, years: np.ndarray, beliefs: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Matching each centre expects over ``years`` years from ``year``, at its basis now."""
        fixed, gated = self.schedule.match_years_between(year, year + years - 1)
        expected = fixed.astype(float)
        for gate, count in gated.items():
            expected = expected + beliefs.get(gate, 0.0) * count
        return expected * self.match_amount(year)

    def record_used(self, subsidy: np.ndarray) -> None:
        """Add the subsidy each centre used this year to what it has used."""
        self.used += subsidy

    def envelope_years(self, year: int, beliefs: dict[str, np.ndarray]) -> np.ndarray:
        """Years from ``year`` to the end of the envelope a centre plans for (≥ 1).

        A centre plans to the end of its envelope if the gates still pending are more likely
        than not to be passed (it believes its follow-up), else to the end of its secured
        subsidy: failing a gate such as certification closes the envelope (※4), and what is
        left of it lapses.
        """
        p = np.ones(self.n)
        for gate, belief in beliefs.items():
            p = p * np.where(np.isnan(self.gate_state[gate]), belief, 1.0)
        col = self._col(year)
        secured = self.secured[:, col] if col is not None else np.full(self.n, year - 1)
        end = np.where(p >= 0.5, self.envelope_end, secured)
        return np.maximum(end - year + 1, 1)

    def record_raised(self, year: int, eligible: np.ndarray) -> None:
        """Record the eligible private funds each centre received in ``year``."""
        if year < len(self.raised):
            self.raised[year] = eligible

    def basis(self, year: int) -> np.ndarray:
        """Private funds raised *before* ``year`` that count for its matching, per centre.

        ※1 and the slide 今後（2024年度～）: matching "according to the external funds raised up to
        then" (「それまでの外部資金の獲得額等に応じ」): the funds of years 1..year−1, or of the
        last ``basis_years`` of them.
        """
        m = self.schedule.matching
        last = min(year - 1, len(self.raised) - 1)
        first = 1 if m is None or m.basis_years is None else max(1, year - m.basis_years)
        if last < first:
            return np.zeros(self.n)
        return self.raised[first : last + 1].sum(axis=0)

    def matching(self, year: int) -> np.ndarray:
        """Matching owed in ``year``: the rule on each centre's basis, in its matching years."""
        col = self._col(year)
        if col is None or self.schedule.matching is None:
            return np.zeros(self.n)
        return np.where(self.match_open[:, col], self.match_amount(year), 0.0)

    def match_amount(self, year: int) -> np.ndarray:
        """Matching each centre would receive in ``year`` if it were a matching year."""
        if self.schedule.matching is None:
            return np.zeros(self.n)
        return self.schedule.matching.amount(self.basis(year)) * self.factor

    def match_incentive(self, year: int, beliefs: dict[str, np.ndarray]) -> np.ndarray:
        """Matching a centre can expect per extra yen it raises now (0 when none lies ahead).

        The ratio, times the chance the centre gives to being paid matching in the matching years
        still ahead (1 when ungated; its belief in the gate before the gate is decided), while
        its basis is below the cap (beyond it, more private money earns no more matching).
        """
        m = self.schedule.matching
        last = self.schedule.last_match_year
        if m is None or last is None or year > last:
            return np.zeros(self.n)
        possible = self.schedule.window_match_possible(year, last)
        _, years = self.expected(year, last, beliefs)
        uncapped = m.ratio * self.basis(year) < m.cap
        return m.ratio * (years / possible) * uncapped * (self.factor > 0)

    def flexible(self, year: int) -> bool:
        """Whether the yearly amount is flexible in ``year`` (either rule)."""
        return year >= self._flex_from

    def carries_over(self, year: int) -> bool:
        """Whether unspent programme money is kept for later years (``carry_over`` rule)."""
        return self.flexible(year) and not self.schedule.glide

    def carry_over(self, year: int) -> np.ndarray:
        """Unspent programme money each centre may still draw in ``year``.

        Once a centre's envelope has closed, what is left goes back to the government.
        """
        if not self.carries_over(year):
            return np.zeros(self.n)
        self.deferred[year > self.envelope_end] = 0.0
        return self.deferred.copy()

    def secured_until(self, year: int) -> np.ndarray:
        """Per centre, the last year through which support is certain (``year - 1`` if none)."""
        col = self._col(year)
        if col is None:
            return np.full(self.n, year - 1)
        return self.secured[:, col].copy()

    def in_support(self, year: int) -> np.ndarray:
        """Whether the programme pays each centre anything in ``year``."""
        col = self._col(year)
        if col is None:
            return np.zeros(self.n, dtype=bool)
        return (self.amounts[:, col] > 0) | self.match_open[:, col]

    # -- foresight ----------------------------------------------------------------------------
    def beliefs(self, year: int, score_now: np.ndarray) -> dict[str, np.ndarray]:
        """Probability each centre gives to passing each gate (1/0 once decided).

        With the yearly follow-up (foresight) a centre knows its current assessment and the bar;
        without it, it holds a prior belief.
        """
        out = {}
        sd = max(self.params.assessment_noise_sd, 1e-6)
        for gate, state in self.gate_state.items():
            undecided = np.isnan(state)
            if not undecided.any():
                out[gate] = state
            elif year >= self._foresight_from:
                bar = self.schedule.evaluations[gate].pass_score
                # Before any score exists (year 1) the follow-up says nothing: 50/50.
                z = np.where(np.isnan(score_now), 0.0, score_now - bar) / sd
                out[gate] = np.where(undecided, ndtr(z), state)
            else:
                out[gate] = np.where(undecided, self.params.prior_gate_belief, state)
        return out

    def expected(
        self, first: int, last: int, beliefs: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expected subsidy and expected matching years over ``first..last``, per centre."""
        s = self.schedule
        lo, hi = first, min(last, s.length)
        if lo > hi:
            return np.zeros(self.n), np.zeros(self.n)
        total = np.full(self.n, s.window_fixed(lo, hi))
        years = np.full(self.n, s.window_match(lo, hi))
        for gate, p in beliefs.items():
            on_pass, on_fail = s.window_gated(gate, lo, hi)
            total += p * on_pass + (1 - p) * on_fail
            years += p * s.window_match_gated(gate, lo, hi)
        return total * self.factor, years * (self.factor > 0)

    # -- evaluation ---------------------------------------------------------------------------
    def score(self, indicators: np.ndarray) -> np.ndarray:
        """The committee's score of each centre (1.0 = on every target).

        Args:
            indicators: (n_centres, 4) in the order of :data:`SCORE_KEYS`.
        """
        return indicators @ self._score_vector

    def evaluate(self, year: int, true_scores: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """Run the evaluation due at the end of ``year`` for every centre, if any.

        Args:
            year: The year.
            true_scores: The committee's view of each centre (see :meth:`score`).
            noise: Assessment noise per centre. The model draws it every year whether or not an
                evaluation is due, so that the stream's use does not depend on the design.

        Returns:
            1.0 / 0.0 per centre for pass / fail, NaN where no evaluation took place.
        """
        outcome = np.full(self.n, np.nan)
        ev = self.schedule.eval_years.get(year)
        if ev is None:
            return outcome
        assessed = true_scores + noise
        self.last_score[:] = assessed
        for c in range(self.n):
            passed = bool(assessed[c] >= ev.pass_score)
            rec = self.records[c]
            factor = rec.factor
            if not passed:
                if ev.on_fail == "stop":
                    factor = 0.0
                elif ev.on_fail == "cut":
                    factor *= 1.0 - ev.cut_fraction
            self.records[c] = GateRecord({**rec.passed, ev.name: passed}, factor)
            self._refresh(c)
            outcome[c] = float(passed)
        if ev.name in self.gate_state:
            self.gate_state[ev.name][:] = outcome
        return outcome
