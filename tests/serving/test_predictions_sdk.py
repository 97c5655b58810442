"""``client.predictions`` and ``kiln.feedback`` against a real server over HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

import kiln
from tests.builders.serving import at, log_in_default_project
from tests.live_server import serve


@pytest.fixture
def live_url(app: FastAPI, admin_token: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with serve(app) as url:
        monkeypatch.setenv("KILN_URL", url)
        monkeypatch.setenv("KILN_TOKEN", admin_token)
        yield url


def test_list_get_export_and_feedback_through_the_sdk(app: FastAPI, live_url: str, tmp_path: Path) -> None:
    old = log_in_default_project(app, 1, created_at=at("2025-01-01T00:00:00+00:00"))
    ids = log_in_default_project(app, 3)
    failed = log_in_default_project(app, 1, status="error", error="boom")

    with kiln.Client(live_url) as client:
        page = client.predictions.list(limit=2)
        assert [p.request_id for p in page] == [failed[0], ids[2]]
        assert page.next_cursor
        assert [p.request_id for p in client.predictions.iter(page_size=2)] == [*failed, *reversed(ids), *old]
        assert [p.request_id for p in client.predictions.list(status="error")] == failed
        assert [p.request_id for p in client.predictions.list(to="2025-06-01")] == old
        assert len(client.predictions.list(deployment="fraud", version=3, from_="2025-06-01")) == 4

        recorded = kiln.feedback(ids[0], "fraud", {"amount": 120.5})
        assert (recorded.replaced, recorded.actual) == (False, "fraud")
        assert kiln.feedback(ids[0], "legit").replaced is True
        shown = client.predictions.get(ids[0])
        assert shown.feedback is not None
        assert (shown.feedback.actual, shown.feedback.values) == ("legit", None)

        result = client.predictions.feedback_batch(
            [
                {"request_id": ids[1], "actual": 1},
                {"request_id": "0190a000-0000-7000-8000-0000000000ff", "actual": 0},
            ]
        )
        assert (result.recorded, result.unknown) == (1, ["0190a000-0000-7000-8000-0000000000ff"])

        text = client.predictions.export_csv(status="ok")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [row["request_id"] for row in rows] == [*old, *ids]
        written = client.predictions.export_csv(tmp_path / "log.csv", deployment="fraud")
        assert Path(written).read_text().count("\n") == 1 + 5

        with pytest.raises(kiln.NotFound):
            client.predictions.get("0190a000-0000-7000-8000-0000000000ff")
        with pytest.raises(kiln.NotFound):
            kiln.feedback("0190a000-0000-7000-8000-0000000000ff", 1)
        # Checked before anything is sent, with the server's own message.
        with pytest.raises(ValueError, match="is not a date and time"):
            client.predictions.list(from_="yesterday")


def test_feedback_batches_larger_than_one_request_are_split(app: FastAPI, live_url: str) -> None:
    ids = log_in_default_project(app, 1500)
    with kiln.Client(live_url) as client:
        result = client.predictions.feedback_batch({"request_id": i, "actual": i[-1]} for i in ids)
        assert (result.recorded, result.replaced, result.unknown) == (1500, 0, [])
        assert len(result.items) == 1500
