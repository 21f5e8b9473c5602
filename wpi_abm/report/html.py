"""How the report is written as HTML: escaping, tables, the style sheet, embedded CJK glyphs.

Everything here is about the page's form; what it says is :mod:`wpi_abm.report.sections`. The page
holds everything it shows — styles inline, no scripts, no external address — so it opens offline.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence

from wpi_abm.errors import WpiError


def esc(x: object) -> str:
    """HTML-escaped text of ``x``."""
    return html.escape(str(x), quote=True)


def table(head: Sequence[str], rows: Iterable[Sequence[object]], cls: str = "") -> str:
    """An HTML table; cells are escaped unless wrapped in :class:`Raw`."""
    out = [f'<table class="{cls}">' if cls else "<table>", "<thead><tr>"]
    out += [f"<th>{esc(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


class Raw(str):
    """Trusted HTML for a table cell (built here from escaped parts)."""


def _cell(c: object) -> str:
    return str(c) if isinstance(c, Raw) else esc(c)


CSS = """
:root { color-scheme: light; }
body { font-family: "wpi-abm-cjk", system-ui, -apple-system, "Segoe UI", "Hiragino Sans",
       "Noto Sans CJK JP", sans-serif;
       color: #111; background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #ccc;
     padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.meta, .note { color: #555; font-size: .85rem; }
nav ol { columns: 2; font-size: .9rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; width: 100%; }
th, td { border: 1px solid #ccc; padding: .25rem .45rem; vertical-align: top; text-align: left; }
th { background: #f2f2f2; }
table.num td:not(:first-child) { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.small { font-size: .75rem; }
table.kv td:first-child { white-space: nowrap; width: 14rem; }
.scroll { overflow-x: auto; }
figure { margin: 1.5rem 0; break-inside: avoid; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { font-size: .85rem; margin-top: .4rem; }
pre { font-size: .72rem; background: #f7f7f7; padding: .75rem; overflow-x: auto; }
code { font-size: .85em; }
@media print { nav, details { display: none; } main { max-width: none; } }
"""


CJK_FROM = 0x2E80
"""Characters from here on (CJK, kana, full-width forms) may be missing from a reader's fonts."""


def cjk_font_face(text: str) -> str:
    """An ``@font-face`` rule embedding IPAexGothic cut down to the CJK characters of ``text``.

    Policy descriptions and Japanese headings carry CJK characters that a machine without CJK
    fonts shows as empty boxes; embedding just the glyphs used keeps the file offline-complete at
    a few kB. The face is named first in the page's font list (Chromium otherwise settles on a
    system fallback that lacks the glyphs); holding CJK glyphs only, it leaves Latin text to the
    system fonts. Returns "" when ``text`` has none or the font package is not installed.
    """
    chars = sorted({ord(c) for c in text if ord(c) >= CJK_FROM})
    if not chars:
        return ""
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        from wpi_abm.plots.style import japanese_font_path

        font = TTFont(str(japanese_font_path()))
    except (ImportError, WpiError, OSError):
        return ""
    options = subset.Options()
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=chars)
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        '@font-face { font-family: "wpi-abm-cjk"; '
        f'src: url(data:font/ttf;base64,{data}) format("truetype"); }}'
    )


def page(
    *,
    lang: str,
    heading: str,
    meta: str,
    contents: str,
    sections: Sequence[tuple[str, str, str]],
    footer: str,
    generator: str,
) -> str:
    """The whole HTML document: header, table of contents, sections, footer, inline styles.

    Args:
        lang: The page's language (``en`` or ``ja``).
        heading: The title (plain text).
        meta: The line under the title (HTML).
        contents: The table of contents' title (plain text).
        sections: (id, title, HTML body) of each section, in order.
        footer: The closing note (HTML).
        generator: What wrote the page (plain text).
    """
    nav = "".join(f'<li><a href="#{sid}">{esc(name)}</a></li>' for sid, name, _ in sections)
    body = "".join(
        f'<section id="{sid}"><h2>{esc(name)}</h2>{content}</section>'
        for sid, name, content in sections
    )
    inner = (
        f'<header><h1>{esc(heading)}</h1><p class="meta">{meta}</p></header>'
        f"<nav><b>{esc(contents)}</b><ol>{nav}</ol></nav>{body}"
        f'<footer class="note"><p>{footer}</p></footer>'
    )
    font = cjk_font_face(inner + heading)
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="{esc(generator)}">'
        f"<title>{esc(heading)}</title><style>{font}{CSS}</style></head><body><main>"
        f"{inner}</main></body></html>\n"
    )
