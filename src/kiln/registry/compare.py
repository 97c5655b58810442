"""Versions side by side: params, metrics, signature, training data and files, for 2 to 20 versions.

The versions may belong to different models, in any of the caller's projects; a version the caller
cannot read answers 404 naming it, exactly like a version that does not exist. Every row's values
follow the order the caller gave, and the first version is the baseline that differences and
metric deltas are measured against. Exports (CSV, HTML) are in ``registry/compare_export.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import NotFound, ValidationFailed
from kiln.core.ids import utcnow
from kiln.registry.model_format import FieldSpec, Signature
from kiln.registry.reads import version_reads
from kiln.registry.schemas import (
    ComparedVersion,
    ComparisonRow,
    MetricRow,
    ModelVersionRead,
    SignatureChange,
    SignificanceSection,
    VersionComparison,
)
from kiln.registry.service import get_version
from kiln.tracking.compare import lower_is_better

MIN_COMPARED = 2
MAX_COMPARED = 20
REF_EXAMPLE = (
    "fraud_detector:3 (or fraud_detector:1.0.0, fraud_detector:production, fraud_detector:@champion)"
)


def parse_ref(text: str) -> tuple[str, str]:
    """``model:version`` into its two parts (model names and labels never hold a colon)."""
    name, sep, ref = text.strip().partition(":")
    if not sep or not name or not ref:
        raise ValidationFailed(
            f"version {text!r} should read model:version, e.g. {REF_EXAMPLE}", details={"version": text}
        )
    return name, ref


def compare_versions(
    session: Session,
    actor: Actor,
    refs: Sequence[tuple[str, str]] | str,
    versions: Sequence[str] | None = None,
    *,
    project: str | None = None,
) -> VersionComparison:
    """Compare versions given as ``[(model, ref), ...]``, or as a model name and its version refs."""
    pairs = [(refs, ref) for ref in versions or []] if isinstance(refs, str) else list(refs)
    pairs = list(dict.fromkeys(pairs))
    if not MIN_COMPARED <= len(pairs) <= MAX_COMPARED:
        raise ValidationFailed(
            f"compare between {MIN_COMPARED} and {MAX_COMPARED} distinct versions; {len(pairs)} given",
            details={"count": len(pairs), "min": MIN_COMPARED, "max": MAX_COMPARED},
        )
    rows = []
    for name, ref in pairs:
        try:
            rows.append(get_version(session, actor, name, ref, project=project))
        except NotFound:
            # A model of another project reads as absent: the same answer, naming what was asked.
            raise NotFound(
                f"version {name}:{ref} not found (no such model or version, or not in your projects)",
                details={"model": name, "version": ref},
            ) from None
    if len({row.id for row in rows}) < len(rows):
        raise ValidationFailed(
            "two of the references name the same version; compare distinct versions",
            details={"versions": [f"{name}:{ref}" for name, ref in pairs]},
        )
    reads = version_reads(session, rows)
    return VersionComparison(
        versions=[_column(f"{name}:{ref}", read) for (name, ref), read in zip(pairs, reads, strict=True)],
        params=_rows([read.params for read in reads]),
        metrics=_metric_rows(reads),
        signature=_rows([_signature_facts(read.signature) for read in reads]),
        signature_changes=_signature_changes([read.signature for read in reads]),
        training_data=_rows([_training_facts(read) for read in reads]),
        files=_rows([_file_facts(read) for read in reads]),
        significance=SignificanceSection(),
        generated_at=utcnow(),
        generated_by=actor.label,
    )


def _column(ref: str, read: ModelVersionRead) -> ComparedVersion:
    return ComparedVersion(
        ref=ref,
        model=read.model_name,
        project_id=read.project_id,
        number=read.number,
        label=read.label,
        description=read.description,
        stage=read.stage,
        flavor=read.flavor,
        estimator_class=read.estimator_class,
        size_bytes=read.size_bytes,
        file_count=len(read.files),
        created_at=read.created_at,
        created_by=read.created_by,
        source_run_id=read.source_run_id,
    )


def _rows(facts: list[dict[str, str]]) -> list[ComparisonRow]:
    """Every key any version has, with each version's value (``None`` where it has none)."""
    keys = sorted({key for fact in facts for key in fact})
    rows = []
    for key in keys:
        values = [fact.get(key) for fact in facts]
        rows.append(ComparisonRow(key=key, values=values, differs=len(set(values)) > 1))
    return rows


