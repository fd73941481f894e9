"""A real Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium, logged in to the
harness's Airflow the way the UI is: by the ``_token`` cookie that ``POST /auth/token`` hands out."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.integration.harness import Airflow

CHROMIUM = os.environ.get("BACKFILL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BACKFILL_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(os.environ.get("BACKFILL_TEST_SCREENSHOTS", "build/screenshots"))
"""where the tests save what they saw (the README shows copies kept in docs/)"""

T = TypeVar("T")


def start_chromium() -> webdriver.Chrome:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look for a browser on the network
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Page:
    """One browser logged in as one Airflow user."""

    def __init__(self, driver: webdriver.Chrome, af: Airflow, user: str) -> None:
        self.driver, self.af, self.user = driver, af, user
        driver.delete_all_cookies()
        driver.get(f"{af.url}/api/v2/version")  # a page of the api-server's origin, to set its cookie
        driver.add_cookie({"name": "_token", "value": af.token(user), "path": "/"})
        driver.get_log("browser")  # drained: console_errors() tells only what this page did

    def open(self, path: str) -> None:
        self.driver.get(f"{self.af.url}{path}")

    def wait(self, found: Callable[[], T | None], timeout: float = 30, what: str = "") -> T:
        """``found()`` once it returns something true, or fail with what the page shows."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = found()
                if value:
                    return value
            except (StaleElementReferenceException, WebDriverException):
                pass
            if time.monotonic() > deadline:
                self.shot(f"timeout-{what or 'wait'}")
                raise TimeoutError(
                    f"{what or 'condition'} not seen after {timeout}s; page:\n{self.text()[:3000]}"
                )
            time.sleep(0.2)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def one(self, css: str, timeout: float = 30) -> WebElement:
        return self.wait(lambda: next(iter(self.all(css)), None), timeout, css)

    def labelled(self, label: str, timeout: float = 30) -> WebElement:
        """The control whose accessible name is ``label`` (what a screen reader and a keyboard user find)."""
        return self.one(f'[aria-label="{label}"]', timeout)

    def click(self, label: str) -> None:
        control = self.labelled(label)
        self.wait(control.is_enabled, 30, f"{label} enabled")
        control.click()

    def type(self, label: str, text: str) -> None:
        box = self.labelled(label)
        # as a user would: select all and type over it (clear() sets the value behind React's back)
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE)
        box.send_keys(text)

    def text(self) -> str:
        try:
            return str(self.driver.find_element(By.TAG_NAME, "body").text)
        except WebDriverException:
            return ""

    def heading(self) -> str:
        return " ".join(h.text for h in self.all(".bfp h1"))

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def console_errors(self) -> list[Any]:
        return [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]
