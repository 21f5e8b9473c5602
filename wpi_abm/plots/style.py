"""One style for every figure: fixed policy colours, print sizes, embedded fonts.

Colours follow Okabe & Ito (colour-blind safe); each policy also has its own marker and line
style so that figures stay readable in greyscale.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

SINGLE = 3.5
"""Single-column width (inches)."""
DOUBLE = 7.0
"""Double-column width (inches)."""

# Okabe–Ito, then two dark greys; fixed per built-in policy, then assigned in order for others.
PALETTE = (
    "#000000", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442",
    "#666666", "#999999",
)  # fmt: skip
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")
LINES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1)), "-", "--", "-.")
BUILTIN_ORDER = (
    "legacy", "legacy_2007", "legacy_extension_taper", "reform_2024", "taper", "wpi_core",
    "multiple_host", "flat_15", "flat_forever",
)  # fmt: skip

RC = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "figure.dpi": 100,
}


def policy_style(policy: str, others: list[str] | None = None) -> dict[str, object]:
    """Colour, marker and line style of a policy (built-ins fixed; others in order given)."""
    if policy in BUILTIN_ORDER:
        i = BUILTIN_ORDER.index(policy)
    else:
        extra = [p for p in (others or []) if p not in BUILTIN_ORDER]
        i = len(BUILTIN_ORDER) + (extra.index(policy) if policy in extra else 0)
    i %= len(PALETTE)
    return {"color": PALETTE[i], "marker": MARKERS[i], "linestyle": LINES[i]}


@contextmanager
def style() -> Iterator[None]:
    """Apply the shared style for the figures drawn inside the block."""
    with mpl.rc_context(RC):
        yield


def save(fig: Figure, folder: Path, name: str, metadata: dict[str, str]) -> list[str]:
    """Save ``fig`` as PDF (fonts embedded, provenance in metadata) and 300-dpi PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    pdf_meta = {"Title": metadata.get("title", name), "Creator": "wpi-abm"}
    if "subject" in metadata:
        pdf_meta["Subject"] = metadata["subject"]
    if "keywords" in metadata:
        pdf_meta["Keywords"] = metadata["keywords"]
    fig.savefig(folder / f"{name}.pdf", metadata=pdf_meta)
    fig.savefig(
        folder / f"{name}.png", metadata={"Title": pdf_meta["Title"], "Software": "wpi-abm"}
    )
    plt.close(fig)
    return [f"{name}.pdf", f"{name}.png"]