def _metric_rows(reads: list[ModelVersionRead]) -> list[MetricRow]:
    keys = sorted({key for read in reads for key in read.metrics})
    rows = []
    for key in keys:
        values = [_finite(read.metrics.get(key)) for read in reads]
        higher = not lower_is_better(key)
        known = [value for value in values if value is not None]
        best_value = (max(known) if higher else min(known)) if known else None
        baseline = values[0]
        rows.append(
            MetricRow(
                key=key,
                values=values,
                differs=len(set(values)) > 1,
                higher_is_better=higher,
                best=[i for i, value in enumerate(values) if value is not None and value == best_value],
                delta=[None if value is None or baseline is None else value - baseline for value in values],
            )
        )
    return rows


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


# -- signature --------------------------------------------------------------------------------


def _describe_input(spec: FieldSpec) -> str:
    """An input as one comparable line: type, bounds, required, allowed values."""
    parts = [spec.type.value]
    if spec.minimum is not None or spec.maximum is not None:
        parts.append(f"[{_bound(spec.minimum)}, {_bound(spec.maximum)}]")
    if not spec.required:
        parts.append(f"optional (default {spec.default!r})")
    if spec.allowed:
        parts.append("one of " + ", ".join(str(value) for value in spec.allowed))
    return " ".join(parts)


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _signature_facts(signature: Signature) -> dict[str, str]:
    facts = {f"inputs.{spec.name}": _describe_input(spec) for spec in signature.inputs}
    facts["input_kind"] = signature.input_kind
    facts["outputs.kind"] = signature.outputs.kind
    if signature.outputs.classes is not None:
        facts["outputs.classes"] = ", ".join(str(value) for value in signature.outputs.classes)
    return facts


def _input_changes(index: int, base: FieldSpec, other: FieldSpec) -> list[SignatureChange]:
    checks = [
        ("type", base.type.value, other.type.value),
        (
            "bounds",
            f"[{_bound(base.minimum)}, {_bound(base.maximum)}]",
            f"[{_bound(other.minimum)}, {_bound(other.maximum)}]",
        ),
        ("required", str(base.required), str(other.required)),
        ("allowed", str(base.allowed), str(other.allowed)),
    ]
    return [
        SignatureChange(version=index, field=base.name, change=change, baseline=was, value=now)
        for change, was, now in checks
        if was != now
    ]


def _signature_changes(signatures: list[Signature]) -> list[SignatureChange]:
    """Each version's signature against the baseline's: inputs added, removed or changed; outputs."""
    base = signatures[0]
    base_inputs = {spec.name: spec for spec in base.inputs}
    changes: list[SignatureChange] = []
    for index, signature in enumerate(signatures[1:], start=1):
        inputs = {spec.name: spec for spec in signature.inputs}
        for name, spec in inputs.items():
            if name not in base_inputs:
                changes.append(
                    SignatureChange(
                        version=index, field=name, change="added", baseline=None, value=_describe_input(spec)
                    )
                )
            else:
                changes.extend(_input_changes(index, base_inputs[name], spec))
        for name, spec in base_inputs.items():
            if name not in inputs:
                changes.append(
                    SignatureChange(
                        version=index,
                        field=name,
                        change="removed",
                        baseline=_describe_input(spec),
                        value=None,
                    )
                )
        base_facts, facts = _signature_facts(base), _signature_facts(signature)
        for key in ("input_kind", "outputs.kind", "outputs.classes"):
            if base_facts.get(key) != facts.get(key):
                changes.append(
                    SignatureChange(
                        version=index,
                        field=key,
                        change="output",
                        baseline=base_facts.get(key),
                        value=facts.get(key),
                    )
                )
    return changes


# -- training data and files ------------------------------------------------------------------


def _training_facts(read: ModelVersionRead) -> dict[str, str]:
    """The datasets a version was trained on, by name: their version, digest and where they live."""
    facts: dict[str, str] = {}
    for item in read.training_inputs:
        name = str(item.get("name") or "unnamed")
        context = item.get("context")
        key = f"{name} ({context})" if context else name
        parts = [
            f"version {item['version']}" if item.get("version") else "",
            f"digest {str(item['digest'])[:12]}" if item.get("digest") else "",
            str(item.get("uri") or item.get("source") or ""),
        ]
        facts[key] = " ".join(part for part in parts if part) or "recorded"
    return facts


def _file_facts(read: ModelVersionRead) -> dict[str, str]:
    facts = {"count": str(len(read.files)), "total_bytes": str(read.size_bytes)}
    for item in read.files:
        facts[f"sha256 {item.path}"] = item.sha256[:16]
    return facts
