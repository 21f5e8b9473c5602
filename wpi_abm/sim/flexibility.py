"""The glide path: how a centre spreads what is left of its envelope over the years it has left.

Under a flexible design the centre chooses each year's draw (seed: 「支援総額の範囲内で、柔軟に措置
可能に」). Its rule (an assumption; the seed gives none): programme money — draw plus the matching
it expects — moves in equal steps from last year's level to a landing level at the end of the
envelope, chosen so that the path spends exactly what is left. A centre thereby trades a cliff for
a slope: it lands on the level it can sustain, not on zero from a full budget. When even a path to
zero cannot start at last year's level, it starts lower and lands on zero.

The rule is written once here: the centre agent decides with it, and the books foresee with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Glide:
    """A linear path of yearly programme money over ``n`` years (arrays, one per centre).

    Attributes:
        first: Money in the first year of the path.
        step: Change per year (≤ 0 on a glide down).
        n: Years on the path (≥ 1).
    """

    first: np.ndarray
    step: np.ndarray
    n: np.ndarray

    def total(self, years: int | np.ndarray) -> np.ndarray:
        """Money over the first ``years`` years of the path (none beyond its end)."""
        m = np.minimum(years, self.n)
        return m * self.first + self.step * m * (m - 1) / 2.0

    def at(self, k: int) -> np.ndarray:
        """Money in year ``k`` of the path (0: the first), 0 beyond its end."""
        return np.where(k < self.n, self.first + k * self.step, 0.0)


def glide(level: np.ndarray, money: np.ndarray, years: np.ndarray) -> Glide:
    """The path from ``level`` that spends ``money`` in ``years`` equal steps.

    Args:
        level: Last year's programme money (where the path starts from).
        money: What the path must spend: the envelope left plus the matching expected.
        years: Years left to the end of the envelope (≥ 1).

    Returns:
        The path: money in year k (k = 1..n) is ``level + (end − level) × k / n``, where the
        landing level ``end`` makes the path sum to ``money``; if ``end`` would be negative, the
        path is ``first × (n − k + 1) / n``, landing on zero.
    """
    n = np.maximum(years, 1).astype(float)
    money = np.maximum(money, 0.0)
    end = level + 2.0 * (money - n * level) / (n + 1.0)
    step = (end - level) / n
    first = level + step
    to_zero = end < 0
    first_zero = 2.0 * money / (n + 1.0)
    first = np.where(to_zero, first_zero, first)
    step = np.where(to_zero, -first_zero / n, step)
    return Glide(first, step, n)
