"""One style for every figure: fixed policy colours, print sizes, embedded fonts, saving.

Colours follow Okabe & Ito (colour-blind safe). Each policy also has its own marker and line style
so that figures stay readable in greyscale; the built-in designs' looks are data
(``configs/policies/_index.yaml``). The Okabe–Ito yellow is nearly invisible on white and prints as
near-white in greyscale, so no built-in design gets it; it is the last resort for other designs,
and always gets a dark marker edge.

Japanese labels use IPAexGothic from the ``matplotlib-fontja`` package (the font ships inside the
wheel, so nothing is downloaded); the package is located without importing it because importing
it changes matplotlib's global font settings.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

import matplotlib as mpl
import numpy as np

mpl.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator
from matplotlib.transforms import Bbox

from wpi_abm.formats import money
from wpi_abm.plots.fonts import cache_font_subsets
from wpi_abm.plots.raster import PNG_DPI, png_from_pdf, write_file
from wpi_abm.presets import Look, policy_looks

DOUBLE = 7.0
"""Double-column width (inches)."""

# Each built-in design's look is data (configs/policies/_index.yaml, see wpi_abm.presets). Designs
# it does not list take dark colours from Paul Tol's colour-blind-safe "muted" scheme (Okabe–Ito
# has no more to give) in the order the results list them; the weak yellow comes last.
SPARE_LOOKS: tuple[Look, ...] = (
    Look("#882255", "<", "-"),
    Look("#117733", ">", "--"),
    Look("#332288", "p", ":"),
    Look("#AA4499", "d", "-."),
    Look("#44AA99", "8", (0, (5, 1))),
    Look("#F0E442", "H", (0, (1, 1))),
)

JA_FONT = "IPAexGothic"
JA_FONT_PACKAGE = "matplotlib-fontja"
JA_FONT_MODULE = "matplotlib_fontja"

RC = {
    "font.family": ["DejaVu Sans"],
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "figure.labelsize": 8,
    "figure.titlesize": 8,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "errorbar.capsize": 2,
    "hatch.linewidth": 0.5,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "savefig.dpi": PNG_DPI,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.03,
    "figure.dpi": 100,
}


def luminance(colour: str) -> float:
    """Relative luminance (0 black … 1 white) of a colour, as it prints in greyscale."""
    r, g, b = to_rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def policy_style(policy: str, others: list[str] | None = None) -> dict[str, object]:
    """Colour, marker, line style and marker edge of a policy.

    Args:
        policy: The policy's name.
        others: Every policy of the results, in order; user-defined designs are styled by their
            position among the non-built-in ones so that a folder's figures agree.

    Returns:
        Keyword arguments for ``plot``/``errorbar``: ``color``, ``marker``, ``linestyle``,
        ``markeredgecolor``.
    """
    looks = policy_looks()
    look = looks.get(policy)
    if look is None:
        spare = [p for p in (others or []) if p not in looks]
        i = spare.index(policy) if policy in spare else 0
        look = SPARE_LOOKS[i % len(SPARE_LOOKS)]
    # Only a colour that nearly vanishes on white (the yellow) needs a dark outline.
    edge = "#333333" if luminance(look.colour) > 0.7 else look.colour
    return {
        "color": look.colour,
        "marker": look.marker,
        "linestyle": look.line,
        "markeredgecolor": edge,
    }


def japanese_font_path() -> Path:
    """The bundled IPAexGothic font file.

    Raises:
        WpiError: ``matplotlib-fontja`` is not installed.
    """
    from wpi_abm.errors import WpiError

    spec = importlib.util.find_spec(JA_FONT_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise WpiError(
            f"Japanese labels need the font package {JA_FONT_PACKAGE} "
            f"(pip install {JA_FONT_PACKAGE}); it is not installed"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf"
    if not path.is_file():
        raise WpiError(f"{JA_FONT_PACKAGE} is installed but holds no {path.name}")
    return path


def _register_japanese_font() -> None:
    names = {f.name for f in font_manager.fontManager.ttflist}
    if JA_FONT not in names:
        font_manager.fontManager.addfont(str(japanese_font_path()))


@contextmanager
def style(lang: str = "en") -> Iterator[None]:
    """Apply the shared style for the figures drawn inside the block.

    Args:
        lang: ``en`` or ``ja``; Japanese adds IPAexGothic as fallback for glyphs DejaVu lacks, so
            Latin text looks the same in both languages.
    """
    rc = dict(RC)
    if lang == "ja":
        _register_japanese_font()
        rc["font.family"] = ["DejaVu Sans", JA_FONT]
    with mpl.rc_context(rc):
        yield


def save(fig: Figure, folder: Path, name: str, metadata: dict[str, str]) -> list[str]:
    """Save ``fig`` as PDF (fonts embedded, provenance in metadata) and 300-dpi PNG, then close it.

    The figure is laid out once (:func:`fix_layout`), measured once and drawn once, as the PDF;
    the PNG is that PDF's page rasterised (:func:`render`).

    Args:
        fig: The figure.
        folder: Where to write (created if missing).
        name: File stem.
        metadata: ``title``, ``subject`` (provenance), ``keywords``, ``creator``.

    Returns:
        The two file names written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    title = metadata.get("title", name)
    creator = metadata.get("creator", "wpi-abm")
    pdf_meta = {"Title": title, "Creator": creator, "Author": "wpi-abm"}
    if "subject" in metadata:
        pdf_meta["Subject"] = metadata["subject"]
    if "keywords" in metadata:
        pdf_meta["Keywords"] = metadata["keywords"]
    png_meta = {"Title": title, "Software": creator, "Description": metadata.get("subject", "")}
    try:
        render(fig, folder / f"{name}.pdf", folder / f"{name}.png", pdf_meta, png_meta)
    finally:
        plt.close(fig)
    return [f"{name}.pdf", f"{name}.png"]


