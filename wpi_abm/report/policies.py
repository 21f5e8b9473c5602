"""Policy designs in words: the yearly amounts, evaluations, matching and growth plan of each.

The report's "Policies compared" table is written from these, from the designs the results folder
recorded (never from the packaged files, which may have changed since).
"""

from __future__ import annotations

from wpi_abm.plots.results import Results
from wpi_abm.policy import FOREVER, PolicyDesign
from wpi_abm.report.html import Raw, esc, table

HEAD = (
    "policy",
    "support (segments)",
    "evaluations",
    "matching",
    "growth plan",
    "flexibility",
    "foresight",
    "hosts",
)


def _amount(value: float | list[float]) -> str:
    if isinstance(value, list):
        if len(set(value)) == 1:
            return f"{value[0]:,g}"
        return f"{value[0]:,g} → {value[-1]:,g}"
    return f"{value:,g}"


def describe_segments(policy: PolicyDesign) -> str:
    """The yearly amounts, e.g. ``years 1–10: 700; years 11–15: 0 + matching if certification``."""
    parts = []
    for seg in policy.segments:
        end = "∞" if seg.to_year == FOREVER else str(seg.to_year)
        text = f"years {seg.from_year}–{end}: {_amount(seg.amount)}"
        if seg.matching:
            text += " + matching"
        if seg.gate:
            text += f" if '{seg.gate}' passed"
            if seg.otherwise not in (0, 0.0):
                text += f" (else {_amount(seg.otherwise)})"
        parts.append(text)
    return "; ".join(parts) + " (M yen/yr)"


def describe_evaluations(policy: PolicyDesign) -> str:
    """Each evaluation with its year, bar and consequence."""
    out = []
    for ev in policy.evaluations:
        fail = {"continue": "recorded", "stop": "stop", "cut": f"cut {100 * ev.cut_fraction:g}%"}
        out.append(f"{ev.name} (y{ev.year}, pass ≥ {ev.pass_score:g}, fail: {fail[ev.on_fail]})")
    return "; ".join(out) or "none"


def describe_matching(policy: PolicyDesign) -> str:
    """The matching rule, if any."""
    m = policy.matching
    if m is None:
        return "—"
    return f"≤ {m.cap:,g} M yen/yr, {m.ratio:g} × {' + '.join(m.eligible)} funds"


def describe_growth(policy: PolicyDesign) -> str:
    """The growth & development plan, if any."""
    g = policy.growth_plan
    if g is None:
        return "—"
    return (
        f"year {g.year}: host conversion ×{g.host_conversion_multiplier:g}, commitment "
        f"{g.host_commitment:g}, private-funding push ×{g.private_funding_push:g}"
    )


def policy_rows(res: Results) -> list[list[object]]:
    """One row per policy with its parameters."""
    rows: list[list[object]] = []
    for p in res.policies:
        design = res.exp.policies.get(p)
        if design is None:
            rows.append([p, "—", "—", "—", "—", "—", "—", "—"])
            continue
        name = Raw(
            f"<b>{esc(res.label(p))}</b><br><code>{esc(p)}</code>"
            + (f'<div class="note">{esc(design.description)}</div>' if design.description else "")
        )
        rows.append(
            [
                name,
                describe_segments(design),
                describe_evaluations(design),
                describe_matching(design),
                describe_growth(design),
                f"from year {design.flexibility.from_year}" if design.flexibility else "—",
                f"from year {design.foresight.from_year}" if design.foresight else "—",
                design.hosts_per_centre,
            ]
        )
    return rows


def policies_section(res: Results) -> str:
    """The policies compared, one row each with its parameters."""
    return table(HEAD, policy_rows(res))
