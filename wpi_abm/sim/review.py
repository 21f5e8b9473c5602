"""The programme committee's view of each centre, its evaluations, and reputation."""

from __future__ import annotations

import numpy as np

from wpi_abm.numerics import ratio
from wpi_abm.parameters import SCORE_KEYS
from wpi_abm.sim.world import World


class Review:
    """Follows every centre's record; evaluates in the design's evaluation years.

    The committee judges a centre on the mean of its indicators (top-10% share, foreign share,
    international share, size relative to plan) over the last ``track_years`` years; the same
    score, through the yearly follow-up, tells centres their prospects at future gates.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.window = world.params.programme.track_years
        self.track = np.zeros((self.window, world.size, len(SCORE_KEYS)))

    def review(
        self,
        papers: np.ndarray,
        top10: np.ndarray,
        intl: np.ndarray,
        researchers: np.ndarray,
        foreign: np.ndarray,
    ) -> np.ndarray:
        """Update the record and score; evaluate where due; move reputation towards quality.

        Returns:
            1.0 / 0.0 per centre for pass / fail, NaN where no evaluation took place.
        """
        w = self.world
        p = w.params
        t = w.year
        self.track[(t - 1) % self.window] = np.column_stack(
            (
                ratio(top10, papers),
                ratio(foreign, researchers),
                ratio(intl, papers),
                researchers / w.planned_researchers,
            )
        )
        if not w.active.all():
            # Years before a centre's start are not part of its record.
            self.track[(t - 1) % self.window][~w.active] = 0.0
        years = np.clip(t - w.start + 1, 1, self.window)
        w.track_score = w.programme.score(self.track.sum(axis=0) / years[:, None])
        sd = p.programme.assessment_noise_sd
        noise = w.draws.normal("evaluation", 0.0, sd, w.n_centres).ravel()
        passed = w.programme.evaluate(t, w.track_score, noise)
        quality = ratio(top10, researchers) / p.reputation.top10_per_researcher_ref
        moved = w.reputation + (quality - w.reputation) / p.reputation.lag_years
        np.maximum(moved, p.reputation.floor, out=moved)
        # A centre that has not started keeps its founding reputation.
        w.reputation[:] = moved if w.active.all() else np.where(w.active, moved, w.reputation)
        return passed