def render(
    fig: Figure,
    pdf: str | Path | BinaryIO,
    png: str | Path | BinaryIO,
    pdf_meta: dict[str, str],
    png_meta: dict[str, str],
) -> None:
    """Lay ``fig`` out once, write it as PDF, and rasterise that PDF as the :data:`PNG_DPI` PNG.

    The PDF is cropped to the box the PDF backend measures (``bbox_inches="tight"`` as that
    backend has it, measured once: ~60 ms a run figure). The PNG is the PDF's page rasterised by
    PDFium (:func:`~wpi_abm.plots.raster.png_from_pdf`): the same extent and ink as the PDF, and
    matplotlib draws the figure once instead of once per file. The figure is left open.

    Args:
        fig: A drawn figure.
        pdf: Where the PDF goes.
        png: Where the PNG goes.
        pdf_meta: The PDF's metadata.
        png_meta: The PNG's text chunks.
    """
    cache_font_subsets()
    fix_layout(fig)
    box = tight_box(fig, FigureCanvasPdf)
    buffer = BytesIO()
    fig.savefig(buffer, format="pdf", metadata=pdf_meta, bbox_inches=box)
    data = buffer.getvalue()
    write_file(pdf, data)
    png_from_pdf(data, png, png_meta)


def fix_layout(fig: Figure) -> None:
    """Lay ``fig`` out once and keep that layout.

    ``savefig`` lays a figure out (runs its layout engine) before each file it writes; here the
    engine runs once and is then removed. It measures text with Agg's metrics at :data:`PNG_DPI`
    (the figures' layout since their PNGs were drawn by Agg; the PDF backend measures within a
    fraction of a point of it, and the crop is the PDF backend's, :func:`render`). The ticks are
    then fixed where they are (:func:`fix_ticks`, :func:`freeze_ticks`). A figure laid out when
    drawn (``tight_layout``) has no engine to run. Empty axis labels are not placed
    (:func:`unplace_empty_labels`). After this the figure must not change: it is only measured
    and saved.

    Args:
        fig: A drawn figure, about to be saved.
    """
    unplace_empty_labels(fig)
    engine = fig.get_layout_engine()
    if engine is not None:
        fig.dpi = PNG_DPI
        engine.execute(fig)
        # None removes the engine outright ("none" would leave a placeholder that still makes
        # savefig draw the figure once more before rendering it); the rc keys would bring one back.
        with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
            fig.set_layout_engine(None)
    fix_ticks(fig)
    freeze_ticks(fig)


def tight_box(fig: Figure, canvas: type[FigureCanvasBase]) -> Bbox:
    """The box ``savefig(bbox_inches="tight")`` crops to, as ``canvas``'s backend measures it.

    Args:
        fig: A laid-out figure (:func:`fix_layout`).
        canvas: The canvas class of the file format (its renderer measures the text).

    Returns:
        The figure's tight bounding box in inches, padded by ``savefig.pad_inches``.
    """
    own, dpi = fig.canvas, fig.dpi
    fig.dpi = mpl.rcParams["savefig.dpi"]
    canvas(fig)
    try:
        box = fig.get_tightbbox()
    finally:
        fig.set_canvas(own)
        fig.dpi = dpi
    return box.padded(mpl.rcParams["savefig.pad_inches"])


def fix_ticks(fig: Figure) -> None:
    """Replace each axis's tick locator and formatter by the ticks and labels they give now.

    Once the figure is laid out its view limits no longer change, so the ticks do not either;
    but matplotlib recomputes them every time it measures or draws an axis — for every shared
    sibling of every axis, hundreds of times per file of a nine-panel figure. Fixed, the same
    ticks and labels are drawn at a fraction of the cost. An axis whose formatter shows an offset
    or scale (``1e4``), or whose shared siblings would tick differently, is left as it is.
    """
    groups: dict[int, list[mpl.axis.Axis]] = {}
    for ax in fig.axes:
        if ax.get_visible():
            for axis in (ax.xaxis, ax.yaxis):
                # Shared axes share one ticker (locator and formatter): fix it once, for all.
                groups.setdefault(id(axis.major), []).append(axis)
    for axes in groups.values():
        ticks = set()
        for axis in axes:
            locs = tuple(axis.get_majorticklocs())
            formatter = axis.get_major_formatter()
            labels = tuple(formatter.format_ticks(list(locs)))
            offset = formatter.get_offset() if hasattr(formatter, "get_offset") else ""
            ticks.add((locs, labels, offset))
        if len(ticks) != 1:
            continue
        ((locs, labels, offset),) = ticks
        if offset:
            continue
        axes[0].set_major_locator(FixedLocator(list(locs)))
        axes[0].set_major_formatter(FixedFormatter(list(labels)))


