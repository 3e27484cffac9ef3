"""Load a report page in Debian's headless Chromium (driven by playwright, never a
downloaded browser): what the console and the page said, what rendered, and a screenshot.

Run alone to screenshot a report: ``python -m tests.report.browser REPORT.html OUT.png``.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL = "install it: apt-get update && apt-get install -y chromium (.ci/run does)"


def chromium() -> str:
    """The system Chromium's path; an AssertionError naming the fix when it is missing."""
    found = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    assert found, f"Chromium not found at {CHROMIUM} or on PATH; {INSTALL}"
    return found


@dataclass
class Page:
    """What a page load showed."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # anything not file: or data:
    plots: int = 0  # rendered plotly figures (.js-plotly-plot with an svg)
    svgs: int = 0  # plotly's .main-svg layers
    text: str = ""


def load(path: Path, screenshot: Path | None = None, width: int = 1280) -> Page:
    """Open ``path`` (file://), wait until every plotly figure has drawn, and report."""
    from playwright.sync_api import sync_playwright

    seen = Page()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on(
                "console",
                lambda m: seen.console_errors.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
            page.on(
                "request",
                lambda r: (
                    seen.requests.append(r.url)
                    if not r.url.startswith(("file:", "data:", "blob:"))
                    else None
                ),
            )
            page.goto(path.resolve().as_uri(), wait_until="load")
            expected = page.locator(".plotly-graph-div").count()
            page.wait_for_function(
                f"document.querySelectorAll('.js-plotly-plot .main-svg').length > 0 && "
                f"document.querySelectorAll('.js-plotly-plot').length >= {expected}",
                timeout=30_000,
            )
            seen.plots = page.locator(".js-plotly-plot").count()
            seen.svgs = page.locator(".js-plotly-plot .main-svg").count()
            seen.text = page.inner_text("body")
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return seen


if __name__ == "__main__":
    shown = load(Path(sys.argv[1]), Path(sys.argv[2]))
    print(
        f"{shown.plots} plots, {shown.svgs} svg layers, console errors {shown.console_errors}, "
        f"page errors {shown.page_errors}, requests {shown.requests}"
    )
