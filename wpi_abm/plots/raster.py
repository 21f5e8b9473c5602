"""Each figure's PNG: the page of its PDF, rasterised by PDFium at :data:`PNG_DPI`.

The PNG is drawn from the PDF the figure has just been written as, not drawn again by
matplotlib: it is then that PDF as a PDF viewer shows it, with the same extent, and at 300 dpi
PDFium (the renderer of Chromium's PDF viewer, through ``pypdfium2``) rasterises a page in about
a third of the CPU matplotlib's Agg needed to draw the figure once more (measured on the ten run
figures: ~1.0 s against ~2.6 s, the PNG encoding aside). Text is PDFium's rendering of the
embedded fonts, a little lighter than Agg's.

*The PNG's own encoder.* The pixels are written by :func:`encode_png`, not Pillow, because
Pillow gives no choice of PNG row filter: it chooses one for every row by trying several (the
heuristic the PNG specification suggests), and that search took longer than the compression —
1.05 CPU-s for the ten run figures of a 9,000-run folder, against 0.45 s for the same rows
unfiltered at the same zlib level (Pillow also sets zlib's strategy and memory level), for files
2.8% larger (3.03 against 2.94 MB). A figure is mostly flat colour, which zlib's matcher finds as
well without a filter. The format is the PNG specification's (ISO/IEC 15948): 8-bit RGB, the
resolution in ``pHYs``, the text in ``tEXt`` (``iTXt`` where it is not Latin-1, as Pillow writes
it); tests decode the files with Pillow.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pypdfium2 as pdfium

PNG_DPI = 300
"""Resolution of the PNG files written next to each PDF."""
PNG_COMPRESS_LEVEL = 3
"""zlib level of the PNG files: levels 1–3 use zlib's fast matcher (Pillow's default is 6)."""
PDF_UNITS_PER_INCH = 72
"""A PDF page is measured in points."""
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_METRES_PER_INCH = 0.0254
_PNG_MAX = 2**31 - 1
"""The largest image width or height, and chunk length, a PNG allows."""


def png_from_pdf(pdf: bytes, png: str | Path | BinaryIO, metadata: dict[str, str]) -> None:
    """Write the first page of ``pdf`` as an RGB PNG at :data:`PNG_DPI`, on white.

    Args:
        pdf: A PDF file's bytes (one page: a figure).
        png: Where the PNG goes.
        metadata: The PNG's text chunks (title, software, description).
    """
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        # White and opaque, three bytes a pixel; in RGB order rather than PDFium's native BGR.
        bitmap = page.render(scale=PNG_DPI / PDF_UNITS_PER_INCH, rev_byteorder=True)
        data = encode_png(bitmap.to_numpy(), metadata, PNG_DPI)
    finally:
        document.close()
    write_file(png, data)


def write_file(target: str | Path | BinaryIO, data: bytes) -> None:
    """Write ``data`` to a path (the whole file) or to an open binary stream."""
    if isinstance(target, (str, Path)):
        Path(target).write_bytes(data)
    else:
        target.write(data)


def encode_png(
    pixels: np.ndarray, text: dict[str, str], dpi: int, level: int = PNG_COMPRESS_LEVEL
) -> bytes:
    """An 8-bit RGB PNG file of ``pixels``, every row unfiltered (see the module docstring).

    Args:
        pixels: ``(height, width, 3)`` unsigned bytes, red, green, blue (any strides).
        text: Keyword and text of each text chunk, in order: ``tEXt`` where the text is
            Latin-1, ``iTXt`` (UTF-8, uncompressed) otherwise.
        dpi: The resolution, written as pixels per metre (``pHYs``, rounded as Pillow does).
        level: zlib's compression level.

    Returns:
        The file's bytes.

    Raises:
        ValueError: ``pixels`` is not that shape and type or has no pixel, or more rows or
            columns than PNG allows; a keyword is not one PNG allows (1–79 printable Latin-1
            characters, no leading, trailing or double space); a text holds a NUL.
    """
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(
            f"PNG pixels must be (height, width, 3) uint8, not {pixels.shape} {pixels.dtype}"
        )
    height, width, _ = pixels.shape
    if not (0 < height <= _PNG_MAX and 0 < width <= _PNG_MAX):
        raise ValueError(f"a PNG has 1 to {_PNG_MAX} rows and columns, not {height} x {width}")
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # each row's filter type: None
    rows[:, 1:] = pixels.reshape(height, 3 * width)
    ppm = int(dpi / _METRES_PER_INCH + 0.5)
    compressed = zlib.compress(memoryview(rows), level)
    parts = [
        _SIGNATURE,
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
        *(_text_chunk(key, value) for key, value in text.items()),
        _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
        # A chunk holds at most 2**31 - 1 bytes; the image data may span several.
        *(
            _chunk(b"IDAT", memoryview(compressed)[at : at + _PNG_MAX])
            for at in range(0, len(compressed), _PNG_MAX)
        ),
        _chunk(b"IEND", b""),
    ]
    return b"".join(parts)


def _chunk(kind: bytes, data: bytes | memoryview) -> bytes:
    # The checksum runs over the type and the data, continued rather than over a joined copy.
    crc = zlib.crc32(data, zlib.crc32(kind))
    return b"".join((struct.pack(">I", len(data)), kind, data, struct.pack(">I", crc)))


def _text_chunk(key: str, value: str) -> bytes:
    try:
        keyword = key.encode("latin-1")
    except UnicodeEncodeError:
        keyword = b""
    printable = all(32 <= c <= 126 or 161 <= c <= 255 for c in keyword)
    spaced = keyword != keyword.strip(b" ") or b"  " in keyword
    if not 1 <= len(keyword) <= 79 or not printable or spaced:
        raise ValueError(
            f"{key!r} is not a PNG text keyword (1-79 printable Latin-1 characters, no leading, "
            "trailing or double space)"
        )
    if "\0" in value:
        raise ValueError(f"the PNG text {key!r} holds a NUL character")
    try:
        return _chunk(b"tEXt", keyword + b"\0" + value.encode("latin-1"))
    except UnicodeEncodeError:
        # International text: no compression, no language tag, no translated keyword.
        return _chunk(b"iTXt", keyword + b"\0\0\0\0\0" + value.encode("utf-8"))
