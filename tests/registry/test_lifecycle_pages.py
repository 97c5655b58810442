"""The lifecycle in the UI: stages and gates on the version page, production requests decided in the
approvals inbox, rollback, gates and production-on-a-date on the model page."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import FastAPI

from kiln.auth.permissions import Role
from tests.builders.auth import make_account
from tests.builders.registry_lifecycle import add_version, build_model
from tests.registry.lifecycle_api import Person, history, to_production, to_staging
from tests.registry.pages_helpers import browser_of, page_tree, post_form, version_url
from tests.ui.html_tree import parse_html

ACCURACY_GATE = {"metrics": [{"metric": "accuracy", "op": ">=", "value": 0.9}]}


def test_a_member_sees_stages_aliases_and_the_timeline(
    app: FastAPI, engineer: Person, approver: Person
) -> None:
    [first, second] = build_model(app, versions=2)
    to_production(engineer.client, approver.client, first.model, 1)
    with browser_of(app, engineer.account) as browser:
        moved = post_form(
            browser,
            version_url(first.model, 2),
            f"/models/{first.model}/aliases",
            {"alias": "challenger", "version": "2"},
        )
        assert moved.status_code == 303, moved.text[:2000]
        model = page_tree(browser, f"/models/{first.model}")
        version = page_tree(browser, version_url(first.model, 1))
    assert "version 1" in model.find(id="production-version").text()
    assert "@challenger → v2" in model.find(id="model-aliases").text()
    timeline = model.find(id="stage-timeline")
    changes = [(item.attrs["data-version"], item.attrs["data-to"]) for item in timeline.find_all("li")]
    assert changes == [("1", "production"), ("1", "staging")]  # newest first
    assert timeline.find_all(
        "a", href=f"/approvals/{history(engineer.client, first.model)[-1]['approval_id']}"
    )
    stages = {
        row.find("td").text(): row.find_all("td")[2].attrs["data-stage"]
        for row in model.find(id="versions-table").find_all("tr")[1:]
    }
    assert stages == {"1": "production", "2": "development"}
    assert version.find(id="version-stage").text() == "production"
    gates = {
        row.attrs["data-gate"]: row.text()
        for row in version.find(id="gate-results").find_all("tr", cls="gate")
    }
    assert "passed" in gates["artifact"]
    assert "passed" in gates["smoke"]
    assert "No lineage recorded yet" in version.find(id="version-lineage").text()
    assert second.number == 2


def test_a_non_member_gets_not_found(app: FastAPI) -> None:
    [built] = build_model(app)
    stranger = make_account(app, role=Role.ml_engineer)
    with browser_of(app, stranger) as browser:
        assert browser.get(f"/models/{built.model}").status_code == 404
        assert browser.get(version_url(built.model, 1)).status_code == 404
        assert "Nothing waits" in browser.get("/approvals").text


def test_forms_are_refused_without_the_csrf_token_or_the_permission(
    app: FastAPI, engineer: Person, viewer: Person
) -> None:
    [built] = build_model(app)
    action = f"{version_url(built.model, 1)}/stage"
    with browser_of(app, engineer.account) as browser:
        forged = browser.post(action, data={"stage": "staging"}, follow_redirects=False)
        assert forged.status_code == 403
        assert "did not come from Kiln" in forged.text
    with browser_of(app, viewer.account) as browser:
        page = page_tree(browser, version_url(built.model, 1))
        assert not page.find_all(id="staging-form")  # no button for what they may not do
        refused = post_form(browser, version_url(built.model, 1), action, {"stage": "staging"})
        assert refused.status_code == 403
        refused = post_form(
            browser, f"/models/{built.model}", f"/models/{built.model}/rollback", {"reason": "x"}
        )
        assert refused.status_code == 403
    assert history(engineer.client, built.model) == []


def test_a_failing_gate_shows_why_and_the_version_stays(app: FastAPI, engineer: Person) -> None:
    [built] = build_model(app, metrics=[{"accuracy": 0.5}], gates=ACCURACY_GATE)
    url = version_url(built.model, 1)
    with browser_of(app, engineer.account) as browser:
        response = post_form(browser, url, f"{url}/stage", {"stage": "staging"})
        assert response.status_code == 409
        tree = parse_html(response.text)
        error = tree.find(id="lifecycle-error").text()
        assert "accuracy is 0.5: does not hold" in error
        assert tree.find(id="version-stage").text() == "development"
        # The failed run is kept on the version: reloading the page still shows which gate failed.
        failed = (
            page_tree(browser, url).find(id="gate-results").find("tr", data_gate="metric: accuracy >= 0.9")
        )
        assert "failed" in failed.text()


def test_request_approve_in_the_inbox_promotes_and_archives_the_old_one(
    app: FastAPI, engineer: Person, approver: Person
) -> None:
    [first] = build_model(app)
    to_production(engineer.client, approver.client, first.model, 1)
    add_version(app, first.model)
    url = version_url(first.model, 2)
    with browser_of(app, engineer.account) as browser:
        assert post_form(browser, url, f"{url}/stage", {"stage": "staging"}).status_code == 303
        missing = post_form(
            browser, url, f"{url}/request-production", {"risk_level": "high", "risk_assessment": ""}
        )
        assert missing.status_code == 422
        assert "risk assessment" in parse_html(missing.text).find(id="lifecycle-error").text()
        asked = post_form(
            browser,
            url,
            f"{url}/request-production",
            {"risk_level": "high", "risk_assessment": "shadowed a week"},
        )
        assert asked.status_code == 303
        assert "pending-approval" in browser.get(url).text
        own = page_tree(browser, "/approvals").find(id="approvals-list")
        assert "waiting for another approver" in own.text()
        assert not own.find_all("form")
    with browser_of(app, approver.account) as browser:
        inbox = page_tree(browser, "/approvals").find(id="approvals-list")
        [item] = inbox.find_all("li", cls="approval")
        assert f"{first.model} v2" in item.text()
        assert "high risk" in item.text()
        assert "shadowed a week" in item.text()
        approval_id = item.attrs["data-approval-id"]
        blank = post_form(
            browser, "/approvals", f"/approvals/{approval_id}/approve", {"reason": "", "back": "inbox"}
        )
        assert blank.status_code == 422
        approved = post_form(
            browser,
            "/approvals",
            f"/approvals/{approval_id}/approve",
            {"reason": "metrics hold", "back": "inbox"},
        )
        assert approved.status_code == 303
        assert approved.headers["location"] == "/approvals?notice=approval_approved"
        decided = page_tree(browser, "/approvals?status=approved").find(id="approvals-list")
        assert "metrics hold" in decided.text()
        detail = page_tree(browser, f"/approvals/{approval_id}")
        assert detail.find(id="approval-status").text() == "approved"
        model = page_tree(browser, f"/models/{first.model}")
    assert "version 2" in model.find(id="production-version").text()
    stages = [
        (item.attrs["data-version"], item.attrs["data-to"])
        for item in model.find(id="stage-timeline").find_all("li")
    ]
    assert stages[:2] == [("2", "production"), ("1", "archived")]


def test_the_requester_cannot_approve_their_own_request(app: FastAPI, engineer: Person) -> None:
    [built] = build_model(app)
    to_staging(engineer.client, built.model, 1)
    url = version_url(built.model, 1)
    with browser_of(app, engineer.account) as browser:
        post_form(browser, url, f"{url}/request-production", {"risk_level": "low", "risk_assessment": "fine"})
        approval_id = page_tree(browser, "/approvals").find("li", cls="approval").attrs["data-approval-id"]
        refused = post_form(
            browser, f"/approvals/{approval_id}", f"/approvals/{approval_id}/approve", {"reason": "me"}
        )
    assert refused.status_code == 403
    assert "someone else must decide it" in refused.text


def test_rollback_form_needs_a_reason_and_restores_the_previous_version(
    app: FastAPI, engineer: Person, approver: Person
) -> None:
    [first] = build_model(app)
    to_production(engineer.client, approver.client, first.model, 1)
    add_version(app, first.model)
    to_production(engineer.client, approver.client, first.model, 2)
    page = f"/models/{first.model}"
    with browser_of(app, engineer.account) as browser:
        form = page_tree(browser, page).find(id="rollback-form")
        assert "Roll back to version 1" in form.text()
        blank = post_form(browser, page, f"{page}/rollback", {"reason": ""})
        assert blank.status_code == 422
        assert "reason" in parse_html(blank.text).find(id="lifecycle-error").text()
        done = post_form(browser, page, f"{page}/rollback", {"reason": "latency doubled"})
        assert done.status_code == 303
        model = page_tree(browser, done.headers["location"])
    assert "version 1" in model.find(id="production-version").text()
    latest = model.find(id="stage-timeline").find_all("li")[:2]
    assert {(item.attrs["data-version"], item.attrs["data-to"]) for item in latest} == {
        ("2", "failed"),
        ("1", "production"),
    }
    assert "latency doubled" in latest[0].text() + latest[1].text()
    assert not model.find_all(id="rollback-form")  # nothing earlier to return to now


def test_production_on_a_date_answers_which_version(app: FastAPI, engineer: Person, approver: Person) -> None:
    [first] = build_model(app)
    to_production(engineer.client, approver.client, first.model, 1)
    add_version(app, first.model)
    to_production(engineer.client, approver.client, first.model, 2)
    promoted = [
        datetime.fromisoformat(change["changed_at"])
        for change in history(engineer.client, first.model)
        if change["to_stage"] == "production"
    ]
    page = f"/models/{first.model}"

    def answer(at: datetime) -> str:
        return (
            page_tree(browser, f"{page}?at={at.replace(tzinfo=None).isoformat()}")
            .find(id="production-answer")
            .text()
        )

    with browser_of(app, engineer.account) as browser:
        assert "no version was in production" in answer(promoted[0] - timedelta(seconds=1))
        assert "version 1 was in production" in answer(promoted[0])
        assert "version 1 was in production" in answer(promoted[1] - timedelta(microseconds=1))
        assert "version 2 was in production" in answer(promoted[1] + timedelta(days=1))
        wrong = browser.get(f"{page}?at=yesterday")
        assert wrong.status_code == 422
        assert "YYYY-MM-DDTHH:MM" in parse_html(wrong.text).find(id="lifecycle-error").text()


def test_the_gates_form_saves_and_explains_bad_values(app: FastAPI, engineer: Person) -> None:
    [built] = build_model(app, metrics=[{"accuracy": 0.95}])
    page = f"/models/{built.model}"
    with browser_of(app, engineer.account) as browser:
        bad = post_form(
            browser,
            page,
            f"{page}/gates",
            {"gate-0-metric": "accuracy", "gate-0-op": ">=", "gate-0-value": "high"},
        )
        assert bad.status_code == 422
        assert (
            "metrics.0.value: Input should be a valid number"
            in parse_html(bad.text).find(id="lifecycle-error").text()
        )
        saved = post_form(
            browser,
            page,
            f"{page}/gates",
            {
                "gate-0-metric": "accuracy",
                "gate-0-op": ">=",
                "gate-0-value": "0.9",
                "production-metric": "accuracy",
                "production-tolerance": "0.02",
            },
        )
        assert saved.status_code == 303
        assert saved.headers["location"].endswith("notice=gates_saved#model-lifecycle")
        shown = page_tree(browser, saved.headers["location"])
        assert "The gates are saved" in shown.find(id="model-lifecycle").text()
        gates = shown.find(id="model-gates").text()
    assert "accuracy >= 0.9" in gates
    assert "no worse than production by more than 0.02" in gates


def test_a_rejection_keeps_the_version_in_staging(app: FastAPI, engineer: Person, approver: Person) -> None:
    [built] = build_model(app)
    to_staging(engineer.client, built.model, 1)
    url = version_url(built.model, 1)
    with browser_of(app, engineer.account) as browser:
        post_form(browser, url, f"{url}/request-production", {"risk_level": "low", "risk_assessment": "fine"})
    with browser_of(app, approver.account) as browser:
        approval_id = page_tree(browser, "/approvals").find("li", cls="approval").attrs["data-approval-id"]
        detail = f"/approvals/{approval_id}"
        rejected = post_form(browser, detail, f"{detail}/reject", {"reason": "no shadow run yet"})
        assert rejected.headers["location"] == f"{detail}?notice=approval_rejected"
        shown = page_tree(browser, rejected.headers["location"])
        assert shown.find(id="approval-status").text() == "rejected"
        assert shown.find(id="decision-reason").text() == "no shadow run yet"
        assert not shown.find_all(id="decision")
        again = post_form(
            browser, f"/models/{built.model}", f"{detail}/approve", {"reason": "changed my mind"}
        )
        assert again.status_code == 409
        assert "rejected already" in parse_html(again.text).find(id="form-error").text()
        assert page_tree(browser, url).find(id="version-stage").text() == "staging"
        assert "Nothing waits" in page_tree(browser, "/approvals").find(id="approvals-list").text()


def test_an_auditor_reads_the_lifecycle_but_gets_no_forms(
    app: FastAPI, engineer: Person, approver: Person, auditor: Person
) -> None:
    [first] = build_model(app)
    to_production(engineer.client, approver.client, first.model, 1)
    with browser_of(app, auditor.account) as browser:
        model = page_tree(browser, f"/models/{first.model}")
        version = page_tree(browser, version_url(first.model, 1))
        decided = page_tree(browser, "/approvals?status=all").find(id="approvals-list")
    assert "version 1" in model.find(id="production-version").text()
    assert not model.find(id="model-lifecycle").find_all("form", method="post")
    assert not version.find_all(id="lifecycle-actions")
    assert "approved" in decided.text()
    assert not decided.find_all("form")
