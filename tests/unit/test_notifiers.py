"""Plan notifications: the deployment's targets; the message is the provider's text of the plan's
fields (or the deployment's template), and nothing a plan sends is rendered."""

from __future__ import annotations

import json

import pytest

from airflow_backfill_provider import notifiers

FACTS = {
    "name": "rebuild-q1",
    "title": "{{ '%0100000000d' % 1 }} <b>Q1</b>",
    "dag_id": "sales",
    "state": "failed",
    "counts": {"success": 88, "failed": 2, "skipped": 0},
    "total_lots": 90,
    "failed_lots": [{"index": 3, "label": "2024-01-04", "reason": "{{ var.value.secret }}"}],
    "url": "http://airflow/plugin/backfill-plans?plan=rebuild-q1",
    "created_by": "author",
}
LEDGER = {"notifier": "tests.unit.test_notifiers.Recorder", "kwargs": {"label": "team"}, "subject": "subject"}


class Recorder:
    """Stands for a notifier class (``build`` checks the class only through ``notifier_class``)."""

    template_fields = ("label", "subject", "message")

    def __init__(self, label: str, subject: str = "", message: str = "") -> None:
        self.label, self.subject, self.message = label, subject, message


def _targets(monkeypatch: pytest.MonkeyPatch, **targets: dict) -> None:
    monkeypatch.setenv("AIRFLOW__BACKFILL__NOTIFICATION_TARGETS", json.dumps(targets))


def test_the_providers_text_holds_the_plans_fields_as_data():
    subject, body = notifiers.message(FACTS, "text")
    assert subject.startswith("Backfill plan rebuild-q1 ({{ '%0100000000d' % 1 }} <b>Q1</b>) ended failed")
    assert "88 of 90 lots done, 2 failed" in subject
    assert "- lot 3 (2024-01-04): {{ var.value.secret }}" in body
    assert "- and 1 more" in body and FACTS["url"] in body
    _, html = notifiers.message(FACTS, "html")
    assert "&lt;b&gt;Q1&lt;/b&gt;" in html and "<b>Q1</b>" not in html


def test_the_deployments_template_sees_the_plan_as_data_in_a_sandbox(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW__BACKFILL__NOTIFICATION_SUBJECT", "[bf] {{ plan.name }} {{ plan.state }}")
    monkeypatch.setenv(
        "AIRFLOW__BACKFILL__NOTIFICATION_TEMPLATE", "{{ plan.title }}|{{ plan.failed_lots[0].index }}"
    )
    subject, body = notifiers.message(FACTS, "text")
    assert subject == "[bf] rebuild-q1 failed"
    assert body == "{{ '%0100000000d' % 1 }} <b>Q1</b>|3"
    _, html = notifiers.message(FACTS, "html")
    assert html == "{{ &#39;%0100000000d&#39; % 1 }} &lt;b&gt;Q1&lt;/b&gt;|3"
    monkeypatch.setenv("AIRFLOW__BACKFILL__NOTIFICATION_TEMPLATE", "{{ plan.name.__class__.__mro__ }}")
    with pytest.raises(Exception, match=r"unsafe|not safely|access"):
        notifiers.message(FACTS, "text")


def test_a_target_gets_the_message_in_its_arguments_with_airflows_templating_of_them_off(
    monkeypatch: pytest.MonkeyPatch,
):
    _targets(monkeypatch, team={**LEDGER, "message": "message"})
    monkeypatch.setattr(notifiers, "notifier_class", lambda path: Recorder)
    target = notifiers.targets()["team"]
    built = notifiers.build(target, FACTS)
    assert built.label == "team" and "rebuild-q1" in built.subject and "lot 3" in built.message
    assert built.template_fields == ("label",)  # the deployment's argument stays Airflow's template


def test_airflows_own_notifiers_need_no_message_argument(monkeypatch: pytest.MonkeyPatch):
    smtp = "airflow.providers.smtp.notifications.smtp.SmtpNotifier"
    _targets(monkeypatch, mail={"notifier": smtp, "kwargs": {"to": "data@example.com"}})
    mail = notifiers.targets()["mail"]
    assert (mail.message, mail.subject, mail.format) == ("html_content", "subject", "html")


def test_only_the_deployments_targets_can_be_named(monkeypatch: pytest.MonkeyPatch):
    _targets(monkeypatch, team={"notifier": "airflow.providers.smtp.notifications.smtp.SmtpNotifier"})
    errors = dict(
        notifiers.target_errors(
            ["team", "os.system", "airflow.providers.smtp.notifications.smtp.SmtpNotifier"]
        )
    )
    assert set(errors) == {1, 2}
    assert "no notification target 'os.system'" in errors[1] and "team" in errors[1]
    _targets(monkeypatch, broken={"notifier": "os.system"})
    (only,) = notifiers.target_errors(["broken"])
    assert "BaseNotifier" in only[1] and "administrator" in only[1]
