"""ABC-SMC: approximate Bayesian computation by sequential Monte Carlo (population Monte Carlo).

The algorithm of Beaumont, Cornuet, Marin & Robert (2009, *Biometrika* 96:983) with the adaptive
tolerances of Del Moral, Doucet & Jasra (2012): generation 0 draws the population from the
uniform prior; each later generation sets its tolerance ε to a quantile of the last generation's
distances, proposes candidates by perturbing particles drawn by weight with a Gaussian kernel of
twice their weighted covariance, and keeps those whose simulated measurements lie within ε of the
targets. Candidates are simulated a batch at a time through a caller-supplied function (the
project's executors), never one by one. Why this and not a library sampler: docs/ODD.md §7.14.

The distance is the largest of the fitted targets' deviations from their range's midpoint, in
half-widths of the range: a distance ≤ 1 means every fitted target falls inside its range, so
the generation at ε = 1 is the posterior given "the model reproduces every published range".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats


def distance(measured: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Largest deviation from the targets' midpoints in half-widths; inf where NaN.

    Args:
        measured: Measurements, shape (candidates, targets).
        low: Lower ends of the target ranges.
        high: Upper ends.
    """
    dev = np.abs(measured - (low + high) / 2) / ((high - low) / 2)
    # A measurement the model could not make counts as missing the target.
    return np.where(np.isnan(dev).any(axis=1), np.inf, np.nan_to_num(dev).max(axis=1))


@dataclass
class Generation:
    """One generation's accepted population.

    Attributes:
        epsilon: Its tolerance.
        thetas: Accepted parameters, shape (population, parameters).
        weights: Normalised importance weights.
        distances: The accepted particles' distances.
        measured: Their measurements, shape (population, measurements).
        simulations: Candidates simulated for this generation.
        seconds: Wall time of this generation.
    """

    epsilon: float
    thetas: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    measured: np.ndarray
    simulations: int
    seconds: float

    @property
    def ess(self) -> float:
        """Effective sample size of the weights."""
        return float(1.0 / np.sum(self.weights**2))


@dataclass
class AbcResult:
    """Every generation, and why the run stopped.

    Attributes:
        generations: In order; the last is the posterior sample.
        stopped: Why the run ended (tolerance reached, generations done, budget spent).
    """

    generations: list[Generation] = field(default_factory=list)
    stopped: str = ""

    @property
    def posterior(self) -> Generation:
        """The last complete generation."""
        return self.generations[-1]


