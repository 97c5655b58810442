"""What it takes to rerun a run, and the one shell script and requirements file Kiln writes for it.

Everything in a run was written by whoever created it, and the script is run by someone else, so
recorded text never reaches an executable line unquoted: comments have control and format
characters escaped, package pins must be valid PEP 508 names with PEP 440 versions (checked again
here, since rows recorded earlier may hold anything), the requirements heredoc ends at a random
delimiter that appears in no line, and git and the command only get quoted, validated arguments.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import unicodedata
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.tracking.environment import known_parts, pin, pin_problem
from kiln.tracking.models import Run
from kiln.tracking.schemas import INPUT_FIELDS, INPUT_TAG_PREFIX, Reproduction, RunInputRead
from kiln.tracking.service import get_experiment, get_run

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_COMMIT = re.compile(r"^[0-9a-fA-F]{4,64}$")
_REMOTE = re.compile(r"^(?:(?:https?|ssh|git)://|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)[^\s]+$")


def reproduce_run(session: Session, actor: Actor, run_id: str) -> Reproduction:
    run = get_run(session, actor, run_id, with_environment=True)
    return build_reproduction(run, experiment=get_experiment(session, actor, run.experiment_id).name)


def build_reproduction(run: Run, *, experiment: str) -> Reproduction:
    known = known_parts(run.environment)
    packages, skipped = _installable(known.packages)
    reproduction = Reproduction(
        run_id=run.id,
        run_name=run.name,
        experiment=experiment,
        params={p.key: p.value for p in run.params},
        inputs=_inputs(run),
        source=run.source,
        command=known.command,
        git=known.git,
        python=known.python,
        platform=known.platform,
        packages=known.packages,
        warnings=[*known.warnings, *skipped],
    )
    requirements = requirements_text(reproduction, packages)
    return reproduction.model_copy(
        update={"requirements": requirements, "script": shell_script(reproduction, requirements)}
    )


def _inputs(run: Run) -> list[RunInputRead]:
    """Inputs given at run creation, then those logged later as ``kiln.input.<name>`` tags."""
    inputs = [RunInputRead.model_validate(item) for item in run.inputs]
    for tag in run.tags:
        if not tag.key.startswith(INPUT_TAG_PREFIX):
            continue
        try:
            described: Any = json.loads(tag.value)
        except ValueError:
            described = None
        if not isinstance(described, dict):
            described = {"name": tag.key.removeprefix(INPUT_TAG_PREFIX), "uri": tag.value}
        fields = {name: str(described.get(name, "")) for name in INPUT_FIELDS}
        inputs.append(RunInputRead.model_validate({**fields, "kind": fields["kind"] or "dataset"}))
    return inputs


def _installable(packages: dict[str, str]) -> tuple[list[str], list[str]]:
    pins: list[str] = []
    skipped: list[str] = []
    for name, version in sorted(packages.items(), key=lambda item: item[0].lower()):
        problem = pin_problem(name, version)
        if problem is None:
            pins.append(pin(name, version))
        else:
            skipped.append(problem)
    return pins, skipped


def comment(text: str) -> str:
    """One ``#`` line: newlines, control and invisible format characters are shown escaped."""
    shown = "".join(
        char.encode("unicode_escape").decode("ascii")
        if unicodedata.category(char) in _ESCAPED_CATEGORIES
        else char
        for char in text
    )
    return f"# {shown}".rstrip()


def requirements_text(reproduction: Reproduction, pins: list[str]) -> str:
    """A pip requirements file: comments and ``name==version`` lines only, never an option."""
    lines = [
        comment(f"Packages of Kiln run {reproduction.run_id} ({reproduction.run_name})"),
        comment(
            f"Python {reproduction.python or 'unknown'} on {reproduction.platform or 'unknown platform'}"
        ),
        *(comment(f"warning: {warning}") for warning in reproduction.warnings),
        *pins,
    ]
    return "\n".join(lines) + "\n"