def freeze_ticks(fig: Figure) -> None:
    """Give each axis whose ticks are fixed (:func:`fix_ticks`) the ticks it draws, once for all.

    matplotlib asks an axis for the ticks to draw (``Axis._update_ticks``) whenever it measures or
    draws it — for the axis itself, its spines and its label's position, in every tight box and
    every file: ~4,000 times for the ten figures, each moving every tick to its place again and
    resetting its label's text. With a fixed locator and formatter, no minor ticks and the view
    limits kept (the figure is laid out), every answer is the one it gives now, so it is asked
    once and that answer returned after. Only where ``_update_ticks`` (private) is a method of
    the axis's class, as in matplotlib 3.11; elsewhere nothing changes.

    Args:
        fig: A laid-out figure whose tickers :func:`fix_ticks` has fixed, about to be saved.
    """
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            if not (
                callable(getattr(type(axis), "_update_ticks", None))
                and isinstance(axis.get_major_locator(), FixedLocator)
                and isinstance(axis.get_major_formatter(), FixedFormatter)
                and isinstance(axis.get_minor_locator(), NullLocator)
            ):
                continue
            ticks = tuple(axis._update_ticks())
            # An instance attribute shadows the method; callers get a list of their own.
            axis._update_ticks = functools.partial(list, ticks)


def unplace_empty_labels(fig: Figure) -> None:
    """Stop matplotlib placing axis labels that have no text (the panels' shared labels).

    Before it measures or draws an axis, matplotlib moves the axis label clear of the tick labels,
    measuring every tick label to do so (1.6–2.1 s of the ~11 s the ten figures of a 9,000-run
    folder took in one process). Small multiples leave their axes' labels empty (the figure has
    one ``supxlabel`` and one ``supylabel``), and an empty label is drawn nowhere and adds nothing
    to any box (matplotlib gives it a zero-size box, which layouts and tight boxes leave out), so
    where it stands changes nothing. Giving it coordinates of its own (``set_label_coords``) is
    matplotlib's way to keep it where it is put.

    Args:
        fig: A drawn figure, about to be laid out and saved.
    """
    for ax in fig.axes:
        for axis, coords in ((ax.xaxis, (0.5, 0.0)), (ax.yaxis, (0.0, 0.5))):
            if not axis.label.get_text():
                axis.set_label_coords(*coords)


def thousands_axis(ax: plt.Axes, axis: str = "x") -> None:
    """Thousands separators on a money axis (M yen values run into the tens of thousands)."""
    fmt = mpl.ticker.FuncFormatter(lambda v, _pos: money(v))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def grid_shape(n: int) -> tuple[int, int]:
    """Rows and columns of small multiples for ``n`` panels on a double-column page."""
    if n <= 3:
        return 1, n
    cols = 2 if n == 4 else 3
    return -(-n // cols), cols


def err(value: float, low: float, high: float) -> list[list[float]] | None:
    """Error-bar lengths for an interval, None when the interval is unknown.

    Intervals computed in floating point can sit a hair inside their estimate (a Wilson bound of
    6.9e-18 around an estimate of 0); negative lengths are clipped so matplotlib accepts them.
    """
    if not (np.isfinite(low) and np.isfinite(high) and np.isfinite(value)):
        return None
    return [[max(0.0, value - low)], [max(0.0, high - value)]]


def policy_handle(st: dict[str, object], label: str, *, line: bool = True) -> Line2D:
    """A legend entry showing a policy's colour, marker and (optionally) line style."""
    return Line2D(
        [],
        [],
        color=st["color"],
        marker=st["marker"],
        markeredgecolor=st["markeredgecolor"],
        linestyle=st["linestyle"] if line else "none",
        markersize=4,
        label=label,
    )


def hollow_handle(label: str) -> Line2D:
    """A legend entry for hollow markers (a second estimate drawn beside a policy's filled one)."""
    return Line2D(
        [], [], color="black", marker="o", markerfacecolor="white", linestyle="none",
        markersize=4, label=label,
    )  # fmt: skip


def top_legend(fig: Figure, handles: list, ncols: int | None = None, **extra: object) -> None:
    """One legend above all panels of ``fig`` (``ncols`` defaults to :func:`legend_columns`)."""
    fig.legend(
        handles=handles,
        loc="lower center",
        ncols=ncols or legend_columns(len(handles)),
        bbox_to_anchor=(0.5, 1.0),
        borderaxespad=0.0,
        **extra,
    )


def legend_columns(n: int) -> int:
    """Columns of a legend above a double-column figure: one row up to 5 entries, else two rows."""
    return n if n <= 5 else -(-n // 2)
