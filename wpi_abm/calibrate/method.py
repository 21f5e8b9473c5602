"""ABC-SMC for expensive models: adaptive population Monte Carlo (Lenormand et al. 2013).

The algorithm of Lenormand, Jabot & Deffuant (2013, *Computational Statistics* 28:2777),
"Adaptive approximate Bayesian computation for complex models", built on the population Monte
Carlo of Beaumont, Cornuet, Marin & Robert (2009, *Biometrika* 96:983): generation 0 simulates
``population / quantile`` draws from the uniform prior and keeps the best ``population``; each
later generation perturbs kept particles (drawn by weight) with a Gaussian kernel of twice their
weighted covariance, simulates ``population × (1/quantile − 1)`` new candidates in one batch,
and keeps the best ``population`` of old and new together — the tolerance ε is the largest kept
distance. It stops when few new candidates beat the tolerance (the acceptance rate falls below
``min_acceptance``: the posterior no longer moves), when ε reaches ``epsilon_min``, or when the
budget is spent. A fixed number of simulations per generation, all in one batch, is what makes it
suit a model run on a cluster (through the project's executors). Why this and not a library
sampler: docs/ODD.md §7.14.

The distance is the largest of the fitted targets' deviations from their range's midpoint, in
half-widths of the range: a distance ≤ 1 means every fitted target falls inside its range.
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
        acceptance: Share of this generation's new candidates within the previous tolerance.
        ratios: The weights before normalising (prior / proposal density), for pooling.
    """

    epsilon: float
    thetas: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    measured: np.ndarray
    simulations: int
    seconds: float
    acceptance: float = 1.0
    ratios: np.ndarray = field(default_factory=lambda: np.ones(0))

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
    epsilon_min: float = 0.0,
    min_acceptance: float = 0.05,
    max_simulations: int = 5000,
    seed: int = 0,
    progress: Callable[[Generation, int], None] | None = None,
) -> AbcResult:
    """Run ABC-SMC (adaptive population Monte Carlo).

    Args:
        simulate: Candidates (n, parameters) → measurements (n, measurements), NaN if failed.
        bounds: Uniform prior bounds, shape (parameters, 2).
        low: Lower ends of the target ranges, one per measurement.
        high: Upper ends.
        fitted: Boolean mask of the measurements that enter the distance.
        population: Particles kept per generation (the posterior sample's size).
        generations: Most generations after generation 0 (the prior's).
        quantile: Share of particles kept each generation (α of Lenormand et al.).
        epsilon_min: Stop when the tolerance reaches this.
        min_acceptance: Stop when fewer new candidates than this share beat the tolerance.
        max_simulations: Budget of candidates in all (a generation that would exceed it is not
            started).
        seed: Seed of the proposals.
        progress: Called with each finished generation and its number.

    Returns:
        The generations; the last is the posterior sample.
    """
    rng = np.random.default_rng(seed)
    lo, hi = bounds[:, 0], bounds[:, 1]
    dims = len(lo)
    fresh = max(1, round(population * (1 / quantile - 1)))
    result = AbcResult()

    def dist(measured: np.ndarray) -> np.ndarray:
        return distance(measured[:, fitted], low[fitted], high[fitted])

    start = time.perf_counter()
    n0 = population + fresh
    thetas = lo + (hi - lo) * rng.random((n0, dims))
    measured = simulate(thetas)
    gen = _keep(thetas, np.ones(n0), dist(measured), measured, population)
    gen.simulations, gen.acceptance = n0, 1.0
    gen.seconds = time.perf_counter() - start
    spent = n0
    result.generations.append(gen)
    if progress:
        progress(gen, 0)

    for t in range(1, generations + 1):
        if not np.isfinite(gen.epsilon):
            result.stopped = f"generation {t - 1}: too few candidates could be measured"
            return result
        if gen.epsilon <= epsilon_min:
            result.stopped = f"tolerance ε = {gen.epsilon:.3g} reached in generation {t - 1}"
            return result
        if spent + fresh > max_simulations:
            result.stopped = (
                f"budget of {max_simulations} simulations spent after generation {t - 1} "
                f"(ε = {gen.epsilon:.3g})"
            )
            return result
        start = time.perf_counter()
        cov = 2.0 * np.atleast_2d(np.cov(gen.thetas.T, aweights=gen.weights))
        # A parameter the population no longer varies keeps a little spread (else the kernel
        # degenerates); 1e-6 of its prior width is far below anything a measurement resolves.
        cov += np.diag(((hi - lo) * 1e-6) ** 2)
        cand = _propose(rng, gen, cov, lo, hi, fresh)
        m = simulate(cand)
        d = dist(m)
        spent += fresh
        # A new particle's weight: prior / Σ_j w_j K(θ - θ_j) (Beaumont et al. 2009).
        kernel = stats.multivariate_normal(np.zeros(dims), cov, allow_singular=True)
        dens = np.array([np.sum(gen.weights * kernel.pdf(th - gen.thetas)) for th in cand])
        # Old and new particles are pooled, so both carry the plain ratio prior / proposal
        # (generation 0's is 1); the prior's density is 1 / its volume.
        w = (1.0 / np.prod(hi - lo)) / np.maximum(dens, np.finfo(float).tiny)
        accepted = float(np.mean(d <= gen.epsilon))
        gen = _keep(
            np.concatenate([gen.thetas, cand]),
            np.concatenate([gen.ratios, w]),
            np.concatenate([gen.distances, d]),
            np.concatenate([gen.measured, m]),
            population,
        )
        gen.simulations, gen.acceptance = fresh, accepted
        gen.seconds = time.perf_counter() - start
        result.generations.append(gen)
        if progress:
            progress(gen, t)
        if accepted < min_acceptance:
            result.stopped = (
                f"acceptance {accepted:.3f} < {min_acceptance} in generation {t} "
                f"(ε = {gen.epsilon:.3g}): the posterior has settled"
            )
            return result
    result.stopped = f"all {generations} generations done (ε = {gen.epsilon:.3g})"
    return result


def _keep(
    thetas: np.ndarray,
    weights: np.ndarray,
    distances: np.ndarray,
    measured: np.ndarray,
    n: int,
) -> Generation:
    """The ``n`` particles of smallest distance; ε is the largest kept distance."""
    # A stable sort: ties keep the older particle, so the outcome does not depend on batch order.
    order = np.argsort(distances, kind="stable")[:n]
    w = weights[order]
    return Generation(
        float(distances[order].max()), thetas[order], w / w.sum(), distances[order],
        measured[order], 0, 0.0, ratios=w,
    )  # fmt: skip


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
