"""The HTML report: one self-contained file, parsed, and rendered in headless Chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image as mpimg
import pytest
from test_plots import POLICIES, build_analytic, build_run, build_sensitivity, build_sweep

from wpi_abm.plots.results import Results
from wpi_abm.report import REPORT_NAME, write_report

CHROMIUM = Path("/usr/bin/chromium")
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "data", "poster", "srcset", "background"}


class Page(HTMLParser):
    """What the checks need from a page: images, tables, links, headings, text."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.tables: list[dict[str, int]] = []
        self.urls: list[str] = []
        self.tags: set[str] = set()
        self.headings: list[str] = []
        self.text: list[str] = []
        self.svg = 0
        self._in_heading = False
        self._tbody = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        a = dict(attrs)
        self.urls += [v for k, v in a.items() if k in URL_ATTRIBUTES and v]
        if tag == "img":
            self.images.append(a)
        elif tag == "svg":
            self.svg += 1
        elif tag == "table":
            self.tables.append({"head": 0, "body": 0})
        elif tag == "tbody":
            self._tbody = True
        elif tag == "tr" and self.tables:
            self.tables[-1]["body" if self._tbody else "head"] += 1
        elif tag in ("h1", "h2", "h3"):
            self._in_heading = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._tbody = False
        elif tag in ("h1", "h2", "h3"):
            self._in_heading = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_heading:
            self.headings[-1] += data


def parse(path: Path) -> tuple[Page, str]:
    html = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    page.close()
    return page, html


def words(page: Page) -> str:
    """The page's text as a reader sees it (tags gone, white space collapsed)."""
    return re.sub(r"\s+", " ", "".join(page.text))


def assert_self_contained(page: Page, html: str) -> None:
    """Every image embedded, every table filled, nothing fetched from anywhere."""
    assert page.images or page.svg
    for img in page.images:
        src = img.get("src") or ""
        assert src.startswith("data:image/png;base64,"), src[:40]
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
        assert img.get("alt")
    assert page.tables
    for t in page.tables:
        assert t["head"] >= 1 and t["body"] >= 1, t
    for url in page.urls:
        assert url.startswith(("#", "data:")), url
    assert not re.search(r"url\(\s*['\"]?(?!data:)", html), "CSS may only load data: URLs"
    assert not re.search(r"(src|href)\s*=\s*['\"]?\s*(https?:)?//", html, re.I)
    assert not {"script", "link", "iframe", "object", "embed"} & page.tags


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def run_report(run_folder: Path) -> Path:
    return write_report(run_folder)


def test_report_is_written_next_to_the_results(run_folder: Path, run_report: Path) -> None:
    assert run_report == run_folder / REPORT_NAME
    assert run_report.stat().st_size > 50_000


def test_report_is_self_contained(run_report: Path) -> None:
    page, html = parse(run_report)
    assert_self_contained(page, html)
    assert len(page.images) == 10  # every figure a plain run allows


def test_report_says_what_was_asked_compared_and_measured(run_folder: Path, run_report: Path):
    page, _ = parse(run_report)
    text = words(page)
    res = Results.load(run_folder)
    for heading in (
        "The question",
        "Headline results",
        "Policies compared",
        "How a decline is defined",
        "Figures",
        "Full summary table",
        "Provenance",
    ):
        assert heading in page.headings
    for p in POLICIES:
        assert res.label(p) in text
    # policy parameters
    assert "years 1–10: 700" in text and "≤ 300 M yen/yr" in text  # legacy; reform's matching
    assert "year 6: host conversion ×2" in text  # reform's growth plan
    # decline definition and provenance
    assert "θ = 10%" in text and "years 11, 12" in text
    assert "20231128" in text and "mesa 3.5" in text
    assert str(res.manifest["git_commit"]) in text
    # captions are numbered and filled in
    assert "Figure 1. P(decline) per policy." in text
    assert not re.search(r"\{[a-z]+\}", text), "every caption field filled in"
    # outcomes beyond the binary test, and the frontier on the end-of-support outcome
    assert "Value-years lost (value-years)" in text and "Researchers in year 20" in text
    assert "Cost per value-year kept (M yen) vs" in text and "Fieller" in text
    assert "On the Pareto frontier of cost and Value-years lost after end of support" in text
    # figures a plain run cannot have are listed with the reason
    assert "not a sweep" in text and "sensitivity.csv" in text


def test_report_of_a_folder_without_panel_to_another_path(run_folder: Path, tmp_path: Path):
    folder = tmp_path / "nopanel"
    shutil.copytree(run_folder, folder, ignore=shutil.ignore_patterns("runs", "figures", "*.html"))
    out = write_report(folder, tmp_path / "sub" / "r.html")
    assert out == tmp_path / "sub" / "r.html" and not (folder / REPORT_NAME).exists()
    page, html = parse(out)
    assert_self_contained(page, html)
    assert len(page.images) == 3
    assert "no centre × year panel" in words(page)


def test_report_of_a_sweep_and_a_sensitivity_study(tmp_path_factory) -> None:
    base = tmp_path_factory.getbasetemp()
    levers = {
        "policies.reform_2024.matching.cap": [100.0, 300.0, 500.0],
        "parameters.host.absorption_share": [0.2, 0.4, 0.6, 0.8],
    }
    sweep = build_sweep(base, "two", "grid", levers)
    page, html = parse(write_report(sweep, base / "sweep-report.html"))
    assert_self_contained(page, html)
    text = words(page)
    assert "Swept parameters" in page.headings
    assert "host.absorption_share" in text and "Design: grid" in text
    assert len(page.images) == 3  # cost-effectiveness, response, heatmap

    sens = build_sensitivity(base)
    page, html = parse(write_report(sens, base / "sens-report.html"))
    assert_self_contained(page, html)
    assert "Most influential parameters" in page.headings
    assert len(page.images) == 4


def test_report_of_an_analytic_study(tmp_path_factory) -> None:
    folder = build_analytic(tmp_path_factory.getbasetemp())
    page, html = parse(write_report(folder))
    assert_self_contained(page, html)
    text = words(page)
    assert "ishigami" in text and "x2" in text
    assert len(page.images) == 2


def test_japanese_report(run_folder: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib_fontja", reason="Japanese labels need matplotlib-fontja")
    folder = tmp_path / "nopanel"  # two figures are enough to see the labels (and faster)
    shutil.copytree(run_folder, folder, ignore=shutil.ignore_patterns("runs", "figures", "*.html"))
    out = write_report(folder, tmp_path / "ja.html", lang="ja")
    page, html = parse(out)
    assert_self_contained(page, html)
    assert "問い" in page.headings and '<html lang="ja">' in html
    # the CJK glyphs the page uses travel with it
    assert re.search(r"@font-face \{ font-family: \"wpi-abm-cjk\"; src: url\(data:font/ttf", html)


def screenshot(page: Path, png: Path, profile: Path) -> None:
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1280,2000",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)")
def test_report_renders_in_headless_chromium(run_report: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    screenshot(run_report, png, tmp_path / "profile")
    pixels = mpimg.imread(png)[..., :3]
    assert pixels.shape[:2] == (2000, 1280)
    assert pixels.var() > 1e-3, "the page rendered blank"
    dark = (pixels.mean(axis=2) < 0.5).mean()
    assert dark > 0.01, "hardly any text or figure on the first screen"
