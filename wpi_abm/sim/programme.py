"""The programme: government and programme committee applying a policy design to every centre.

It owes each centre the subsidy the :class:`~wpi_abm.schedule.Schedule` gives for the centre's
evaluation record, pays matching on eligible private funds, keeps unspent programme money for later
years where the design is flexible, and evaluates centres with a noisy assessment of their
indicators. All methods work on every centre of a run at once (arrays indexed by centre).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from scipy.special import ndtr

from wpi_abm.numerics import column_sums, matvec
from wpi_abm.parameters import SCORE_KEYS, ProgrammeParams
from wpi_abm.policy import Evaluation, PolicyDesign
from wpi_abm.schedule import GateRecord, Schedule, compile_schedule


class Programme:
    """Applies one policy design to the centres of a run.

    Args:
        policy: The design.
        horizon: Years simulated.
        lookahead: Extra years compiled for foresight beyond the horizon.
        params: The programme's behavioural parameters.
        n_centres: Number of centres.
        clocks: Per centre, its first year, its support history given as input and its subsidy
            scale (default: every centre starts in year 1 with no history, at scale 1).
        pass_score: Evaluation name → the score to pass it, per centre, where the worlds of a
            model take their pass scores from different posterior particles
            (:mod:`wpi_abm.sim.per_world`); an evaluation not named here has the design's.

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
        clocks: Sequence[tuple[int, dict[int, float], float]] | None = None,
        pass_score: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.policy = policy
        self.params = params
        self.n = n_centres
        self._pass_score = pass_score or {}
        # One schedule per distinct clock (start year and history); a cohort whose centres all
        # start together has one, and every method then works on all centres at once.
        clocks = list(clocks) if clocks is not None else [(1, {}, 1.0)] * n_centres
        keys = [(start, tuple(sorted(hist.items())), scale) for start, hist, scale in clocks]
        distinct = list(dict.fromkeys(keys))
        self.groups: list[tuple[Schedule, np.ndarray | slice]] = []
        for key in distinct:
            start, hist, scale = key
            sched = compile_schedule(
                policy,
                horizon,
                lookahead,
                params.support_end_fraction,
                start=start,
                history=dict(hist),
                scale=scale,
            )
            rows = slice(None) if len(distinct) == 1 else np.flatnonzero([k == key for k in keys])
            self.groups.append((sched, rows))
        self.schedule: Schedule = self.groups[0][0]
        self._schedule_of = [self.schedule] * n_centres
        if len(self.groups) > 1:
            self._schedule_of = [None] * n_centres  # type: ignore[list-item]
            for sched, rows in self.groups:
                for c in np.asarray(rows):
                    self._schedule_of[c] = sched
        size = self.schedule.length + 1
        # First year the design pays each centre (after any history given as input), and the
        # years that make up its envelope (None: every year, no centre has history).
        self.policy_from = np.array([self._schedule_of[c].policy_from for c in range(n_centres)])
        self._design_years = (
            None
            if (self.policy_from == 1).all()
            else np.arange(size)[None, :] >= self.policy_from[:, None]
        )
        self.records = [
            GateRecord(dict.fromkeys(self._schedule_of[c].passed_before, True))
            for c in range(n_centres)
        ]
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
            for g in self._schedule_of[c].passed_before:
                if g in self.gate_state:
                    self.gate_state[g][c] = 1.0
        self._refresh(range(n_centres))
        total = sum(params.score_weights.values())
        self._score_vector = np.array(
            [params.score_weights.get(k, 0.0) / total / params.score_targets[k] for k in SCORE_KEYS]
        )

    def _refresh(self, centres: Iterable[int]) -> None:
        """Bring the centres' rows up to date with their records.

        Centres with the same schedule and record share a plan: each distinct one is looked up
        once and written into all their rows at once (a chunk's centres mostly share a few).
        """
        alike: dict[tuple, list[int]] = {}
        for c in centres:
            rec = self.records[c]
            key = (id(self._schedule_of[c]), tuple(sorted(rec.passed.items())), rec.factor)
            alike.setdefault(key, []).append(c)
        for rows in alike.values():
            c = rows[0]
            plan = self._schedule_of[c].plan(self.records[c])
            self.amounts[rows] = plan.amounts
            self.match_open[rows] = plan.matching
            self.secured[rows] = plan.secured[: len(plan.amounts)]
            self.envelope_end[rows] = plan.envelope_end
            self.factor[rows] = self.records[c].factor

    def _col(self, year: int) -> int | None:
        return year if year <= self.schedule.length else None

    def _per_group(self, each: Callable[[Schedule, np.ndarray | slice], object]) -> Any:
        """``each(schedule, rows)`` for every group, assembled into one per-centre array."""
        if len(self.groups) == 1:
            return each(*self.groups[0])
        out = None
        for sched, rows in self.groups:
            part = np.asarray(each(sched, rows))
            if out is None:
                out = np.zeros(self.n, dtype=part.dtype)
            out[rows] = part if part.ndim else part.item()
        return out

    def _mask(self, test: Callable[[Schedule], bool]) -> np.ndarray:
        """Per centre, ``test`` of its schedule."""
        if len(self.groups) == 1:
            return np.full(self.n, bool(test(self.schedule)))
        out = np.zeros(self.n, dtype=bool)
        for sched, rows in self.groups:
            out[rows] = bool(test(sched))
        return out

    # -- money --------------------------------------------------------------------------------
    def owed(self, year: int, draw: np.ndarray | None = None) -> np.ndarray:
        """Subsidy owed to each centre in ``year`` (before matching and carry-over).

        Args:
            year: The year.
            draw: Under a glide (flexible) design, the draw each centre chose for ``year`` from
                what is left of its envelope (paid within it); ignored otherwise.
        """
        col = self._col(year)
        # A copy: evaluations rewrite the schedule rows later in the year.
        owed = self.amounts[:, col].copy() if col is not None else np.zeros(self.n)
        if draw is not None:
            gliding = self.gliding(year)
            if gliding.any():
                # Within what is left, and only while the envelope is open (then it lapses).
                paid = np.clip(draw, 0.0, self.envelope_left())
                paid = np.where(year <= self.envelope_end, paid, 0.0)
                return np.where(gliding, paid, owed)
        return owed

    # -- the flexible envelope ------------------------------------------------------------------
    def gliding(self, year: int) -> np.ndarray:
        """Per centre: whether it chooses ``year``'s draw from its envelope (glide designs)."""
        return self._mask(lambda s: s.glide and year >= s.flex_from)

    def envelope_left(self) -> np.ndarray:
        """Subsidy each centre may still draw: its schedule's total (given its record) less use.

        Only the years the design pays count: history given as input is spent, whatever of it
        a centre did not use.
        """
        if self._design_years is None:
            total = self.amounts.sum(axis=1)
        else:
            total = np.where(self._design_years, self.amounts, 0.0).sum(axis=1)
        return np.maximum(0.0, total - self.used)

    def matching_ahead(
        self, year: int, years: np.ndarray, beliefs: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Matching each centre expects over ``years`` years from ``year``, at its basis now."""

        def each(s: Schedule, rows: np.ndarray | slice) -> np.ndarray:
            fixed, gated = s.match_years_between(year, year + years[rows] - 1)
            expected = fixed.astype(float)
            for gate, count in gated.items():
                belief = beliefs.get(gate)
                expected = expected + (0.0 if belief is None else belief[rows]) * count
            return expected

        return self._per_group(each) * self.match_amount(year)

    def record_used(self, year: int, subsidy: np.ndarray) -> None:
        """Add the subsidy each centre used in ``year`` to what it has used of its envelope."""
        if self._design_years is None:
            self.used += subsidy
        else:
            self.used += np.where(self.policy_from <= year, subsidy, 0.0)

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
        return column_sums(self.raised[first : last + 1])

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
        if m is None:
            return np.zeros(self.n)

        def each(s: Schedule, rows: np.ndarray | slice) -> np.ndarray | float:
            last = s.last_match_year
            if last is None or year > last:
                return 0.0
            possible = s.window_match_possible(year, last)
            _, years = self._expected_in(s, rows, year, last, beliefs)
            return years / possible

        share = self._per_group(each)
        if not np.any(share):
            return np.zeros(self.n)
        uncapped = m.ratio * self.basis(year) < m.cap
        return m.ratio * share * uncapped * (self.factor > 0)

    def carries_over(self, year: int) -> np.ndarray:
        """Per centre: whether unspent programme money is kept for later years (``carry_over``)."""
        return self._mask(lambda s: year >= s.flex_from and not s.glide)

    def carry_over(self, year: int) -> np.ndarray:
        """Unspent programme money each centre may still draw in ``year``.

        Once a centre's envelope has closed, what is left goes back to the government.
        """
        carries = self.carries_over(year)
        if not carries.any():
            return np.zeros(self.n)
        self.deferred[carries & (year > self.envelope_end)] = 0.0
        return np.where(carries, self.deferred, 0.0)

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
        follow_up = self._mask(lambda s: year >= s.foresight_from)
        for gate, state in self.gate_state.items():
            undecided = np.isnan(state)
            if not undecided.any():
                out[gate] = state
                continue
            belief = np.full(self.n, self.params.prior_gate_belief)
            if follow_up.any():
                bar = self._bar(self.schedule.evaluations[gate])
                # Before any score exists (year 1) the follow-up says nothing: 50/50.
                z = np.where(np.isnan(score_now), 0.0, score_now - bar) / sd
                belief = np.where(follow_up, ndtr(z), belief)
            out[gate] = np.where(undecided, belief, state)
        return out

    def expected(
        self, first: int, last: int, beliefs: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expected subsidy and expected matching years over ``first..last``, per centre."""
        if len(self.groups) == 1:
            return self._expected_in(self.schedule, slice(None), first, last, beliefs)
        total, years = np.zeros(self.n), np.zeros(self.n)
        for s, rows in self.groups:
            total[rows], years[rows] = self._expected_in(s, rows, first, last, beliefs)
        return total, years

    def _expected_in(
        self,
        s: Schedule,
        rows: np.ndarray | slice,
        first: int,
        last: int,
        beliefs: dict[str, np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`expected` for the centres ``rows``, which follow schedule ``s``."""
        factor = self.factor[rows]
        n = len(factor)
        lo, hi = first, min(last, s.length)
        if lo > hi:
            return np.zeros(n), np.zeros(n)
        total = np.full(n, s.window_fixed(lo, hi))
        years = np.full(n, s.window_match(lo, hi))
        for gate, belief in beliefs.items():
            p = belief[rows]
            on_pass, on_fail = s.window_gated(gate, lo, hi)
            total += p * on_pass + (1 - p) * on_fail
            years += p * s.window_match_gated(gate, lo, hi)
        return total * factor, years * (factor > 0)

    # -- evaluation ---------------------------------------------------------------------------
    def _bar(self, ev: Evaluation) -> float | np.ndarray:
        """The score to pass ``ev``: the design's, or one per centre (sim/per_world.py)."""
        return self._pass_score.get(ev.name, ev.pass_score)

    def score(self, indicators: np.ndarray) -> np.ndarray:
        """The committee's score of each centre (1.0 = on every target).

        Args:
            indicators: (n_centres, 4) in the order of :data:`SCORE_KEYS`.
        """
        return matvec(indicators, self._score_vector)

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
        for s, rows in self.groups:
            ev = s.eval_years.get(year)
            if ev is not None:
                self._evaluate_in(ev, rows, true_scores + noise, outcome)
        return outcome

    def _evaluate_in(
        self, ev: Evaluation, rows: np.ndarray | slice, assessed: np.ndarray, outcome: np.ndarray
    ) -> None:
        """Evaluation ``ev`` of the centres ``rows``; their outcomes go into ``outcome``."""
        self.last_score[rows] = assessed[rows]
        centres = np.arange(self.n)[rows].tolist()
        bar = self._bar(ev)
        for c in centres:
            passed = bool(assessed[c] >= (bar if isinstance(bar, float) else bar[c]))
            rec = self.records[c]
            factor = rec.factor
            if not passed:
                if ev.on_fail == "stop":
                    factor = 0.0
                elif ev.on_fail == "cut":
                    factor *= 1.0 - ev.cut_fraction
            self.records[c] = GateRecord({**rec.passed, ev.name: passed}, factor)
            outcome[c] = float(passed)
        self._refresh(centres)
        if ev.name in self.gate_state:
            self.gate_state[ev.name][rows] = outcome[rows]
