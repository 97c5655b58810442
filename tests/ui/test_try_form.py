"""The try-it form for every field type: the inputs it offers, and the record its text becomes
(judged by the signature's own validator, which words every message)."""

from __future__ import annotations

import pytest

from kiln.core.errors import ValidationFailed
from kiln.registry.model_format import FieldSpec, FieldType, Signature
from kiln.registry.signature_validation import validate_records
from kiln.ui.serving.try_form import field_messages, form_fields, submitted_record

SIGNATURE = Signature(
    inputs=[
        FieldSpec(name="items", type=FieldType.integer, minimum=1, maximum=50, default=1),
        FieldSpec(name="express", type=FieldType.boolean),
        FieldSpec(name="tier", type=FieldType.category, allowed=[1, 2, 3], required=False),
        FieldSpec(name="country", type=FieldType.string, description="ISO code"),
    ]
)


def test_each_type_gets_its_control_bounds_and_default() -> None:
    items, express, tier, country = form_fields(SIGNATURE)

    assert (items.control, items.step, items.minimum, items.maximum) == ("number", "1", 1, 50)
    assert (items.value, items.required) == ("1", False)  # a default: may be left empty
    assert "from 1 to 50" in items.hint
    assert "default 1" in items.hint
    assert (express.control, express.options, express.required) == (
        "select",
        [("true", "true"), ("false", "false")],
        True,
    )
    assert (tier.options, tier.required) == ([("1", "1"), ("2", "2"), ("3", "3")], False)
    assert (country.control, country.required) == ("text", True)
    assert country.hint == "string. ISO code"


def test_the_form_text_becomes_the_record_an_api_caller_sends() -> None:
    values = {"items": "3", "express": "false", "tier": "2", "country": "FR"}

    record = submitted_record(SIGNATURE, values)

    assert record == {"items": 3, "express": False, "tier": 2, "country": "FR"}
    assert validate_records(SIGNATURE, [record]).n_rows == 1
    assert "tier" not in submitted_record(SIGNATURE, {**values, "tier": ""})  # empty: left out


def test_text_that_is_not_the_fields_type_reaches_the_validator_as_typed() -> None:
    record = submitted_record(SIGNATURE, {"items": "many", "express": "yes", "tier": "9", "country": ""})

    with pytest.raises(ValidationFailed) as refused:
        validate_records(SIGNATURE, [record])

    messages = field_messages(refused.value)
    assert messages["items"] == ["items: expected an integer between 1 and 50, got 'many'"]
    assert set(messages) == {"items", "express", "tier", "country"}
    fields = form_fields(SIGNATURE, submitted={"items": "many"}, messages=messages)
    assert (fields[0].value, fields[0].messages) == ("many", messages["items"])
