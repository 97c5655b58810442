"""A batch that fails its quality checks tells the dataset's owners, in the app and by mail (a real
SMTP server), with what failed, the numbers, the rows quarantined and where to look."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.api import API
from tests.auth.apps import build_app, mail_server
from tests.builders.auth import access_token, api, make_member
from tests.builders.datasets import append, batch, commit, create_telemetry, records_of
from tests.builders.telemetry import START
from tests.notify.mail_server import MailServer

__all__ = ["build_app", "mail_server"]


def test_a_failed_batch_alerts_the_owners_in_the_app_and_by_mail(
    build_app: object, mail_server: MailServer
) -> None:
    app: FastAPI = build_app(smtp={"host": mail_server.host, "port": mail_server.port})  # type: ignore[operator]
    owner = make_member(app, Role.data_scientist, email="owner@kiln.test")
    viewer = make_member(app, Role.viewer, email="viewer@kiln.test")
    with api(app, access_token(app, owner)) as client:
        create_telemetry(client)
        assert append(client, records_of(batch(200, seed=1, start=START))).status_code == 201
        assert commit(client).status_code == 201
        # The next batch: a probe stopped reporting latency on 12% of its rows.
        records = records_of(batch(200, seed=2, start=START + timedelta(days=7)))
        for row in np.random.default_rng(3).choice(200, size=24, replace=False):
            records[int(row)]["latency_ms"] = None
        assert append(client, records).status_code == 201
        made = commit(client)
        assert made.status_code == 201, made.text
        assert made.json()["quality"]["passed"] is False

        mail = mail_server.inbox.wait_for("owner@kiln.test", subject="telemetry v2")
        assert "column `latency_ms`: 12% nulls, up from 0%" in mail.body
        assert "24 rows quarantined" in mail.body
        assert "see http://" in mail.body
        assert "/datasets/telemetry/quarantine" in mail.body

        inbox = client.get(f"{API}/notifications").json()["items"]
        [alert] = [item for item in inbox if item["kind"] == "dataset.quality_failed"]
        assert "telemetry v2 failed its quality checks" in alert["title"]
        assert "latency_ms" in alert["title"]
        assert alert["link"] == f"/datasets/telemetry/quarantine?project={made.json()['project_id']}"

    with api(app, access_token(app, viewer)) as as_viewer:
        kinds = [item["kind"] for item in as_viewer.get(f"{API}/notifications").json()["items"]]
        assert "dataset.quality_failed" not in kinds  # a viewer cannot fix the data


def test_a_clean_batch_alerts_no_one(client: TestClient) -> None:
    create_telemetry(client)
    assert append(client, records_of(batch(50, seed=1, start=START))).status_code == 201
    assert commit(client).json()["quality"]["passed"] is True
    kinds = [item["kind"] for item in client.get(f"{API}/notifications").json()["items"]]
    assert "dataset.quality_failed" not in kinds
