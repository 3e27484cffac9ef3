"""report.html: one self-contained page with the same numbers as results.md, escaped user
strings, and figures that render in a real browser (Debian's Chromium, headless)."""

from __future__ import annotations

import html
import re

from plotly.offline import get_plotlyjs

from tests.report.browser import load
from tests.report.conftest import NAME


def _page(tiny) -> str:
    return (tiny.report / "report.html").read_text()


def test_report_writes_html_beside_markdown(tiny):
    code, out, err = tiny.printed["report"]
    assert code == 0, err
    assert out.strip() == f"wrote {tiny.report / 'report.html'} and {tiny.report / 'results.md'}"


def test_the_page_is_self_contained(tiny):
    page = _page(tiny)
    assert page.count(get_plotlyjs()[:300]) == 1  # plotly.js inlined once for every figure
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page)
    assert tags and all("src=" not in t and "href=" not in t for t in tags), tags
    assert len(page) < 8_000_000


def test_user_strings_are_escaped(tiny):
    page = _page(tiny)
    assert NAME not in page and "<script>alert" not in page and "<b>co</b>" not in page
    assert f"<h1>{html.escape(NAME)}: the ndcg@10" in page
    assert f"<title>{html.escape(NAME)}:" in page
    heading = (tiny.report / "results.md").read_text().splitlines()[0]
    assert "<script>" not in heading and "\\<script\\>" in heading


def _md_section(text: str, title: str) -> list[list[str]]:
    """The table rows (cells) of a results.md section."""
    section = text.split(f"## {title}")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip().replace("\\", "") for c in r.strip("|").split("|")] for r in rows[2:]]


def _html_section(page: str, title: str) -> list[list[str]]:
    section = page.split(f"<h2>{title}</h2>")[1].split("<h2>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", section)[1:]
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]


def test_markdown_and_html_state_the_same_numbers(tiny):
    md, page = (tiny.report / "results.md").read_text(), _page(tiny)
    for title in (
        "The chosen point against the baseline and the most accurate point",
        "Validation and test",
    ):
        md_rows, html_rows = _md_section(md, title), _html_section(page, title)
        assert md_rows and md_rows == html_rows, title
    section = md.split("## What the hypervolume says")[1].split("\n## ")[0]
    words = [w for w in section.split("\n\n") if w.strip()]
    assert len(words) == 4
    for paragraph in words:
        assert f"<p>{html.escape(paragraph.strip().replace(chr(92), ''))}</p>" in page


def test_the_knob_importances_and_the_reproduction_commands_are_shown(tiny):
    page = _page(tiny)
    assert "Which knob moves which objective" in page and 'id="importance"' in page
    assert f"paretorec report {tiny.run} --out REPORT_DIR" in html.unescape(page)


def test_the_page_renders_in_chromium_without_errors(tiny, tmp_path):
    shot = tmp_path / "report.png"
    seen = load(tiny.report / "report.html", shot)
    assert seen.console_errors == [] and seen.page_errors == []
    assert seen.requests == []  # offline: nothing fetched
    # three objectives: the front, the scatter matrix, parallel coordinates, the
    # hypervolume curve and the knob-importance heatmap
    assert seen.plots == 5 and seen.svgs >= 5
    assert NAME in seen.text  # shown as text, never run
    assert shot.stat().st_size > 50_000


def test_the_browser_check_catches_a_broken_page(tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<html><body><script>console.error('bad'); throw new Error('boom');</script>"
        "<div class='plotly-graph-div js-plotly-plot'><svg class='main-svg'></svg></div>"
        "</body></html>"
    )
    seen = load(broken)
    assert seen.console_errors == ["bad"] and "boom" in seen.page_errors[0]
