"""The deployment page's "try it" form: one input per signature field, and the submission as a record.

The form only translates: HTML sends text, an API caller sends JSON, so each field's text becomes the
JSON value a caller would have typed (``12.5`` a number, ``true`` a boolean, a category's option its
value). Text that does not read as the field's type is passed on as text, and an empty field is left
out, so the signature's own check (``kiln.serving.predicting.answer``) judges every value and words
every message exactly as it does for the API; nothing is validated here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kiln.core.errors import KilnError
from kiln.registry.model_format import FieldSpec, FieldType, Scalar, Signature

# Form names of the inputs: a prefix keeps a field called "csrf_token" apart from the form's token.
PREFIX = "input."
_INTEGER = re.compile(r"[+-]?\d+")
_NUMERIC = (FieldType.number, FieldType.integer)


@dataclass(frozen=True, slots=True)
class TryField:
    name: str
    form_name: str
    element_id: str
    type: str
    control: str  # "number", "text" or "select"
    required: bool
    value: str  # what the input holds: the submitted text, else the default
    hint: str
    placeholder: str = ""
    minimum: float | None = None
    maximum: float | None = None
    step: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value sent, label)
    messages: list[str] = field(default_factory=list)  # the validator's, after a refused submission


def _text(value: Scalar | None) -> str:
    """A scalar as the form shows it (and as ``submitted_record`` reads it back)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _option(value: Scalar) -> str:
    """A select's option value: the JSON of what it stands for (``true``, ``3``, ``"FR"``)."""
    return json.dumps(value)


def _hint(spec: FieldSpec) -> str:
    parts = [spec.type.value]
    if spec.minimum is not None and spec.maximum is not None:
        parts.append(f"from {spec.minimum:g} to {spec.maximum:g}")
    elif spec.minimum is not None:
        parts.append(f"at least {spec.minimum:g}")
    elif spec.maximum is not None:
        parts.append(f"at most {spec.maximum:g}")
    if spec.observed_min is not None and spec.observed_max is not None:
        parts.append(f"seen in training {spec.observed_min:g} to {spec.observed_max:g}")
    if spec.default is not None:
        parts.append(f"default {_text(spec.default)}")
    elif not spec.required:
        parts.append("optional")
    hint = ", ".join(parts)
    return f"{hint}. {spec.description}" if spec.description else hint


def _choices(spec: FieldSpec) -> list[Scalar] | None:
    """The values a select offers: a boolean's two, a category's allowed ones; None for an input."""
    return [True, False] if spec.type is FieldType.boolean else spec.allowed


def form_fields(
    signature: Signature,
    *,
    submitted: Mapping[str, str] | None = None,
    example: Mapping[str, Any] | None = None,
    messages: Mapping[str, list[str]] | None = None,
) -> list[TryField]:
    """The inputs of ``signature`` as form fields, holding what was submitted (or the defaults)."""
    fields = []
    for index, spec in enumerate(signature.inputs):
        choices = _choices(spec)
        options = [(_option(value), _text(value)) for value in choices or []]
        control = "select" if choices else "number" if spec.type in _NUMERIC else "text"
        default = _text(spec.default)
        if choices and spec.default is not None:
            default = _option(spec.default)
        shown = (submitted or {}).get(spec.name, default)
        sample = (example or {}).get(spec.name)
        fields.append(
            TryField(
                name=spec.name,
                form_name=PREFIX + spec.name,
                element_id=f"try-field-{index}",
                type=spec.type.value,
                control=control,
                required=spec.required and spec.default is None,
                value=shown,
                hint=_hint(spec),
                placeholder=f"e.g. {sample}" if sample is not None and not options else "",
                minimum=spec.minimum if control == "number" else None,
                maximum=spec.maximum if control == "number" else None,
                step=("1" if spec.type is FieldType.integer else "any") if control == "number" else None,
                options=options,
                messages=list((messages or {}).get(spec.name, [])),
            )
        )
    return fields


def submitted_values(signature: Signature, form: Mapping[str, Any]) -> dict[str, str]:
    """Each field's submitted text, stripped (a missing field reads as empty)."""
    values = {}
    for spec in signature.inputs:
        raw = form.get(PREFIX + spec.name)
        values[spec.name] = raw.strip()[:10_000] if isinstance(raw, str) else ""
    return values


def _typed(spec: FieldSpec, text: str) -> Any:
    if _choices(spec):  # a select's option is its value as JSON
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return value if isinstance(value, str | int | float | bool) else text
    if spec.type in _NUMERIC:
        try:
            return int(text) if _INTEGER.fullmatch(text) else float(text)
        except ValueError:
            return text
    return text


def submitted_record(signature: Signature, values: Mapping[str, str]) -> dict[str, Any]:
    """The record an API caller would send for these form values; empty fields are left out."""
    return {
        spec.name: _typed(spec, values[spec.name]) for spec in signature.inputs if values.get(spec.name, "")
    }


def field_messages(exc: KilnError) -> dict[str, list[str]]:
    """The validator's messages by field (``details.problems``), to show next to each input."""
    found: dict[str, list[str]] = {}
    problems = exc.details.get("problems")
    for problem in problems if isinstance(problems, list) else []:
        if isinstance(problem, dict) and problem.get("field") and problem.get("message"):
            found.setdefault(str(problem["field"]), []).append(str(problem["message"]))
    return found
