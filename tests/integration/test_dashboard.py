"""The dashboard in a real browser (headless Chromium) while the simulator publishes events."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.integration.conftest import Stack, wait_until
from tests.integration.http_helpers import start_web_worker
from tests.integration.kafka_helpers import create_topic

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def browser() -> Iterator[Any]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package (pip install -e '.[dev]')")
    if missing:
        message = f"missing {', '.join(missing)}: apt-get install -y chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # in CI a missing browser is a broken machine, never a skip
        pytest.skip(message)
    profile = tempfile.mkdtemp(prefix="streamapp-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1400,2100",
                     f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def reading(driver: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The customers figure and each bar's (segment, count) as the page shows them now."""
    total = driver.execute_script("return document.getElementById('customers-total').textContent")
    bars = driver.execute_script(
        "return [...document.querySelectorAll('#counts rect')]"
        ".map(r => [r.dataset.segment, r.dataset.customers])")
    return str(total), tuple((str(s), str(c)) for s, c in bars)


async def test_counts_on_the_page_change_while_events_flow(
        stack: Stack, redis: Redis, browser: Any) -> None:
    await create_topic(stack.services.kafka_bootstrap, stack.events_topic)
    web = await start_web_worker(stack)
    browser.get(web.url + "/")
    assert browser.title.startswith("streamapp")
    simulator = subprocess.Popen(
        [sys.executable, "-m", "streamapp", "simulate", "--customers", "400", "--rate", "150",
         "--duration", "60", "--seed", "7"],
        env=stack.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL)
    stack.processes.append(simulator)

    seen: list[tuple[str, tuple[tuple[str, str], ...]]] = []

    def changing() -> bool:
        now = reading(browser)
        if now[1] and (not seen or now != seen[-1]):
            seen.append(now)
        return len(seen) >= 3

    await wait_until(changing, 60, "the counts on the page did not change",
                     lambda: f"readings: {seen}", stack)
    totals = [int(total.replace(",", "")) for total, _ in seen]
    assert totals == sorted(totals) and totals[-1] > totals[0]

    def pictures_drawn() -> bool:
        return bool(browser.execute_script(
            "return document.querySelectorAll('#projection circle').length > 20"
            " && document.querySelectorAll('#histograms rect').length > 0"
            " && document.querySelectorAll('#changes li').length > 0"
            " && document.querySelectorAll('#history polyline').length > 0"))

    await wait_until(pictures_drawn, 45, "the projection, histograms, feed or history are missing",
                     stack=stack)
    await asyncio.sleep(1)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
    assert "error" not in browser.find_element("id", "status").get_attribute("class")
