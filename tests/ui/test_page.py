"""The "Backfill plans" page in a real Chromium against the real Airflow of the harness (issue 12)."""

from __future__ import annotations

from collections.abc import Callable

from tests.integration import plans
from tests.integration.harness import Airflow
from tests.ui.browser import Page

NAV = "/plugin/backfill-plans"


def test_page_opens_from_the_navigation(page: Callable[[str], Page], airflow: Airflow) -> None:
    plans.submit(
        airflow, {"dag_id": "ledger_daily", "name": "ui-nav-listed", "paused": True, "dates": ["2025-08-01"]}
    )
    ui = page("admin")
    ui.open("/")
    # Airflow's own navigation has the entry, by name, and takes us to the page
    entry = ui.one(f'nav a[href$="plugin/backfill-plans"], a[href$="{NAV}"]')
    assert "Backfill plans" in (entry.get_attribute("title") or "") + entry.text + ui.text()
    entry.click()
    ui.wait(lambda: "Backfill plans" in ui.heading(), what="the page's heading")
    assert ui.driver.current_url.endswith(NAV)
    row = ui.one('tr[data-plan="ui-nav-listed"]')
    assert "paused" in row.text and "ledger_daily" in row.text
    ui.shot("plans")  # docs/plans.png: the list, with the plans the run made so far in their states
    # the text filter asks the server and keeps only matching plans
    ui.type("Filter by text", "nav-listed")
    ui.wait(lambda: len(ui.all("tbody tr[data-plan]")) == 1, what="one plan left by the filter")
    ui.type("Filter by text", "no-plan-is-called-this")
    ui.wait(lambda: not ui.all("tbody tr[data-plan]"), what="no plan left")
    assert "No plan matches" in ui.text()
    assert not ui.console_errors()


def test_page_opens_as_a_tab_of_a_dag(page: Callable[[str], Page]) -> None:
    ui = page("admin")
    ui.open("/dags/ledger_params")
    tab = ui.one('a[href$="plugin/dag-backfill-plans"]')
    assert "Backfill plans" in tab.text
    tab.click()
    ui.wait(lambda: "Backfill plans of ledger_params" in ui.heading(), what="the DAG tab's heading")


def test_create_through_the_form_and_watch_it_succeed(page: Callable[[str], Page], airflow: Airflow) -> None:
    ui = page("admin")
    ui.open("/dags/ledger_params/plugin/dag-backfill-plans")
    ui.click("New plan")
    ui.wait(lambda: "New backfill plan of ledger_params" in ui.heading(), what="the form")
    assert ui.labelled("DAG").get_attribute("value") == "ledger_params"  # filled in from the tab
    ui.type("Range 1 start", "2025-05-01")
    ui.type("Range 1 end", "2025-05-03")
    ui.type("Parallelism", "2")
    # the DAG's real tasks are offered as pickers; dry-run "audit"
    ui.click("Exclude (dry-run): audit")
    ui.type("Name", "ui-form-plan")
    ui.click("Preview")  # the preview also follows typing; the button asks at once
    ui.wait(lambda: ui.one('[data-testid="preview-total"]').text == "3", what="a preview of 3 lots")
    preview = ui.one('[data-testid="preview"]').text
    assert "2025-05-01" in preview and "Estimated duration" in preview
    assert len(ui.all('[data-testid="preview"] .calendar .cell')) == 3
    ui.shot("new-plan")
    ui.click("Create")
    ui.wait(lambda: "ui-form-plan" in ui.heading(), what="the new plan's page")
    # it updates live, without reloading, until the plan succeeds
    ui.wait(lambda: ui.all('h1 .badge[data-state="success"]'), timeout=180, what="the plan's success")
    ui.wait(lambda: ui.one('[data-testid="count-success"]').text == "3", what="3 lots succeeded")
    ui.wait(lambda: len(ui.all('.calendar .cell[data-state="success"]')) == 3, what="3 green days")
    ui.shot("plan")

    plan = plans.get(airflow, "/plans/ui-form-plan")
    assert plan["state"] == "success" and plan["parallelism"] == 2
    assert plan["tasks"]["exclude"] == ["audit"]
    ran = plans.ledger(airflow, "ui-form-plan")
    assert sorted(e["ds"] for e in ran if e["task_id"] == "load") == [
        "2025-05-01",
        "2025-05-02",
        "2025-05-03",
    ]
    assert not [e for e in ran if e["task_id"] == "audit"]  # dry-run: never executed

    ui.click("Details of lot 0")
    sql = ui.one('[data-task="load"] pre[data-field="sql"]')
    assert sql.text == "INSERT INTO sales SELECT * FROM src WHERE ds = '2025-05-01'"
    detail = ui.one('[data-testid="lot-detail"]').text
    assert "dry-run" in detail and "pending" in detail and "success" in detail  # the timeline
    run_link = ui.one('[data-testid="lot-detail"] a[href*="/runs/"]')
    assert run_link.get_attribute("href").endswith(plans.lots(airflow, "ui-form-plan")[0]["run_id"])
    ui.shot("lot")
    ui.click("Close lot detail")
    ui.wait(lambda: not ui.all('[data-testid="lot-detail"]'), what="the panel closed")
    assert not ui.console_errors()


