"""Long lists page: a Next link to the following page, and a way back to the first."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.core.db import Database
from kiln.ui.auth.admin_pages import USERS_PER_PAGE
from tests.builders.auth import make_account, make_user
from tests.ui.html_tree import get_page
from tests.ui.sessions import use_session


def test_the_users_page_pages_through_every_account(app: FastAPI, db: Database) -> None:
    admin = make_account(app, role=Role.admin)
    with db.unit_of_work() as session:
        for _ in range(USERS_PER_PAGE):  # with the admin: one more than a page holds
            make_user(session)
    with TestClient(app) as browser:
        use_session(browser, app, admin)
        first = get_page(browser, "/admin/users")
        pager = first.find("nav", cls="pager")
        assert [link.text() for link in pager.find_all("a")] == ["Next"]
        second = get_page(browser, pager.find("a").attrs["href"])
    rows_first = first.find("table").find("tbody").find_all("tr")
    rows_second = second.find("table").find("tbody").find_all("tr")
    assert len(rows_first) == USERS_PER_PAGE
    assert len(rows_second) == 1
    assert [link.text() for link in second.find("nav", cls="pager").find_all("a")] == ["First page"]
    emails = {row.find("td").text() for row in rows_first + rows_second}
    assert len(emails) == USERS_PER_PAGE + 1
