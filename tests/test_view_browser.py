"""`aiev view` in a real headless Chromium: a run made by the scripted teacher, served and as one file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, missing_browser, wait_for

from aiev_agents.view import ViewedRun, ViewServer, write_html

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser())),
]


@pytest.fixture(scope="module")
def server(scripted_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ViewServer]:
    run = ViewedRun(scripted_run, index_path=tmp_path_factory.mktemp("index") / "index.sqlite")
    with ViewServer(run, port=0) as served:
        yield served


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chromium() as session:
        yield session


def text(driver: Any, selector: str) -> str:
    """The text of the first element ``selector`` finds ("" if none), read in one step: the page
    may be redrawn between two WebDriver calls."""
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : ''", selector
    )


def heading(driver: Any) -> str:
    return text(driver, "main h1")


def open_page(driver: Any, url: str, title: str) -> None:
    """Load ``url`` afresh (a new hash on the same page would otherwise leave the old one showing for a moment)."""
    driver.get("about:blank")
    driver.get(url)
    wait_for(driver, lambda d: heading(d).startswith(title))


def test_the_overview_draws_the_report_figures_as_charts(driver: Any, server: ViewServer) -> None:
    open_page(driver, server.url, "Overview")
    counts = driver.find_element("css selector", "table.counts").text
    assert "dialogues 4" in counts and "verified 3" in counts and "verified rate 75.0 %" in counts
    wait_for(driver, lambda d: len(d.execute_script("return Object.keys(Chart.instances)")) == 5)


def test_filtering_to_failed_dialogues_and_opening_one_shows_its_diff_and_output(
    driver: Any, server: ViewServer
) -> None:
    from selenium.webdriver.support.ui import Select

    open_page(driver, server.url + "#/list", "Dialogues")
    Select(driver.find_element("css selector", "select[name=verified]")).select_by_value("no")
    wait_for(driver, lambda d: text(d, "#total") == "1 match")
    assert "verified=no" in driver.current_url  # the filter is in the permalink
    driver.find_element("css selector", "table.list tbody tr").click()
    wait_for(driver, lambda d: heading(d).startswith("never-passed"))
    diff = driver.find_element("css selector", "section.diff").text
    assert "-    return a - b" in diff and "+    return a * b" in diff
    outputs = [run.text for run in driver.find_elements("css selector", "section.execution pre.output")]
    assert len(outputs) == 2 and all("AssertionError: add(2, 3) should be 5" in text for text in outputs)
    assert "exit code 1" in driver.find_element("css selector", "section.execution table.facts").text


def test_keys_move_through_the_list_and_from_dialogue_to_dialogue(driver: Any, server: ViewServer) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(driver, server.url + "#/list?verified=yes", "Dialogues")
    keys = ActionChains(driver)
    keys.send_keys("j").send_keys("\ue007").perform()  # j: down one row, Enter: open it
    wait_for(driver, lambda d: heading(d).startswith("fixed"))
    ActionChains(driver).send_keys("n").perform()
    wait_for(driver, lambda d: heading(d).startswith("also-first-try"))
    ActionChains(driver).send_keys("p").send_keys("p").perform()
    wait_for(driver, lambda d: heading(d).startswith("first-try"))
    ActionChains(driver).send_keys("u").perform()
    wait_for(driver, lambda d: heading(d) == "Dialogues" and "verified=yes" in d.current_url)


def test_a_dialogue_permalink_opens_that_dialogue(driver: Any, server: ViewServer) -> None:
    open_page(driver, server.url + "#/d/fixed", "fixed")
    turns = driver.find_elements("css selector", ".turns > div.turn")
    assert [turn.find_element("css selector", ".who").text.split(" ")[0] for turn in turns][:3] == [
        "questioner",
        "programmer",
        "executor",
    ]
    assert driver.find_element("css selector", "details.turn.system").get_attribute("open") is None  # folded
    assert driver.find_elements("css selector", "pre.code code.hljs")  # highlighted
    assert "mutation" in driver.find_element("css selector", "dl.checks").text


def test_the_html_file_works_from_disk_without_a_server(driver: Any, scripted_run: Path, tmp_path: Path) -> None:
    run = ViewedRun(scripted_run, index_path=tmp_path / "index.sqlite")
    page = tmp_path / "run.html"
    assert write_html(run, page) == 4
    open_page(driver, page.as_uri() + "#/list?q=never", "Dialogues")
    wait_for(driver, lambda d: text(d, "#total") == "1 match")
    driver.find_element("css selector", "table.list tbody tr").click()
    wait_for(driver, lambda d: heading(d).startswith("never-passed"))
    assert "+    return a * b" in driver.find_element("css selector", "section.diff").text
    open_page(driver, page.as_uri() + "#/", "Overview")
    wait_for(driver, lambda d: len(d.execute_script("return Object.keys(Chart.instances)")) == 5)


def test_sorting_from_the_list_orders_the_rows_and_keeps_the_filter(driver: Any, server: ViewServer) -> None:
    from selenium.webdriver.support.ui import Select

    open_page(driver, server.url + "#/list?verified=yes", "Dialogues")
    Select(driver.find_element("css selector", "select[name=sort]")).select_by_value("rounds")
    rendered = "return document.querySelector('select[name=sort]').value === 'rounds'"
    wait_for(driver, lambda d: "sort=rounds" in d.current_url and d.execute_script(rendered))
    Select(driver.find_element("css selector", "select[name=order]")).select_by_value("desc")
    wait_for(driver, lambda d: "order=desc" in d.current_url and text(d, "table.list tbody tr td").startswith("fixed"))
    assert "verified=yes" in driver.current_url
    assert text(driver, "#total") == "3 match"
