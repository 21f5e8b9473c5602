"""A stored results folder as the figures and the report see it (nothing is re-run).

:class:`Results` reads, through the store's reader
(:class:`~wpi_abm.experiment.store.ResultFolder`), the manifest, the configuration it records,
``summary.csv`` and, when present, ``points.csv`` and ``sensitivity.csv``; the centre × year panel
is read lazily, one policy at a time (:mod:`wpi_abm.plots.panel`), and cached so that several
figures share one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from wpi_abm.errors import ResultsError
from wpi_abm.experiment.store import MANIFEST, OUTCOMES, RUNS, ResultFolder
from wpi_abm.outcomes import PRIMARY
from wpi_abm.plots.panel import PolicyPanel, files_by_policy, read_policy_panel
from wpi_abm.schema.experiment import Experiment
from wpi_abm.text import check_lang, policy_label


class Skip(Exception):
    """A figure cannot be drawn from this folder; the message says why."""


def experiment_from_config(config: dict[str, Any]) -> Experiment:
    """Rebuild the experiment from a manifest's ``config``.

    Sweep and sensitivity folders record their study spec beside the experiment's fields (under
    ``sweep``); keys the experiment does not know are dropped so that its strict validation passes.
    """
    known = {k: v for k, v in config.items() if k in Experiment.model_fields}
    return Experiment.model_validate(known)


@dataclass
class Results:
    """One results folder.

    Attributes:
        root: The folder.
        manifest: manifest.json as a dict (empty when absent).
        exp: The experiment, rebuilt from the manifest's configuration.
        summary: summary.csv.
        lang: Language of labels (``en`` or ``ja``).
    """

    root: Path
    manifest: dict[str, Any]
    exp: Experiment
    summary: pd.DataFrame
    lang: str = "en"
    _panels: dict[str, PolicyPanel | None] = field(default_factory=dict, repr=False)
    _files: dict[str, dict[str, list[Path]]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_lang(self.lang)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path, lang: str = "en") -> Results:
        """Read a results folder.

        Raises:
            ResultsError: No manifest, no usable configuration, or no summary.csv.
        """
        from pydantic import ValidationError

        folder = ResultFolder(root)
        manifest = folder.read_manifest()
        summary = folder.read_summary()
        try:
            exp = experiment_from_config(manifest["config"])
        except (KeyError, TypeError, ValidationError) as exc:
            raise ResultsError(
                f"{folder.root / MANIFEST}: no usable configuration ({exc})"
            ) from None
        return cls(folder.root, manifest, exp, with_points(summary, folder.read_points()), lang)

    @classmethod
    def from_run(cls, root: Path, summary: pd.DataFrame, exp: Experiment) -> Results:
        """The folder of a run that has just finished (its manifest may still say 'running')."""
        folder = ResultFolder(root)
        try:
            manifest = folder.read_manifest()
        except ResultsError:
            manifest = {}
        summary = summary.copy()
        summary["policy"] = summary["policy"].astype(str)
        return cls(folder.root, manifest, exp, with_points(summary, folder.read_points()))

    @property
    def folder(self) -> ResultFolder:
        """The store's reader of this folder."""
        return ResultFolder(self.root)

    # -- what the folder holds -----------------------------------------------------------------
    @property
    def kind(self) -> str:
        """``run``, ``sweep`` or ``sensitivity``."""
        return str(self.manifest.get("kind", "run"))

    @property
    def policies(self) -> list[str]:
        """Policies in the summary, in the experiment's order (unknown ones last)."""
        present = list(dict.fromkeys(self.summary["policy"]))
        order = [p for p in self.exp.policy_names if p in present]
        return order + [p for p in present if p not in order]

    @property
    def baseline(self) -> str | None:
        """The baseline policy, if the summary holds paired differences against it."""
        b = self.exp.baseline_policy
        return b if b is not None and PRIMARY.paired_columns(b)[0] in self.summary else None

    @property
    def n_points(self) -> int:
        """Parameter points in the summary (1 for a plain run)."""
        return int(self.summary["point"].nunique()) if "point" in self.summary else 1

    @property
    def sweep_spec(self) -> dict[str, Any]:
        """The sweep or sensitivity spec recorded in the manifest (empty for a plain run)."""
        spec = self.manifest.get("sweep") or self.manifest.get("config", {}).get("sweep") or {}
        return spec if isinstance(spec, dict) else {}

    @property
    def design(self) -> str | None:
        """The sweep design (``grid``, ``lhs``, ``sobol``, ``morris``), if any."""
        design = self.sweep_spec.get("design")
        return str(design) if design else None

    @property
    def parameters(self) -> list[str]:
        """Swept parameters (dotted keys) that have a column in the summary."""
        declared = list(self.sweep_spec.get("parameters") or {})
        if declared:
            return [p for p in declared if p in self.summary.columns]
        if "point" not in self.summary:
            return []
        lead = list(self.summary.columns[: list(self.summary.columns).index("policy")])
        return [c for c in lead if c not in ("point", "method")]

    @property
    def sensitivity(self) -> pd.DataFrame | None:
        """sensitivity.csv, if the folder holds one."""
        return self.folder.read_sensitivity()

    @property
    def has_panel(self) -> bool:
        """Whether the centre × year panel was stored."""
        return self.folder.has_panel()

    # -- labels ---------------------------------------------------------------------------------
    @property
    def test_years_label(self) -> str:
        """The decline test's years, e.g. ``11–12`` (first–last) or ``11``."""
        years = self.exp.decline.test_years
        return "–".join(str(y) for y in dict.fromkeys((min(years), max(years))))

    def label(self, policy: str) -> str:
        """A policy's display label in the folder's language (``label_ja`` in Japanese)."""
        design = self.exp.policies.get(policy)
        return policy_label(design, self.lang) if design is not None else policy

    def style(self, policy: str) -> dict[str, object]:
        """A policy's colour, marker and line style (:func:`~wpi_abm.plots.style.policy_style`)."""
        # Imported here: reading a folder (and its panel) needs no matplotlib; drawing does.
        from wpi_abm.plots.style import policy_style

        return policy_style(policy, self.policies)

    def end_of_support(self, policy: str) -> int | None:
        """The last year the design can pay (None when it never ends, or is unknown)."""
        design = self.exp.policies.get(policy)
        return design.last_year() if design is not None else None

    # -- the panel ------------------------------------------------------------------------------
    def panel(self, policy: str) -> PolicyPanel | None:
        """Aggregates of one policy's panel (None when the folder holds none for it)."""
        if policy not in self._panels:
            self._panels[policy] = read_policy_panel(
                self.panel_files(), policy, self.exp.horizon, self.exp.decline
            )
        return self._panels[policy]

    def panel_files(self) -> dict[str, dict[str, list[Path]]]:
        """The panel's and the outcomes' chunk files by policy (read once, then kept).

        Index the folder before sending this object to other processes, so that each does not
        index it again.
        """
        if self._files is None:
            folder = self.folder
            self._files = {d: files_by_policy(folder.chunk_files(d)) for d in (RUNS, OUTCOMES)}
        return self._files

    def has_panel_of(self, policy: str) -> bool:
        """Whether ``policy``'s panel aggregates have been read (here or kept from elsewhere)."""
        return policy in self._panels

    def keep_panel(self, policy: str, panel: PolicyPanel | None) -> None:
        """Cache ``policy``'s panel aggregates read elsewhere (another process's pass)."""
        self._panels[policy] = panel

    def require(self, *columns: str) -> None:
        """Raise Skip unless summary.csv has every one of ``columns``."""
        missing = [c for c in columns if c not in self.summary]
        if missing:
            raise Skip(f"summary.csv has no {', '.join(missing)}")

    def require_panel(self) -> list[str]:
        """Policies with a stored panel.

        Raises:
            Skip: No panel, or a sweep (panel figures compare policies at one parameter point).
        """
        if not self.has_panel:
            if self.kind in ("sweep", "sensitivity"):
                raise Skip(
                    "no centre × year panel stored (sweeps keep outcomes only unless the sweep "
                    "file sets store: panel)"
                )
            raise Skip("no centre × year panel stored (runs/ is empty; rerun with the panel on)")
        if self.n_points > 1:
            raise Skip(
                f"the panel spans {self.n_points} parameter points; panel figures compare "
                "policies at one point"
            )
        found = [p for p in self.policies if self.panel(p) is not None]
        if not found:
            raise Skip("the stored panel holds none of the summary's policies")
        return found

    # -- provenance -----------------------------------------------------------------------------
    def provenance(self) -> dict[str, str]:
        """What goes into a figure's metadata instead of onto the plot."""
        import wpi_abm

        n = int(self.summary["n"].max()) if "n" in self.summary else 0
        versions = self.manifest.get("versions", {})
        version = versions.get("wpi_abm", wpi_abm.__version__)
        seed = self.manifest.get("root_seed", self.exp.seed)
        commit = self.manifest.get("git_commit") or "unknown"
        reps = self.manifest.get("replicates", self.exp.replicates)
        subject = (
            f"experiment {self.exp.name} ({self.kind}); results {self.root.name}; seed {seed}; "
            f"{reps} replicates; n = {n} centre-runs per policy"
            + (f" and point ({self.n_points} points)" if self.n_points > 1 else "")
            + f"; wpi-abm {version}; git {commit}"
        )
        return {
            "subject": subject,
            "keywords": "WPI, research centre, funding policy, agent-based model",
            "creator": f"wpi-abm {version}",
        }


def with_points(summary: pd.DataFrame, points: pd.DataFrame | None) -> pd.DataFrame:
    """Add the parameter columns of ``points.csv`` that the summary lacks (joined on point).

    Sweep summaries normally carry them; an analytic study's summary may hold only the point.
    """
    if "point" not in summary or points is None:
        return summary
    if "point" not in points:
        return summary
    extra = [c for c in points.columns if c != "point" and c not in summary.columns]
    if not extra:
        return summary
    merged = summary.merge(points[["point", *extra]], on="point", how="left")
    lead = [c for c in summary.columns if c != "policy"]
    head = lead[: lead.index("point") + 1] + extra
    return merged[head + [c for c in merged.columns if c not in head]]


def parameter_label(key: str) -> str:
    """A short, still unambiguous label for a dotted parameter key.

    ``parameters.host.absorption_share`` → ``host.absorption_share``;
    ``policies.reform_2024.matching.cap`` → ``reform_2024: matching.cap``.
    """
    parts = key.split(".")
    if parts[0] == "parameters" and len(parts) > 1:
        return ".".join(parts[1:])
    if parts[0] == "policies" and len(parts) > 2:
        return f"{parts[1]}: {'.'.join(parts[2:])}"
    return key
