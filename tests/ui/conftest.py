from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from selenium import webdriver

from tests.integration.harness import Airflow
from tests.ui.browser import Page, start_chromium


@pytest.fixture(scope="session")
def chromium() -> Iterator[webdriver.Chrome]:
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(chromium: webdriver.Chrome, airflow: Airflow) -> Callable[[str], Page]:
    """``page(user)``: the browser, logged in to this backend's Airflow as that user."""
    return lambda user="admin": Page(chromium, airflow, user)
