"""The dashboard as the browser tests see it: load, read rows, sort, filter, open details."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # selenium is imported where used: without it the tests skip, not crash
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

TIMEOUT = 20.0
CSS = "css selector"


class DashboardPage:
    """Drives one loaded dashboard page."""

    def __init__(self, driver: WebDriver, url: str, timeout: float = TIMEOUT) -> None:
        self.driver = driver
        self.timeout = timeout
        driver.get_log("browser")  # forget what earlier pages logged
        # A blank page first: loading the same file again with only the fragment changed
        # would not reload it.
        driver.get("about:blank")
        driver.get(url)
        self.wait(lambda: self.script("return document.body.dataset.ready === 'true'"))

    def script(self, code: str, *args: Any) -> Any:
        return self.driver.execute_script(code, *args)

    def wait(self, condition: Any, timeout: float | None = None) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout or self.timeout, poll_frequency=0.02).until(
            lambda _: condition()
        )

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(CSS, css)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(CSS, css)

    @property
    def renders(self) -> int:
        return int(self.script("return document.body.dataset.renders || '0'"))

    def after_render(self, action: Any) -> None:
        """Do ``action`` and wait until the table has been drawn again."""
        before = self.renders
        action()
        self.wait(
            lambda: (
                self.renders > before
                and self.script("return document.body.dataset.pending !== 'true'")
            )
        )

    @property
    def count(self) -> str:
        return self.find("#count").text

    def names(self) -> list[str]:
        """The cassette names of the rows on the current page, top to bottom."""
        return list(
            self.script(
                "return [...document.querySelectorAll('#rows tbody tr')].map(r => r.dataset.name)"
            )
        )

    def cells(self) -> list[list[str]]:
        return [
            [cell.text for cell in row.find_elements("tag name", "td")]
            for row in self.find_all("#rows tbody tr")
        ]

    def sort_by(self, key: str) -> None:
        self.after_render(lambda: self.find(f"#rows th button[data-sort='{key}']").click())

    def choose(self, select_id: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        self.after_render(lambda: Select(self.find(f"#{select_id}")).select_by_value(value))

    def type_into(self, input_id: str, text: str) -> None:
        field = self.find(f"#{input_id}")
        self.after_render(lambda: field.send_keys(text))

    def click(self, css: str) -> None:
        self.after_render(lambda: self.find(css).click())

    def open(self, name: str) -> WebElement:
        """Click the row of cassette ``name`` and wait for its detail."""
        row = next(
            r for r in self.find_all("#rows tbody tr") if r.get_attribute("data-name") == name
        )
        row.click()
        self.wait(
            lambda: self.script("return document.getElementById('detail').dataset.name") == name
        )
        return self.find("#detail")

    def open_all_calls(self) -> list[WebElement]:
        calls = self.find_all("#detail details.call")
        for call in calls:
            self.script("arguments[0].open = true", call)
        self.wait(lambda: all(c.find_elements(CSS, ".document") for c in calls))
        return calls

    def pwned(self) -> Any:
        return self.script("return window.__pwned")

    def errors(self) -> list[dict[str, Any]]:
        """Console messages at error level since the page was loaded (CSP violations are)."""
        return [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]
