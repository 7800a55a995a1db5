"""The report in a real browser: Debian's Chromium driven by Playwright, offline.

Every section of the demo's report renders, every chart draws at least one trace holding
data, no JavaScript error is logged and no request leaves the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parcours.cli import main
from parcours.views.sections import SECTIONS

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("report-demo")
    workspace = directory / "demo"
    assert main(["demo", "--customers", "200", "-w", str(workspace)]) == 0
    out = {}
    for lang in ("en", "fr"):
        out[lang] = directory / f"report-{lang}.html"
        assert main(["report", "--lang", lang, "--out", str(out[lang]), "-w", str(workspace)]) == 0
    return out


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_report_renders_every_section_and_chart_offline(reports, browser, lang, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(reports[lang].as_uri())
    page.wait_for_load_state("load")

    assert errors == []
    # The file itself is the only request: nothing from a CDN or anywhere else.
    assert [u for u in requests if not u.startswith("file://")] == []
    for source in SECTIONS:
        section = page.locator(f"section#{source.key}")
        assert section.count() == 1, source.key
        # The demo has every input: no section is left out.
        assert section.locator(".skipped").count() == 0, source.key
    # Nothing a reader cannot read: no missing value printed as such.
    assert not re.search(r"\b(nan|NaN|None|inf|undefined)\b", page.inner_text("body"))
    charts = page.locator("div.chart")
    assert charts.count() >= 15
    # Each chart drew: Plotly put an SVG in it, and every trace of it holds points.
    drawn = page.evaluate(
        """() => Array.from(document.querySelectorAll('div.chart')).map(d => ({
            id: d.id,
            svg: d.querySelectorAll('svg.main-svg').length,
            empty: (d.data || []).filter(t => !['x','y','z','values','node']
                .some(k => t[k] && (t[k].length || (t[k].label || []).length))).length,
            traces: (d.data || []).length,
        }))"""
    )
    for chart in drawn:
        assert chart["svg"] > 0 and chart["traces"] > 0, chart["id"]
        assert chart["empty"] == 0, chart["id"]
    page.screenshot(path=str(tmp_path / f"report-{lang}.png"), full_page=True)
    assert (tmp_path / f"report-{lang}.png").stat().st_size > 0
    page.close()
