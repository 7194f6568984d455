"""The officers' pages in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

A real uvicorn server on 127.0.0.1 serves a tiny scored city; the browser
signs in with a token, reads the ranked hotspots of its region, opens an
area and records an action, with no console errors (the pages run under a
strict Content-Security-Policy).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import require_component

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(os.environ.get("CONCORD_SCREENSHOTS", "/tmp"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require_component(sync_playwright is not None and CHROMIUM.exists(), "headless Chromium (/usr/bin/chromium) with playwright")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def test_officer_reads_hotspots_opens_an_area_and_records_an_action(browser, live_city, tmp_path) -> None:
    base, tokens, _ = live_city
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(base + "/")
    page.fill("#token", tokens["officer"])
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#hotspots tbody tr")
    areas = page.locator("#hotspots tbody tr").evaluate_all("rows => rows.map(r => r.dataset.area)")
    assert areas and all(area.startswith("C1") for area in areas), areas  # only district D1
    assert page.locator("#hotspots tbody tr").first.locator(".level").inner_text() in {"high", "medium", "low"}

    page.locator("#hotspots tbody tr a").first.click()
    page.wait_for_selector("#area-name")
    assert areas[0] in page.inner_text("#area-name")
    assert page.locator("svg.trend circle").count() >= 1
    page.select_option("#action", "meeting_held")
    page.fill("#note", "Residents' meeting on the wage arrears at the community centre")
    page.click("#record-action button[type=submit]")
    page.wait_for_selector("#action-message .notice")
    assert "meeting_held" in page.inner_text("#history")

    page.fill("#note", "call 13912345678")  # a phone number is refused, and said so
    page.click("#record-action button[type=submit]")
    page.wait_for_selector("#action-message .error")
    assert "phone" in page.inner_text("#action-message")

    page.screenshot(path=str(SHOTS / "area.png"), full_page=True)
    assert (SHOTS / "area.png").stat().st_size > 10_000
    page.goto(base + "/ui/#/area/C201")  # outside the officer's region
    page.wait_for_selector("p.error")  # the page's error, not the form's earlier one
    assert "404" in page.inner_text("p.error")
    # Refused requests (the 422 and the 404 above) log "Failed to load resource"; nothing else may
    # appear: no script error and no Content-Security-Policy violation.
    assert not [e for e in errors if not e.startswith("Failed to load resource")], errors
