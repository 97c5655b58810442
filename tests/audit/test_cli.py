"""``kiln audit verify`` and ``kiln audit export``, run against the test database as an operator would."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from kiln.audit.chain import chain_hash
from kiln.audit.cli import audit_app
from kiln.audit.models import AuditRecord
from kiln.cli.main import app as kiln_app
from kiln.core.settings import get_settings
from tests.audit.builders import remove, reseal_unkeyed, tamper, wipe
from tests.builders.audit import ALICE, BOB, append
from tests.builders.auth import make_account
from tests.builders.core import database
from tests.settings import TEST_AUDIT_KEY


@pytest.fixture
def run_cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("KILN_DATABASE_URL", database_url)
    monkeypatch.setenv("KILN_HOME", str(tmp_path / "cli-home"))
    monkeypatch.setenv("KILN_AUDIT_KEY", TEST_AUDIT_KEY)  # the key the app seals with
    get_settings.cache_clear()  # settings are read once per process
    yield CliRunner()
    get_settings.cache_clear()


def said(result: Result) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture
def five_records(app: FastAPI) -> list[int]:
    return [
        append(app, ALICE, "user.created", "u-1", email="one@example.com"),
        append(app, BOB, "user.login", "u-2"),
        append(app, ALICE, "user.updated", "u-2", role="viewer"),
        append(app, BOB, "user.profile_updated", "u-2", name="Bob"),
        append(app, ALICE, "project.created", "p-1", name="vision"),
    ]


class TestVerify:
    def test_an_intact_trail_verifies(self, run_cli: CliRunner, five_records: list[int]) -> None:
        result = run_cli.invoke(audit_app, ["verify"])
        assert result.exit_code == 0, said(result)
        assert "audit trail intact" in said(result)
        assert "5 records verified" in said(result)

    def test_an_empty_trail_of_a_fresh_install_verifies(self, run_cli: CliRunner, app: FastAPI) -> None:
        result = run_cli.invoke(audit_app, ["verify"])
        assert result.exit_code == 0, said(result)
        assert "0 records verified" in said(result)

    def test_it_prints_the_head_to_keep_and_checks_it_later(
        self, run_cli: CliRunner, app: FastAPI, five_records: list[int]
    ) -> None:
        head = said(run_cli.invoke(audit_app, ["verify"])).split("head ")[1].split()[0]
        seq, digest = head.split(":")
        assert seq == "5"
        assert len(digest) == 64
        append(app, ALICE, "project.created", "p-2")  # the trail grows past the published head
        result = run_cli.invoke(audit_app, ["verify", "--expect-head", head])
        assert result.exit_code == 0, said(result)
        assert "head 6:" in said(result)

    def test_an_expected_head_the_trail_no_longer_holds_fails(
        self, run_cli: CliRunner, app: FastAPI, five_records: list[int]
    ) -> None:
        result = run_cli.invoke(audit_app, ["verify", "--expect-head", f"5:{'0' * 64}"])
        assert result.exit_code == 1
        assert "record 5 no longer has the expected head hash" in said(result)
        result = run_cli.invoke(audit_app, ["verify", "--expect-head", f"9:{'0' * 64}"])
        assert result.exit_code == 1
        assert "the expected head record 9 is gone (the trail ends at 5)" in said(result)

    def test_a_malformed_expected_head_is_refused(self, run_cli: CliRunner, app: FastAPI) -> None:
        result = run_cli.invoke(audit_app, ["verify", "--expect-head", "five"])
        assert result.exit_code == 2
        assert "SEQ:HASH" in said(result)

    def test_rewriting_a_record_and_resealing_the_chain_without_the_key_is_found(
        self, run_cli: CliRunner, app: FastAPI, five_records: list[int]
    ) -> None:
        # The review's reproduction: change record 3, then recompute every later hash and the head
        # with plain sha256, as anyone with database access can.
        tamper(app, 3, details={"role": "admin"})
        reseal_unkeyed(app, start=3)
        result = run_cli.invoke(audit_app, ["verify"])
        assert result.exit_code == 1
        assert "audit trail broken at record 3" in said(result)

    def test_deleting_every_record_and_the_head_is_found(
        self, run_cli: CliRunner, app: FastAPI, five_records: list[int]
    ) -> None:
        make_account(app)
        wipe(app)
        result = run_cli.invoke(audit_app, ["verify"])
        assert result.exit_code == 1
        assert "the trail is empty but 1 accounts exist" in said(result)

    def test_deleting_the_head_alone_is_found(
        self, run_cli: CliRunner, app: FastAPI, five_records: list[int]
    ) -> None:
        wipe(app, records=False)
        result = run_cli.invoke(audit_app, ["verify"])
        assert result.exit_code == 1
        assert "the chain head (audit_head) is missing" in said(result)

    @pytest.mark.parametrize(
        "change",
        [
            {"details": {"email": "someone-else@example.com"}},
            {"actor_id": "mallory-id"},
            {"action": "user.deleted"},
            {"target_id": "u-9"},
        ],
    )
    def test_changing_one_stored_record_is_found_and_named(
        self, run_cli: CliRunner, app: FastAPI, five_records: list[int], change: dict[str, object]
    ) -> None:
        tamper(app, 2, **change)
        result = run_cli.invoke(audit_app, ["verify"])
        assert result.exit_code == 1
        assert "audit trail broken at record 2" in said(result)
        assert "(1 record" in said(result)

    def test_recomputing_the_hash_of_a_changed_record_breaks_the_next_link(
        self, run_cli: CliRunner, app: FastAPI, five_records: list[int]
    ) -> None:
        tamper(app, 3, details={"role": "admin"})
        with database(app).unit_of_work() as session:
            record = session.get(AuditRecord, 3)
            assert record is not None
            forged_hash = chain_hash(record, TEST_AUDIT_KEY.encode())
        tamper(app, 3, hash=forged_hash)
        result = run_cli.invoke(audit_app, ["verify"])
        assert result.exit_code == 1
        assert "broken at record 4" in said(result)

    def test_deleting_the_last_record_is_found(
        self, run_cli: CliRunner, app: FastAPI, five_records: list[int]
    ) -> None:
        remove(app, five_records[-1])
        result = run_cli.invoke(audit_app, ["verify"])
        assert result.exit_code == 1
        assert "broken at record 5" in said(result)

    def test_deleting_a_record_in_the_middle_is_found(
        self, run_cli: CliRunner, app: FastAPI, five_records: list[int]
    ) -> None:
        remove(app, 3)
        result = run_cli.invoke(audit_app, ["verify"])
        assert result.exit_code == 1
        assert "broken at record 3" in said(result)
        assert "missing" in said(result)

    def test_the_kiln_command_offers_it_as_kiln_audit_verify(
        self, run_cli: CliRunner, app: FastAPI, five_records: list[int]
    ) -> None:
        assert run_cli.invoke(kiln_app, ["audit", "verify"]).exit_code == 0
        tamper(app, 2, details={"email": "someone-else@example.com"})
        result = run_cli.invoke(kiln_app, ["audit", "verify"])
        assert result.exit_code == 1
        assert "broken at record 2" in said(result)


class TestExport:
    def test_jsonl_filtered_by_actor(
        self, run_cli: CliRunner, five_records: list[int], tmp_path: Path
    ) -> None:
        out = tmp_path / "alice.jsonl"
        result = run_cli.invoke(audit_app, ["export", "-o", str(out), "--actor", ALICE.id])
        assert result.exit_code == 0, said(result)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert [row["seq"] for row in rows] == [1, 3, 5]
        assert {row["actor_id"] for row in rows} == {ALICE.id}
        assert rows[0]["details"] == {"email": "one@example.com"}
        assert "wrote 3 records" in said(result)

    def test_csv_filtered_by_action(
        self, run_cli: CliRunner, five_records: list[int], tmp_path: Path
    ) -> None:
        out = tmp_path / "logins.csv"
        result = run_cli.invoke(
            audit_app, ["export", "-o", str(out), "--format", "csv", "--action", "user.login"]
        )
        assert result.exit_code == 0, said(result)
        with out.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [(row["seq"], row["actor_id"], row["action"]) for row in rows] == [("2", BOB.id, "user.login")]
        assert "wrote 1 records" in said(result)

    def test_an_unknown_format_is_refused(self, run_cli: CliRunner, app: FastAPI, tmp_path: Path) -> None:
        result = run_cli.invoke(audit_app, ["export", "-o", str(tmp_path / "x"), "--format", "xml"])
        assert result.exit_code == 2
        assert not (tmp_path / "x").exists()
