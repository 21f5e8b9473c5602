"""Simulating one chunk of runs: a pure function of (job, chunk).

Executors call :func:`simulate_chunk` in whatever process they like; it returns Arrow tables (the
centre × year panel if requested, and the centre-level outcomes) and touches nothing else. Runs of
a chunk are simulated together as worlds of one model (:class:`~wpi_abm.sim.model.WPIModel`), which
changes nothing in their results and shares the cost of each numpy call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from pydantic import ValidationError

from wpi_abm.config import apply_set, parse_set
from wpi_abm.errors import ConfigError
from wpi_abm.experiment.plan import Chunk, Point, run_id, run_particles, run_seed
from wpi_abm.metrics import (
    OUTCOME_COLUMNS,
    decline_index,
    model_years,
    outcomes,
    support_years,
)
from wpi_abm.parameters import Parameters
from wpi_abm.policy import PolicyDesign
from wpi_abm.posterior import Posterior
from wpi_abm.schema.experiment import Experiment
from wpi_abm.sim.per_world import varies_per_world
from wpi_abm.validation import validation_errors
from wpi_abm.yamlio import SourceMap

if TYPE_CHECKING:
    import pandas as pd

    from wpi_abm.sim.recorder import Recorder

BATCH_CENTRE_RUNS = 1_200
"""Centre-runs simulated together in one model, at most: 100 worlds of the default 12-centre
cohort, 66 of the real programme's 18. With parameter uncertainty the worlds of a model may take
different posterior particles when the posterior varies only values a model holds per world
(:data:`wpi_abm.sim.per_world.PER_WORLD`, which covers the packaged posterior); a posterior with
another column is simulated one particle per model (a draw group of 25, or consecutive groups
that drew the same particle). A run's results do not depend on which runs share its model, so
this sets speed and memory only: 100 worlds cost ~20% less per run than 25 (the model's set-up and
each year's fixed costs shared by more runs; docs/performance.md), a chunk of the default 100 runs
is one model, and a model holds ~10 MB of indicators and ~100,000 people whatever the cohort's
size."""


@dataclass(frozen=True)
class Job:
    """Everything a worker needs: the resolved experiment, its points, and what to store.

    Attributes:
        experiment: The validated experiment.
        points: Parameter points (one empty point for a plain comparison).
        panel: Whether to return the centre × year panel.
        key: Identifies the job in worker caches.
        posterior: The posterior whose particles the replicates take (one per draw group, see
            :mod:`wpi_abm.experiment.uncertainty`), or None: every run uses the experiment's
            parameters. The driver loads it from the experiment's ``uncertainty``.
        store: The results folder, when the workers store the chunks they simulate whole
            (they share its file system: :mod:`wpi_abm.experiment.delivery`); None: every
            result goes back to the driver, which stores it.
        holder: The folder's lock as the driver took it (with ``store``): workers store only
            while it is still held so.
    """

    experiment: Experiment
    points: tuple[Point, ...]
    panel: bool
    key: str
    posterior: Posterior | None = None
    store: str | None = None
    holder: str | None = None


@dataclass
class ChunkResult:
    """What one chunk produced.

    Attributes:
        chunk: The chunk.
        outcomes: One row per centre-run (see :data:`wpi_abm.metrics.OUTCOME_COLUMNS`).
        panel: One row per centre-run-year, or None when the panel is not stored.
        error: Why the chunk failed (its runs are then missing), or None.
        sums: When the worker stored the chunk itself (:mod:`wpi_abm.experiment.delivery`): its
            per-run sums (:func:`~wpi_abm.experiment.analysis.run_sums`), all the driver needs
            of it; the tables are then None.
    """

    chunk: Chunk
    outcomes: pa.Table | None
    panel: pa.Table | None
    error: str | None = None
    sums: pd.DataFrame | None = None

    @property
    def stored(self) -> bool:
        """Whether the chunk is on disk already (stored by the worker that simulated it)."""
        return self.sums is not None


_CACHE: dict[tuple[str, int, str], Experiment] = {}


def experiment_at(job: Job, point: int, particle: int | None = None) -> Experiment:
    """The experiment with a point's values applied (validated, cached per worker process).

    With a ``particle`` of the job's posterior, its values first and the point's on top: a sweep
    that sets a calibrated parameter explicitly means that value.
    """
    values = job.points[point].values
    if particle is not None and job.posterior is not None:
        values = {**job.posterior.particle(particle), **values}
    key = (job.key, point, repr(sorted(values.items())))
    if key not in _CACHE:
        try:
            _CACHE[key] = with_values(job.experiment, values)
        except ConfigError as exc:
            raise ConfigError(
                f"point {point} ({values}) gives an invalid configuration: "
                f"{exc.field}: {exc.message}",
                field=exc.field,
            ) from None
        if len(_CACHE) > 64:
            _CACHE.pop(next(iter(_CACHE)))
    return _CACHE[key]


def with_values(exp: Experiment, values: dict[str, Any]) -> Experiment:
    """``exp`` with ``values`` (dotted key → value) applied, validated.

    Raises:
        ConfigError: The first value the model rejects (its field and why).
    """
    if not values:
        return exp
    tree = exp.model_dump()
    smap = SourceMap()
    for k, v in values.items():
        path, _ = parse_set(f"{k}=")
        apply_set(tree, path, v, smap, "point")
    try:
        return Experiment.model_validate(tree)
    except ValidationError as exc:
        raise validation_errors(exc, smap, Experiment, tree).errors[0] from None


def simulate_chunk(job: Job, chunk: Chunk) -> ChunkResult:
    """Simulate every run of ``chunk``; errors are returned, not raised (the rest goes on)."""
    try:
        return _simulate(job, chunk)
    except Exception as exc:
        return ChunkResult(chunk, None, None, error=f"{type(exc).__name__}: {exc}")


def _batches(
    reps: list[int], drawn: np.ndarray | None, worlds: int, mix: bool
) -> list[tuple[list[int], list[int] | None]]:
    """Consecutive replicates simulated as one model (at most ``worlds``), with their particles.

    Without ``mix`` a model's worlds take one particle. A run's results do not depend on which
    runs share its model (``tests/test_model.py``), so where batches are cut moves nothing but
    speed.
    """
    out: list[tuple[list[int], list[int] | None]] = []
    for i, r in enumerate(reps):
        particle = None if drawn is None else int(drawn[i])
        if out:
            batch, particles = out[-1]
            if len(batch) < worlds and (particles is None or mix or particles[-1] == particle):
                batch.append(r)
                if particles is not None and particle is not None:
                    particles.append(particle)
                continue
        out.append(([r], None if particle is None else [particle]))
    return out


def _simulate(job: Job, chunk: Chunk) -> ChunkResult:
    # Imported here, not above: a driver that only hands chunks to workers (and ``wpi-abm
    # validate``, which checks a posterior's values) never needs the model and its ~3.5 s import.
    from wpi_abm.sim.model import WPIModel

    base = experiment_at(job, chunk.point)
    policy_name = chunk.policy
    cohort = base.cohort
    names = [c.name for c in cohort.centres]
    fields = [c.field for c in cohort.centres]
    starts = np.array([c.first_year for c in cohort.centres])
    n_pol = len(base.policies)
    outs, panels = [], []
    reps = list(chunk.replicates)
    post = job.posterior
    drawn = run_particles(post.weights, base.seed, reps) if post is not None else None
    worlds = max(1, BATCH_CENTRE_RUNS // len(names))
    mix = post is not None and all(varies_per_world(k) for k in post.keys)
    for batch, particles in _batches(reps, drawn, worlds, mix):
        exp = base
        params: Parameters | list[Parameters] = base.parameters
        policy: PolicyDesign | list[PolicyDesign] = base.policies[policy_name]
        if particles is not None:
            # One experiment per world: worlds of a particle share its object.
            at = {p: experiment_at(job, chunk.point, p) for p in dict.fromkeys(particles)}
            each = [at[p] for p in particles]
            exp = each[0]
            params = [e.parameters for e in each]
            policy = [e.policies[policy_name] for e in each]
        seeds = [run_seed(exp.seed, r) for r in batch]
        model = WPIModel(exp.cohort, params, policy, exp.horizon, seeds)
        rec = model.run()
        ids = np.array(
            [run_id(chunk.point, chunk.policy_index, r, n_pol, exp.replicates) for r in batch]
        )
        keys = _keys(chunk, ids, np.array(batch), len(names))
        if particles is not None:
            keys["particle"] = np.repeat(particles, len(names)).astype(np.int32)
        keys["policy"] = _dictionary(np.zeros(len(keys["run_id"])), [chunk.policy])
        # Outcomes are measured in each centre's support years (the reference year 10 is its
        # own tenth year, whenever it started).
        centre_starts = np.tile(starts, len(batch))
        aligned, observed = support_years(rec.data, centre_starts)
        res = outcomes(aligned, exp.decline, None if (starts == 1).all() else observed)
        outs.append(_outcome_table(keys, names, fields, res))
        if job.panel:
            v = decline_index(aligned, exp.decline)
            v = model_years(v, centre_starts)
            panels.append(_panel_table(keys, names, fields, rec, v, centre_starts))
    outcome_table = pa.concat_tables(outs)
    panel_table = pa.concat_tables(panels) if panels else None
    return ChunkResult(chunk, outcome_table, panel_table)


def _keys(chunk: Chunk, ids: np.ndarray, reps: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Run keys for every centre-run of a batch (world-major, then centre)."""
    return {
        "run_id": np.repeat(ids, n).astype(np.int64),
        "point": np.full(len(ids) * n, chunk.point, dtype=np.int32),
        "replicate": np.repeat(reps, n).astype(np.int32),
    }


def _dictionary(indices: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    """Strings ``values[indices]`` as a dictionary array (values may repeat)."""
    unique = sorted(set(values))
    code = np.array([unique.index(v) for v in values], dtype=np.int32)
    return pa.DictionaryArray.from_arrays(
        pa.array(code[indices.astype(np.int64)]), pa.array(unique)
    )


def _outcome_table(
    keys: dict[str, np.ndarray], names: list[str], fields: list[str], res: dict[str, np.ndarray]
) -> pa.Table:
    rows = len(keys["run_id"])
    n = len(names)
    centre = np.tile(np.arange(n), rows // n)
    cols: dict[str, Any] = {
        "run_id": keys["run_id"],
        "policy": keys["policy"],
        "point": keys["point"],
        "replicate": keys["replicate"],
        **({"particle": keys["particle"]} if "particle" in keys else {}),
        "centre": _dictionary(centre, names),
        "field": _dictionary(centre, fields),
    }
    for name in OUTCOME_COLUMNS:
        cols[name] = pa.array(res[name])
    return pa.table(cols)


def _panel_table(
    keys: dict[str, np.ndarray],
    names: list[str],
    fields: list[str],
    rec: Recorder,
    v: np.ndarray,
    starts: np.ndarray,
) -> pa.Table:
    h = rec.horizon
    centre_runs = len(keys["run_id"])
    n = len(names)
    centre = np.repeat(np.tile(np.arange(n), centre_runs // n), h)
    cols: dict[str, Any] = {k: np.repeat(a, h) for k, a in keys.items() if k != "policy"}
    cols["policy"] = _dictionary(np.zeros(centre_runs * h), [keys["policy"].dictionary[0].as_py()])
    cols["centre"] = _dictionary(centre, names)
    cols["field"] = _dictionary(centre, fields)
    cols["year"] = np.tile(np.arange(1, h + 1, dtype=np.int16), centre_runs)
    # The centre's own support year (≤ 0 before it starts); equal to ``year`` when every centre
    # starts in year 1.
    cols["support_year"] = (cols["year"] - np.repeat(starts, h).astype(np.int16) + 1).astype(
        np.int16
    )
    table = rec.table()
    for name in table.column_names:
        cols[name] = table.column(name)
    cols["value_index"] = pa.array(v.T.ravel())
    return pa.table(cols)
