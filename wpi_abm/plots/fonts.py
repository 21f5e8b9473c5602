"""Font subsets for the PDFs, made faster, every glyph as matplotlib's own subset draws it.

Every PDF embeds the glyphs it uses as a subset of its font (TrueType, ``pdf.fonttype`` 42), and
matplotlib makes each subset with fontTools from the whole font file: about a quarter of a second
per subset for DejaVu Sans, most of it spent on the font's large layout tables (GSUB, GPOS)
whatever the glyphs. A figure's PDF holds two subsets — the glyphs of its text, and the one
ligature its labels typeset ("ff") — so the subsets cost more than rendering the PDF itself.

:func:`cache_font_subsets` wraps matplotlib's subsetting function (``get_glyphs_subset`` of
``matplotlib.backends._backend_pdf_ps``, private, so only where it has the shape it has in
matplotlib 3.11) so that

- a subset made once in this process is kept and given again (the ligature subset is the same in
  every figure), and
- the first time a font is subset, a *base* subset of it is made once with matplotlib's own
  function: the glyphs of :data:`REPERTOIRE` (what the figures' labels use: Latin, Greek,
  punctuation, arithmetic signs, the f-ligatures) and whatever the font's substitutions reach from
  them, then its text-layout tables (:data:`LAYOUT_TABLES`) are dropped. Any later subset whose
  glyphs all lie in the base is made from the base — again with matplotlib's own function — in
  a tenth of the time of the whole font's (without layout tables, fontTools has no substitutions
  to follow). Each glyph keeps its name, outline and advance width; only the glyph ids and the
  tables no PDF viewer reads differ from matplotlib's own subset, so the PDFs draw the same text
  in the same places (``tests/test_plots.py`` checks the glyphs; the PDF's text is written as
  character codes, which the CIDToGIDMap maps to the subset's ids). Glyphs outside the base
  (Japanese labels use another font) take the whole font, matplotlib's subset byte for byte.

Both are kept per process; the figure workers fork from a server that has made them already
(:mod:`wpi_abm.plots.warmup`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from contextlib import AbstractContextManager
from io import BytesIO
from pathlib import Path
from typing import Any

REPERTOIRE = (
    "".join(chr(c) for c in range(0x20, 0x7F))  # ASCII
    + "".join(chr(c) for c in range(0xA0, 0x100))  # Latin-1: ¥ × · ° ± µ
    + "".join(chr(c) for c in range(0x391, 0x3CA))  # Greek: θ μ σ Δ
    + "‐‑–—‘’‚“”„†•…‰′″€"  # dashes, quotes, bullets
    + "←↑→↓↔⇒∆−∓×÷√∞∼≈≠≤≥"  # arrows and arithmetic
    + "ﬀﬁﬂﬃﬄ"  # the ligatures shaping makes of ff, fi, fl, ffi, ffl
)
"""Characters whose glyphs go into the base subset of each font (see the module docstring)."""

LAYOUT_TABLES = ("GDEF", "GPOS", "GSUB", "BASE", "JSTF", "MATH", "kern")
"""Tables the base subset leaves out: text layout (shaping, kerning, maths layout), which
matplotlib has done before it writes the PDF. A PDF places each glyph by its id where matplotlib
put it; no viewer reads these tables of an embedded CID font."""

_Key = tuple[str, int, frozenset[int]]
_Made = tuple[bytes, dict[int, int]]


class _Subsets:
    """matplotlib's ``get_glyphs_subset``, with subsets kept and made from a base subset."""

    def __init__(self, make: Any, module: Any) -> None:
        self.make = make
        self.module = module
        self.made: dict[_Key, _Made] = {}
        self.bases: dict[tuple[str, int], _Made | None] = {}

    def __call__(self, fontfile: Any, glyphs: Iterable[int]) -> AbstractContextManager[Any]:
        """What ``get_glyphs_subset(fontfile, glyphs)`` gives, made at most once per process."""
        wanted = frozenset(int(g) for g in glyphs)
        font = (str(fontfile), int(getattr(fontfile, "face_index", 0)))
        key = (*font, wanted)
        if key not in self.made:
            self.made[key] = self._from_base(fontfile, font, wanted) or self._subset(
                fontfile, wanted
            )
        data, index = self.made[key]
        from fontTools.ttLib import TTFont

        # Loaded as fontTools loads a subset (recalc_timestamp off): saved again, the same bytes.
        loaded = TTFont(BytesIO(data), recalcTimestamp=False)
        return self.module.SubsetResults(loaded, dict(index))._as_cm()

    def _subset(self, fontfile: Any, glyphs: Iterable[int]) -> _Made:
        with self.make(fontfile, set(glyphs)) as result:
            return self.module.font_as_file(result.font).getvalue(), dict(result.glyph_index_map)

    def _from_base(
        self, fontfile: Any, font: tuple[str, int], wanted: frozenset[int]
    ) -> _Made | None:
        if font not in self.bases:
            self.bases[font] = self._base(fontfile, font)
        base = self.bases[font]
        if base is None or not wanted <= base[1].keys():
            return None
        data, to_base = base
        # matplotlib's subsetting reads a font file by name: the base is written for the call
        # and removed after (a kept file would outlive forked workers, which skip exit hooks).
        with tempfile.TemporaryDirectory(prefix="wpi-abm-font-") as folder:
            path = Path(folder) / f"base{Path(font[0]).suffix}"
            path.write_bytes(data)
            from matplotlib.font_manager import FontPath

            data, from_base = self._subset(FontPath(str(path), 0), {to_base[g] for g in wanted})
        # Glyph ids of the whole font → of the base → of this subset.
        index = {g: from_base[b] for g, b in to_base.items() if b in from_base}
        return data, index

    def _base(self, fontfile: Any, font: tuple[str, int]) -> _Made | None:
        """The base subset of ``font`` (font file bytes, glyph ids it maps); None if none."""
        if font[1] != 0:
            return None  # a face of a font collection: subset whole, as before
        from matplotlib.ft2font import FT2Font

        try:
            charmap = FT2Font(font[0]).get_charmap()
        except (OSError, RuntimeError, ValueError):
            return None  # a font FreeType cannot read here: subset whole, as before
        glyphs = {charmap[ord(c)] for c in REPERTOIRE if ord(c) in charmap}
        if not glyphs:
            return None
        data, index = self._subset(fontfile, glyphs)
        return _without_layout_tables(data), index


def _without_layout_tables(data: bytes) -> bytes:
    """The font file ``data`` without its :data:`LAYOUT_TABLES`, every other table as it was."""
    from fontTools.ttLib import TTFont

    font = TTFont(BytesIO(data), recalcTimestamp=False)
    for tag in LAYOUT_TABLES:
        if tag in font:
            del font[tag]
    out = BytesIO()
    font.save(out)
    return out.getvalue()


def cache_font_subsets() -> None:
    """Install the subset cache of this module in matplotlib's PDF backend (once per process).

    Only where the private hook has matplotlib 3.11's shape (``get_glyphs_subset`` returning a
    context manager of ``SubsetResults``, fonts named by ``FontPath``); elsewhere nothing changes.
    """
    from matplotlib import font_manager
    from matplotlib.backends import _backend_pdf_ps as pdf_ps

    make = getattr(pdf_ps, "get_glyphs_subset", None)
    if make is None or isinstance(make, _Subsets):
        return
    if not all(hasattr(pdf_ps, n) for n in ("SubsetResults", "font_as_file")):
        return
    if not hasattr(font_manager, "FontPath"):
        return
    pdf_ps.get_glyphs_subset = _Subsets(make, pdf_ps)
