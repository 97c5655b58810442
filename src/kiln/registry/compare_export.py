"""A version comparison as CSV (one row per compared field) and as a self-contained HTML report.

The HTML report is one file someone can mail or attach to a review: inline CSS, no scripts, no
external references. Jinja's autoescape escapes every value, so a description or a param that
holds ``<script>`` reads as text. The template lives here, not in the UI, because the API serves it
and the registry must not import the UI.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from jinja2 import Environment, select_autoescape

from kiln.registry.schemas import ComparisonRow, VersionComparison

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
HTML_MEDIA_TYPE = "text/html; charset=utf-8"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def csv_rows(comparison: VersionComparison) -> Iterator[list[str]]:
    """Header, then ``section, key, differs, <one value per version>, note`` for every field."""
    versions = comparison.versions
    yield ["section", "key", "differs", *[version.ref for version in versions], "note"]
    columns = {
        "model": [version.model for version in versions],
        "number": [str(version.number) for version in versions],
        "label": [version.label or "" for version in versions],
        "stage": [version.stage.value for version in versions],
        "flavor": [version.flavor for version in versions],
        "estimator_class": [version.estimator_class or "" for version in versions],
        "size_bytes": [str(version.size_bytes) for version in versions],
        "created_at": [version.created_at.isoformat() for version in versions],
        "created_by": [version.created_by for version in versions],
        "source_run_id": [version.source_run_id or "" for version in versions],
        "description": [version.description for version in versions],
    }
    for key, values in columns.items():
        yield ["version", key, _flag(len(set(values)) > 1), *values, ""]
    yield from _section("params", comparison.params)
    for metric in comparison.metrics:
        best = ", ".join(versions[i].ref for i in metric.best)
        direction = "higher" if metric.higher_is_better else "lower"
        note = f"best ({direction} is better): {best}" if best else ""
        yield ["metrics", metric.key, _flag(metric.differs), *map(_number, metric.values), note]
        yield [
            "metrics.delta",
            metric.key,
            _flag(metric.differs),
            *map(_number, metric.delta),
            "vs the first",
        ]
    yield from _section("signature", comparison.signature)
    yield from _section("training_data", comparison.training_data)
    yield from _section("files", comparison.files)


def _section(name: str, rows: list[ComparisonRow]) -> Iterator[list[str]]:
    for row in rows:
        yield [name, row.key, _flag(row.differs), *[value or "" for value in row.values], ""]


def _flag(differs: bool) -> str:
    return "yes" if differs else "no"


def csv_chunks(comparison: VersionComparison) -> Iterator[str]:
    """The CSV, a line at a time (for a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in csv_rows(comparison):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


_ENVIRONMENT = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_ENVIRONMENT.filters["number"] = _number

_REPORT = _ENVIRONMENT.from_string(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Kiln: comparison of {{ c.versions | map(attribute="ref") | join(", ") }}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1f2328; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
tr.differs td { background: #fff8c5; }
td.best { font-weight: bold; color: #116329; }
.meta, .muted { color: #656d76; }
</style>
</head>
<body>
<h1>Comparison of {{ c.versions | length }} model versions</h1>
<p class="meta">Generated {{ c.generated_at.isoformat() }} by {{ c.generated_by }}.
Highlighted rows differ between versions; the first version is the baseline.</p>
{% macro header(first="field") %}<tr><th>{{ first }}</th>
{%- for v in c.versions %}<th>{{ v.ref }}</th>{% endfor %}</tr>{% endmacro %}
<h2>Versions</h2>
<table>
{{ header() }}
{% for key, get in [("model", "model"), ("number", "number"), ("label", "label"), ("stage", "stage"),
  ("flavor", "flavor"), ("estimator", "estimator_class"), ("size (bytes)", "size_bytes"),
  ("files", "file_count"), ("created at", "created_at"), ("created by", "created_by"),
  ("source run", "source_run_id"), ("description", "description")] %}
<tr><th>{{ key }}</th>
{%- for v in c.versions %}<td>{{ v[get] if v[get] is not none else "" }}</td>{% endfor %}</tr>
{% endfor %}
</table>
{% macro section(title, rows) %}
<h2>{{ title }}</h2>
{% if rows %}<table>{{ header() }}
{% for row in rows %}<tr{% if row.differs %} class="differs"{% endif %}><th>{{ row.key }}</th>
{% for value in row["values"] %}<td>{{ value if value is not none else "—" }}</td>{% endfor %}</tr>
{% endfor %}</table>{% else %}<p class="muted">None recorded.</p>{% endif %}
{% endmacro %}
{{ section("Params", c.params) }}
<h2>Metrics</h2>
{% if c.metrics %}<table>{{ header("metric (difference to the first)") }}
{% for m in c.metrics %}<tr{% if m.differs %} class="differs"{% endif %}>
<th>{{ m.key }} <span class="muted">({{ "higher" if m.higher_is_better else "lower" }} is better)</span></th>
{% for value in m["values"] %}<td{% if loop.index0 in m.best %} class="best"{% endif %}>
{% if value is none %}—{% else %}{{ value | number }}
{%- if not loop.first and m.delta[loop.index0] is not none %}
<span class="muted">({{ "%+.4g" | format(m.delta[loop.index0]) }})</span>
{%- endif %}{% endif %}</td>{% endfor %}</tr>
{% endfor %}</table>{% else %}<p class="muted">None recorded.</p>{% endif %}
{{ section("Signature", c.signature) }}
{% if c.signature_changes %}<h3>Signature changes against {{ c.versions[0].ref }}</h3>
<table><tr><th>version</th><th>field</th><th>change</th><th>baseline</th><th>this version</th></tr>
{% for ch in c.signature_changes %}<tr><td>{{ c.versions[ch.version].ref }}</td><td>{{ ch.field }}</td>
<td>{{ ch.change }}</td><td>{{ ch.baseline or "—" }}</td><td>{{ ch.value or "—" }}</td></tr>{% endfor %}
</table>{% endif %}
{{ section("Training data", c.training_data) }}
{{ section("Files", c.files) }}
<h2>Significance</h2>
<p class="muted">Not available: {{ c.significance.reason }}.</p>
</body>
</html>
"""
)


def html_report(comparison: VersionComparison) -> str:
    return _REPORT.render(c=comparison)


def filename(comparison: VersionComparison, extension: str) -> str:
    """``compare-fraud_detector-3-vs-1.csv``: names and numbers only, safe in a header."""
    first = comparison.versions[0].model
    numbers = "-vs-".join(
        str(v.number) if v.model == first else f"{v.model}-{v.number}" for v in comparison.versions
    )
    return f"compare-{first}-{numbers}.{extension}"
