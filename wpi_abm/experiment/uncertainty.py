"""Parameter uncertainty in a run: which posterior particle each replicate simulates.

With ``uncertainty: {kind: posterior}`` (or ``wpi-abm run --uncertainty posterior``) the runs of
an experiment no longer share one parameter set: replicate ``r`` belongs to draw group
``r // RUNS_PER_DRAW`` (:data:`~wpi_abm.experiment.plan.RUNS_PER_DRAW`), and each group takes
one particle of the posterior, drawn by weight from a stream of its own (the root seed and the
group, nothing else: :func:`~wpi_abm.experiment.plan.run_particles`). So

- a run stays a pure function of (resolved configuration, posterior file, seed);
- every policy and every sweep point simulates replicate ``r`` with the same particle and the same
  seed: common random numbers hold, and paired differences still pair like with like;
- the particle does not depend on the chunking, the executor, the number of workers or the
  number of replicates (adding replicates adds groups, never redraws the earlier ones);
- the worlds of one model may take different particles when every column of the posterior is a
  value a model holds per world (:data:`wpi_abm.sim.per_world.PER_WORLD`; the packaged
  posterior's are), so a batch holds up to 100 runs of the default cohort
  (:data:`~wpi_abm.experiment.runner.BATCH_CENTRE_RUNS`) with or without uncertainty; with any
  other column a model holds one particle, a draw group of 25 (or consecutive groups that drew
  the same particle), ~20% dearer per run (docs/architecture.md).

The draw groups are also what the summary's total intervals are computed over
(:func:`wpi_abm.experiment.analysis.total_interval`). This module loads and checks the posterior
for an experiment; the runner applies a particle's values (:func:`~wpi_abm.experiment.runner.
experiment_at`).
"""

from __future__ import annotations

from pathlib import Path

from wpi_abm.config import parse_set
from wpi_abm.errors import ConfigError
from wpi_abm.experiment.runner import with_values
from wpi_abm.posterior import Posterior, read_posterior, unknown_keys
from wpi_abm.presets import data_dir, posterior_path
from wpi_abm.schema.experiment import Experiment


def shown(exp: Experiment) -> str:
    """How messages and the manifest name the experiment's posterior file."""
    path = posterior_path(exp.uncertainty.posterior, Path.cwd())
    try:
        return "wpi_abm/data/" + str(path.resolve().relative_to(data_dir().resolve()))
    except ValueError:
        return str(path)


def load(exp: Experiment) -> Posterior | None:
    """The experiment's posterior, checked against it; None without uncertainty.

    Keys of a policy the experiment does not run are dropped (a calibrated pass score of
    ``legacy`` has nothing to act on in an experiment without ``legacy``).

    Raises:
        ConfigError: A missing or malformed file, a file that changed since the run started, a
            column naming no parameter of the experiment, or a particle whose value the model
            rejects — naming the file, the CSV line and the column.
    """
    spec = exp.uncertainty
    if spec.kind == "none":
        return None
    name = shown(exp)
    post = read_posterior(posterior_path(spec.posterior, Path.cwd()), shown=name)
    if spec.sha256 is not None and post.sha256 != spec.sha256:
        raise ConfigError(
            f"the posterior file changed: the configuration records checksum {spec.sha256[:12]}…, "
            f"the file now has {post.sha256[:12]}…; restore the file, or start the experiment "
            "again (in another folder if it was resumed)",
            file=name,
            field="uncertainty.sha256",
        )
    keys = [k for k in post.keys if not _absent_policy(k, exp)]
    unknown = unknown_keys(tuple(keys), exp.model_dump())
    if unknown:
        raise ConfigError(
            f"column '{unknown[0]}' names no parameter of the experiment; posterior columns are "
            "dotted keys into the resolved experiment, as --set takes them "
            "(e.g. parameters.output.top10_base)",
            file=name,
            line=1,
            field=unknown[0],
        )
    if not keys:
        raise ConfigError(
            f"no column applies to this experiment (all name policies it does not run: "
            f"{', '.join(post.keys)})",
            file=name,
            line=1,
        )
    post = post.restricted(keys)
    missing = sorted(src for src in spec.inherit.values() if src not in post.keys)
    if missing:
        raise ConfigError(
            f"uncertainty.inherit names '{missing[0]}', which is not a column of the posterior "
            f"that applies here ({', '.join(post.keys)})",
            file=name,
            field="uncertainty.inherit",
        )
    post = post.with_copies(spec.inherit)
    for i in range(len(post)):
        try:
            with_values(exp, post.particle(i))
        except ConfigError as exc:
            raise ConfigError(
                f"particle {i}: {exc.message}", file=name, line=i + 2, field=exc.field
            ) from None
    return post


def _absent_policy(key: str, exp: Experiment) -> bool:
    path = parse_set(f"{key}=")[0]
    return len(path) > 1 and path[0] == "policies" and path[1] not in exp.policies
