"""``kiln models promote|approve|reject|approvals|rollback|history`` against a live server (and the SDK)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.auth.permissions import Role
from kiln.cli.main import app as cli
from kiln.registry.lifecycle_errors import SelfApprovalRefused
from tests.builders.auth import access_token, make_member
from tests.builders.registry_lifecycle import build_model


def test_promote_approve_roll_back_and_ask_what_was_in_production(
    app: FastAPI, runner: CliRunner, live_url: str
) -> None:
    v1, _v2 = build_model(app, versions=2)
    name = v1.model
    engineer = kiln.Client(live_url, token=access_token(app, make_member(app, Role.ml_engineer)))

    staged = runner.invoke(cli, ["models", "promote", name, "1", "--reason", "offline eval ok"])
    assert staged.exit_code == 0, staged.output
    assert "is now staging" in staged.output
    assert "pass smoke" in staged.output

    missing_risk = runner.invoke(cli, ["models", "promote", name, "1", "--stage", "production"])
    assert missing_risk.exit_code == 1
    assert "--risk-level" in missing_risk.output
    asked = runner.invoke(
        cli,
        [
            "models",
            "promote",
            name,
            "1",
            "-s",
            "production",
            "--risk-level",
            "low",
            "--risk-assessment",
            "shadowed",
        ],
    )
    assert asked.exit_code == 0, asked.output
    [pending] = engineer.model_lifecycle.approvals(status="pending").items
    assert pending.id in asked.output

    own = runner.invoke(cli, ["models", "approve", pending.id, "--reason", "mine"])
    assert own.exit_code == 1
    assert "someone else must decide" in own.output
    inbox = runner.invoke(cli, ["models", "approvals"])
    assert pending.id in inbox.output

    engineer.model_lifecycle.approve(pending.id, reason="reviewed")
    engineer.model_lifecycle.set_stage(name, 2, "staging")
    second = engineer.model_lifecycle.request_production(
        name, 2, risk_assessment="retrained", risk_level="medium"
    )
    # The SDK raises the lifecycle's own error class.
    with pytest.raises(SelfApprovalRefused, match="four-eyes"):
        engineer.model_lifecycle.approve(second.id, reason="mine")
    approved = runner.invoke(cli, ["models", "approve", second.id, "-r", "reviewed"])
    assert approved.exit_code == 0, approved.output
    in_production_2 = engineer.model_lifecycle.production_at(name).at

    rolled = runner.invoke(cli, ["models", "rollback", name, "--reason", "latency doubled"])
    assert rolled.exit_code == 0, rolled.output
    assert "v1 is in production again; v2 is marked failed" in rolled.output

    shown = runner.invoke(cli, ["models", "history", name])
    assert shown.exit_code == 0, shown.output
    assert "latency doubled" in shown.output
    assert "failed" in shown.output
    then = runner.invoke(cli, ["models", "history", name, "--at", in_production_2.isoformat()])
    assert then.exit_code == 0, then.output
    assert f"{name} v2 was in production" in then.output
    bad = runner.invoke(cli, ["models", "history", name, "--at", "yesterday"])
    assert bad.exit_code == 1
    assert "not a date and time" in bad.output
    assert [c.to_stage for c in engineer.model_lifecycle.history(name, version=2)] == [
        "staging",
        "production",
        "failed",
    ]
