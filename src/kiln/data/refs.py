"""References to dataset versions: ``dataset:telemetry@7``, ``dataset:telemetry@latest``, ``telemetry@7``.

Pure text (no DataFrames, no database): the SDK, the CLI, runs' inputs and the API parse them alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiln.core.errors import Invalid

PREFIX = "dataset:"
LATEST = "latest"
_REF = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,127})@(?P<version>[^@]*)$")
_EXAMPLES = "dataset:telemetry@7, dataset:telemetry@latest or telemetry@7"


@dataclass(frozen=True, slots=True)
class DatasetRef:
    name: str
    number: int | None  # None: the latest version

    def __str__(self) -> str:
        return f"{PREFIX}{self.name}@{LATEST if self.number is None else self.number}"


def is_dataset_ref(text: str) -> bool:
    """Whether ``text`` claims to be a dataset reference (it may still be malformed)."""
    return text.strip().startswith(PREFIX)


def parse_ref(text: str) -> DatasetRef:
    """``DatasetRef`` of ``text``, or ``Invalid`` saying what is wrong and how it should look."""
    raw = text.strip()
    body = raw.removeprefix(PREFIX)
    match = _REF.match(body)
    if match is None:
        hint = " (it names no version: add @7 or @latest)" if "@" not in body and body else ""
        raise Invalid(
            f"{text!r} is not a dataset reference{hint}; write {_EXAMPLES}",
            details={"ref": text},
        )
    return DatasetRef(name=match["name"], number=parse_version(match["version"], text))


def parse_version(version: str, text: str | None = None) -> int | None:
    """A version as typed: a number from 1, or ``latest`` (None)."""
    if version == LATEST:
        return None
    if version.isdigit() and int(version) >= 1 and version == str(int(version)):
        return int(version)
    shown = text if text is not None else version
    raise Invalid(
        f"{shown!r} names version {version!r}; a version is a number from 1 or 'latest' (e.g. {_EXAMPLES})",
        details={"ref": shown, "version": version},
    )
