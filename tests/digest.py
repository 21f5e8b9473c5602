"""A digest of every outcome and panel column of a fixed small experiment.

Restructuring the simulation must not change a single result. This module runs a fixed experiment
(every built-in design × 20 replicates, fixed seed, plus one sweep point with changed parameters and
policy values) and hashes each column. ``tests/data/digest.json`` holds the recorded digest; when a
commit changes behaviour on purpose it rewrites the file (``python tests/digest.py --write``) and
says in its message what moved and why.

Floats are hashed at 12 significant digits: a refactor that only reorders a sum may move the last
bits of a double, which is not a change of behaviour; anything a reader could see is. With
``exact`` (``--exact``) every bit is hashed: ``tests/test_elementary.py`` compares those hashes
across the ways numpy and OpenBLAS may compute on other CPUs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

from wpi_abm.config import load_experiment
from wpi_abm.experiment.plan import Point, plan_chunks
from wpi_abm.experiment.runner import Job, simulate_chunk

DIGEST_FILE = Path(__file__).parent / "data" / "digest.json"
REPLICATES = 20
SEED = 4242
SWEEP_POINT = {
    "parameters.host.absorption_share": 0.7,
    "parameters.researchers.insecurity_sensitivity": 2.0,
    "policies.reform_2024.matching.cap": 450.0,
}


def _column_hash(col: pa.ChunkedArray, exact: bool = False) -> str:
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    values = col.to_numpy(zero_copy_only=False)
    if values.dtype.kind == "f":
        # Exact: every bit of every double (``float.hex``); otherwise 12 significant digits.
        text = "\n".join(v.hex() if exact else f"{v:.12g}" for v in values.tolist())
    else:
        text = "\n".join(str(v) for v in values.tolist())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def compute(exact: bool = False) -> dict[str, dict[str, str]]:
    """Run the fixed experiment; return {table: {column: hash}}.

    Args:
        exact: Hash every bit of the floats instead of 12 significant digits.
    """
    exp, _ = load_experiment(sets=[f"replicates={REPLICATES}", f"seed={SEED}", "horizon=25"])
    points = (Point(0), Point(1, SWEEP_POINT))
    job = Job(exp, points, panel=True, key="digest")
    policies = list(exp.policies)
    chunks = plan_chunks(policies, len(points), REPLICATES, REPLICATES)
    outs, panels = [], []
    for chunk in chunks:
        res = simulate_chunk(job, chunk)
        if res.error:
            raise RuntimeError(f"chunk {chunk}: {res.error}")
        outs.append(res.outcomes)
        panels.append(res.panel)
    digest = {}
    for name, tables in (("outcomes", outs), ("panel", panels)):
        table = pa.concat_tables(tables)
        digest[name] = {c: _column_hash(table.column(c), exact) for c in table.column_names}
        digest[name]["_rows"] = str(table.num_rows)
    return digest


def main(argv: list[str]) -> int:
    """``python tests/digest.py [--write | --exact]``: print (or record) the digest."""
    digest = compute(exact="--exact" in argv)
    if "--write" in argv and "--exact" not in argv:
        DIGEST_FILE.write_text(json.dumps(digest, indent=1, sort_keys=True) + "\n")
        print(f"wrote {DIGEST_FILE}")
    else:
        print(json.dumps(digest, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main(sys.argv[1:]))
