"""A shareable report: one self-contained HTML file built from a stored results folder.

The file holds everything it shows — figures as base64 PNG, styles inline, no scripts, no
external address — so it opens offline in any browser and can be mailed as one attachment. It is
built only from what the folder stores (manifest, summary, outcomes, panel), read through the
store's reader; nothing is re-run.

:mod:`wpi_abm.report.sections` (and :mod:`~wpi_abm.report.policies`) say what each section holds;
:mod:`wpi_abm.report.html` writes it as HTML; this module assembles the page and writes the file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from wpi_abm.experiment.store import write_file
from wpi_abm.plots.results import Results
from wpi_abm.report.html import esc, page
from wpi_abm.report.policies import policies_section
from wpi_abm.report.sections import (
    decline_section,
    figure_section,
    findings,
    full_summary,
    headline,
    provenance_section,
    question_section,
    sensitivity_section,
    sweep_section,
)
from wpi_abm.text import t

REPORT_NAME = "report.html"


def render(res: Results) -> str:
    """The report as one HTML string."""
    import wpi_abm

    lang = res.lang
    m = res.manifest
    sections: list[tuple[str, str, str]] = [
        ("question", t("question", lang), question_section(res)),
        ("headline", t("headline", lang), findings(res) + headline(res)),
        ("policies", t("policies", lang), policies_section(res)),
        ("decline", t("decline", lang), decline_section(res)),
    ]
    sweep = sweep_section(res)
    if sweep:
        sections.append(("sweep", t("sweep", lang), sweep))
    sens = sensitivity_section(res)
    if sens:
        sections.append(("sensitivity", t("sensitivity", lang), sens))
    sections += [
        ("figures", t("figures", lang), figure_section(res)),
        ("summary", t("summary", lang), full_summary(res)),
        ("provenance", t("provenance", lang), provenance_section(res)),
    ]
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    meta = (
        f"{esc(res.kind)} · {esc(m.get('status', 'unknown'))} · seed "
        f"{esc(m.get('root_seed', res.exp.seed))} · {esc(m.get('replicates', res.exp.replicates))}"
        f" replicates · {esc(m.get('started', ''))} – {esc(m.get('ended', ''))} · results "
        f"<code>{esc(res.root.name)}</code>"
    )
    footer = (
        f"Written by wpi-abm {esc(wpi_abm.__version__)} on {stamp} from the stored results only "
        "(nothing was re-run)."
    )
    return page(
        lang=lang,
        heading=f"{t('title', lang)}: {res.exp.name}",
        meta=meta,
        contents=t("contents", lang),
        sections=sections,
        footer=footer,
        generator=f"wpi-abm {wpi_abm.__version__}",
    )


def write_report(results: Path, out: Path | None = None, lang: str = "en") -> Path:
    """Write the self-contained HTML report of a results folder.

    Args:
        results: The results folder.
        out: Where to write (default: ``results/report.html``).
        lang: ``en`` or ``ja`` (figure labels and headings; Japanese needs
            ``matplotlib-fontja``).

    Returns:
        The path written.

    Raises:
        ResultsError: The folder holds no finished results.
    """
    res = Results.load(Path(results), lang)
    path = Path(out) if out is not None else Path(results) / REPORT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, render(res).encode("utf-8"))
    return path