def abc_smc(
    simulate: Callable[[np.ndarray], np.ndarray],
    bounds: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    fitted: np.ndarray,
    *,
    population: int,
    generations: int,
    quantile: float = 0.5,
    epsilon_min: float = 1.0,
    batch: int | None = None,
    max_simulations: int = 5000,
    seed: int = 0,
    progress: Callable[[Generation, int], None] | None = None,
) -> AbcResult:
    """Run ABC-SMC.

    Args:
        simulate: Candidates (n, parameters) → measurements (n, measurements), NaN if failed.
        bounds: Uniform prior bounds, shape (parameters, 2).
        low: Lower ends of the target ranges, one per measurement.
        high: Upper ends.
        fitted: Boolean mask of the measurements that enter the distance.
        population: Particles per generation.
        generations: Most generations after generation 0 (the prior).
        quantile: Tolerance of a generation = this quantile of the previous one's distances.
        epsilon_min: Stop when the tolerance reaches this.
        batch: Candidates per call of ``simulate`` (default: ``population``).
        max_simulations: Budget of candidates in all.
        seed: Seed of the proposals.
        progress: Called with each finished generation and its number.

    Returns:
        The generations; the last is the posterior sample.
    """
    rng = np.random.default_rng(seed)
    batch = batch or population
    lo, hi = bounds[:, 0], bounds[:, 1]
    dims = len(lo)
    result = AbcResult()
    spent = 0

    def dist(measured: np.ndarray) -> np.ndarray:
        return distance(measured[:, fitted], low[fitted], high[fitted])

    start = time.perf_counter()
    thetas = lo + (hi - lo) * rng.random((population, dims))
    measured = simulate(thetas)
    spent += population
    gen = Generation(
        np.inf, thetas, np.full(population, 1 / population), dist(measured), measured,
        population, time.perf_counter() - start,
    )  # fmt: skip
    result.generations.append(gen)
    if progress:
        progress(gen, 0)

    for t in range(1, generations + 1):
        finite = gen.distances[np.isfinite(gen.distances)]
        if finite.size == 0:
            result.stopped = "no candidate of the last generation could be measured"
            return result
        eps = max(float(np.quantile(finite, quantile)), epsilon_min)
        eps = min(eps, gen.epsilon)
        cov = 2.0 * np.atleast_2d(np.cov(gen.thetas.T, aweights=gen.weights))
        # A parameter the population no longer varies keeps a little spread (else the kernel
        # degenerates); 1e-6 of its prior width is far below anything a measurement resolves.
        cov += np.diag(((hi - lo) * 1e-6) ** 2)
        kernel = stats.multivariate_normal(np.zeros(dims), cov, allow_singular=True)
        start = time.perf_counter()
        acc_t, acc_m, acc_d = [], [], []
        n_acc, sims = 0, 0
        while n_acc < population:
            if spent >= max_simulations:
                result.stopped = (
                    f"budget of {max_simulations} simulations spent in generation {t} "
                    f"({n_acc} of {population} accepted at ε = {eps:.3g}); the posterior is "
                    f"generation {t - 1}"
                )
                return result
            size = min(batch, max_simulations - spent)
            cand = _propose(rng, gen, cov, lo, hi, size)
            m = simulate(cand)
            d = dist(m)
            spent += size
            sims += size
            keep = d <= eps
            acc_t.append(cand[keep])
            acc_m.append(m[keep])
            acc_d.append(d[keep])
            n_acc += int(keep.sum())
        new_t = np.concatenate(acc_t)[:population]
        # Uniform prior: the importance weight is 1 / Σ_j w_j K(θ - θ_j) inside the bounds.
        dens = np.array([np.sum(gen.weights * kernel.pdf(th - gen.thetas)) for th in new_t])
        w = 1.0 / np.maximum(dens, np.finfo(float).tiny)
        gen = Generation(
            eps, new_t, w / w.sum(), np.concatenate(acc_d)[:population],
            np.concatenate(acc_m)[:population], sims, time.perf_counter() - start,
        )  # fmt: skip
        result.generations.append(gen)
        if progress:
            progress(gen, t)
        if eps <= epsilon_min:
            result.stopped = f"tolerance ε = {eps:.3g} reached in generation {t}"
            return result
    result.stopped = f"all {generations} generations done (ε = {gen.epsilon:.3g})"
    return result


def _propose(
    rng: np.random.Generator,
    gen: Generation,
    cov: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    size: int,
) -> np.ndarray:
    """``size`` perturbed particles inside the prior (outside ones are redrawn, not simulated)."""
    out = np.empty((0, len(lo)))
    while len(out) < size:
        idx = rng.choice(len(gen.thetas), size=size, p=gen.weights)
        cand = gen.thetas[idx] + rng.multivariate_normal(np.zeros(len(lo)), cov, size=size)
        inside = np.all((cand >= lo) & (cand <= hi), axis=1)
        out = np.concatenate([out, cand[inside]])
    return out[:size]


def weighted_quantiles(x: np.ndarray, weights: np.ndarray, qs: list[float]) -> np.ndarray:
    """Quantiles of ``x`` (1-D) under ``weights`` (inverse of the weighted ECDF, midpoint rule)."""
    order = np.argsort(x)
    xs, ws = x[order], weights[order]
    cdf = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
    return np.interp(qs, cdf, xs)