def command_line(command: list[str]) -> str:
    """``python <script> <args>`` quoted for sh, or '' when there is no script to rerun safely."""
    if not command:
        return ""
    first = command[0]
    # An interactive session, `python -c` / `-m`, or anything that would reach python as an option.
    if not first or first.startswith("-") or first.startswith("<"):
        return ""
    if any(_has_hidden_characters(part) for part in command):
        return ""
    return shlex.join(["python", *command])


def _has_hidden_characters(text: str) -> bool:
    return any(unicodedata.category(char) in _ESCAPED_CATEGORIES for char in text)


def _git_lines(git: dict[str, Any]) -> list[str]:
    commit, remote = git.get("commit"), git.get("remote") or git.get("url")
    if not isinstance(commit, str) or not commit:
        return [comment("The run was not started inside a git repository: fetch the code yourself."), ""]
    lines: list[str] = []
    if git.get("dirty") is True:
        lines.append(
            comment("WARNING: the working tree had uncommitted changes; this commit is not exactly what ran.")
        )
    if isinstance(remote, str) and _REMOTE.match(remote) and "::" not in remote:
        # `--`: a remote can never be read as an option of git clone.
        lines.append(f"git clone -- {shlex.quote(remote)} kiln-reproduce && cd kiln-reproduce")
    elif remote:
        lines.append(comment(f"The recorded git remote {remote!r} is not a plain URL: clone it yourself."))
    if _COMMIT.match(commit):
        lines.append(f"git checkout {commit}")
    else:
        lines.append(comment(f"The recorded commit {commit!r} is not a commit id: check it out yourself."))
    return [*lines, ""]


def _describe_input(item: RunInputRead) -> str:
    parts = [item.name]
    if item.version:
        parts.append(f"version {item.version}")
    if item.digest:
        parts.append(f"digest {item.digest}")
    if item.uri:
        parts.append(item.uri)
    return ", ".join(parts)


def _heredoc_delimiter(lines: list[str]) -> str:
    while True:
        delimiter = f"KILN_REQUIREMENTS_{secrets.token_hex(8)}"
        if all(delimiter not in line for line in lines):
            return delimiter


def shell_script(reproduction: Reproduction, requirements: str) -> str:
    """A POSIX sh script that checks out the code, installs the pins and runs the command."""
    lines = [
        "#!/bin/sh",
        comment(
            f"Reproduce Kiln run {reproduction.run_id} ({reproduction.run_name}) "
            f"of experiment {reproduction.experiment!r}."
        ),
        comment(f"Written by Kiln on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from what the run recorded."),
        comment("Whoever created the run chose its contents: review this script, then run it with sh."),
        comment(
            f"Original interpreter: Python {reproduction.python or 'unknown'} "
            f"on {reproduction.platform or 'unknown'}."
        ),
        "set -eu",
        "",
        *_git_lines(reproduction.git),
    ]
    pins = [line for line in requirements.splitlines() if not line.startswith("#")]
    if pins:
        body = requirements.splitlines()
        delimiter = _heredoc_delimiter(body)
        lines += [
            "python -m venv .venv-reproduce && . .venv-reproduce/bin/activate",
            f"python -m pip install -r /dev/stdin <<'{delimiter}'",
            *body,
            delimiter,
            "",
        ]
    elif reproduction.warnings:
        lines += [comment(f"warning: {warning}") for warning in reproduction.warnings] + [""]
    if reproduction.inputs:
        lines.append(comment("Dataset inputs the run read:"))
        lines += [comment(f"  {_describe_input(item)}") for item in reproduction.inputs]
        lines.append("")
    if reproduction.params:
        lines.append(comment("Params the run logged:"))
        lines += [comment(f"  {key} = {value}") for key, value in sorted(reproduction.params.items())]
        lines.append("")
    command = command_line(reproduction.command)
    if command:
        lines.append(command)
    elif any(_has_hidden_characters(part) for part in reproduction.command):
        # Quoting would keep it inert, but a '\r' could hide what it does from the reader.
        lines += [
            comment("The recorded command holds control or invisible characters, so it is not run:"),
            comment(f"  {shlex.join(reproduction.command)}"),
        ]
    else:
        lines.append(
            comment(
                f"No script command was recorded; the run's source was {reproduction.source or 'unknown'}."
            )
        )
    return "\n".join(lines) + "\n"