def test_cancel_a_running_plan(page: Callable[[str], Page], airflow: Airflow) -> None:
    plan = plans.submit(
        airflow,
        {
            "dag_id": "ledger_order",
            "name": "ui-cancel-me",
            "ranges": [{"start": "2025-06-01", "end": "2025-06-20"}],
        },
    )
    ui = page("admin")
    ui.open(f"{NAV}?plan={plan['id']}")
    ui.wait(lambda: "ui-cancel-me" in ui.heading(), what="the plan's page")
    assert not ui.labelled("Resume").is_enabled()  # a running plan is not resumed
    ui.click("Cancel")
    ui.click("Confirm cancel")
    ui.wait(lambda: ui.all('h1 .badge[data-state="cancelled"]'), timeout=60, what="the plan cancelled")
    assert not ui.labelled("Cancel").is_enabled() and not ui.labelled("Pause").is_enabled()
    assert ui.labelled("Retry failed").is_enabled()  # cancelled lots may run again
    after = plans.get(airflow, "/plans/ui-cancel-me")
    assert after["state"] == "cancelled" and after["counts"]["cancelled"] >= 1
    assert after["counts"]["pending"] == after["counts"]["running"] == 0


def test_a_bad_field_is_shown_next_to_it_and_creates_nothing(
    page: Callable[[str], Page], airflow: Airflow
) -> None:
    ui = page("scoped")  # a user with rights on a few DAGs only
    ui.open(f"{NAV}?view=new")
    ui.wait(lambda: "New backfill plan" in ui.heading(), what="the form")
    ui.type("DAG", "ledger_daily")
    ui.type("Range 1 start", "2025-07-10")
    ui.type("Range 1 end", "2025-07-01")
    end = ui.labelled("Range 1 end")
    ui.wait(lambda: end.get_attribute("aria-invalid") == "true", what="the end marked invalid")
    message = end.find_element("xpath", "./ancestor::label[1]").text
    assert "before start" in message
    before = plans.get(airflow, "/plans", limit=1)["total"]
    ui.click("Create")
    ui.wait(lambda: ui.all('[role="alert"]'), what="the refusal")
    assert "ranges.0.end" in ui.one(".alert").text
    ui.shot("field-error")
    assert plans.get(airflow, "/plans", limit=1)["total"] == before

    # a DAG the user may not use: the same refusal whether it exists or not, shown on the form
    ui.type("DAG", "ledger_params")
    ui.type("Range 1 end", "2025-07-12")
    ui.wait(
        lambda: "may not create runs of DAG ledger_params" in ui.one('[aria-label="preview"]').text,
        what="the 403",
    )
    # and the plans list shows only plans on DAGs the user may read
    ui.open(NAV)
    ui.wait(lambda: "Backfill plans" in ui.heading(), what="the list")
    ui.wait(lambda: ui.all("tbody tr[data-plan]") or "No plan matches" in ui.text(), what="the list loaded")
    assert all("ledger_params" not in row.text for row in ui.all("tbody tr[data-plan]"))


def test_every_control_has_a_name_and_the_keyboard_reaches_it(page: Callable[[str], Page]) -> None:
    ui = page("admin")
    ui.open(f"{NAV}?view=new")
    ui.wait(lambda: "New backfill plan" in ui.heading(), what="the form")
    unnamed = ui.driver.execute_script(
        """
        return [...document.querySelectorAll('.bfp button, .bfp input, .bfp select, .bfp textarea')]
          .filter(el => !(el.getAttribute('aria-label') || (el.labels && el.labels.length) || el.textContent.trim()))
          .map(el => el.outerHTML.slice(0, 120));
        """
    )
    assert unnamed == []
    # Tab walks from the page's first control on, reaching the preview's Create button
    ui.labelled("Back to plans").click()
    ui.wait(lambda: ui.all('[aria-label="New plan"]'), what="the list")
    ui.labelled("New plan").send_keys("\n")
    ui.wait(lambda: "New backfill plan" in ui.heading(), what="the form, opened by keyboard")
    ui.type("DAG", "ledger_daily")
    ui.wait(lambda: ui.labelled("Create").is_enabled(), what="Create enabled")
    focused = set()
    for _ in range(80):
        active = ui.driver.switch_to.active_element
        focused.add(active.get_attribute("aria-label"))
        active.send_keys("\t")
    assert {"Parallelism", "Order", "Conf", "Preview", "Create"} <= focused


def test_light_and_dark_follow_airflow(page: Callable[[str], Page], airflow: Airflow) -> None:
    plans.submit(
        airflow, {"dag_id": "ledger_daily", "name": "ui-dark", "paused": True, "dates": ["2025-08-02"]}
    )
    ui = page("admin")
    brightness = """
        const color = getComputedStyle(document.querySelector('.bfp')).color;  // rgb() or Chakra's oklch()
        const [a, b, c] = color.match(/[0-9.]+/g).map(Number);
        return color.startsWith('oklch') ? a : (0.299 * a + 0.587 * b + 0.114 * c) / 255;
    """
    for theme, light_text in (("light", False), ("dark", True)):
        ui.open(NAV)
        ui.driver.execute_script("localStorage.setItem('theme', arguments[0])", theme)  # Airflow's own switch
        ui.open(f"{NAV}?plan=ui-dark")
        ui.wait(lambda: "ui-dark" in ui.heading(), what="the plan")
        assert (
            ui.driver.execute_script("return document.documentElement.classList.contains('dark')")
            == light_text
        )
        assert (ui.driver.execute_script(brightness) > 0.5) == light_text
        ui.shot(f"plan-{theme}")
    ui.driver.execute_script("localStorage.removeItem('theme')")
