"""Kiln demo, part 4: a network team's telemetry feed becomes versioned, checked training data.

Creates the dataset ``telemetry`` (schema and rules from ``telemetry.py``) with the ingestion policy
"a version every 1,000 rows", then appends four days of readings from the feed through the SDK, each
with 5% of the mistakes real feeds make (missing measurements, timeouts, unknown sites, resent rows,
negative jitter). The policy cuts a version during the third append; the fourth day's rows are made a
version on request. Refused rows are kept in the quarantine with their reasons, never dropped.

    KILN_URL=... KILN_TOKEN=<key> python examples/ingest_telemetry.py
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telemetry import START, generate_telemetry, telemetry_rules, telemetry_schema

import kiln

DATASET = "telemetry"
DAYS = 4
ROWS_PER_DAY = 480
EVERY_ROWS = 1_000


def created(client: kiln.Client) -> None:
    try:
        client.datasets.create(
            DATASET,
            telemetry_schema(),
            rules=telemetry_rules(),
            description="link readings of 24 links over 6 sites, with a congestion label",
            ingestion={"every_rows": EVERY_ROWS},
        )
        print(f"dataset {DATASET}: created, a version every {EVERY_ROWS} appended rows")
    except kiln.Conflict:
        print(f"dataset {DATASET}: exists already (a second demo run appends to it)")


def describe(version: Any, how: str) -> None:
    """A version's rows kept and quarantined, the refusals counted by rule (with their columns)."""
    by_rule: dict[str, tuple[int, set[str]]] = {}
    for reason in version.quarantine.by_reason:
        rows, columns = by_rule.get(reason.rule or reason.check, (0, set()))
        by_rule[reason.rule or reason.check] = (rows + reason.rows, columns | {reason.column} - {""})
    reasons = ", ".join(
        f"{rows} {rule}{' (' + ', '.join(sorted(columns)) + ')' if len(columns) == 1 else ''}"
        for rule, (rows, columns) in by_rule.items()
    )
    print(
        f"  {version.ref} ({how}): {version.rows} rows kept, {version.quarantine.rows} quarantined"
        f"{' - ' + reasons if reasons else ''}; quality {'passed' if version.quality.passed else 'FAILED'}"
    )


def main() -> None:
    client = kiln.Client()
    created(client)
    for day in range(DAYS):
        batch = generate_telemetry(
            ROWS_PER_DAY, seed=day, bad_fraction=0.05, start=START + timedelta(days=day), days=1
        )
        result = kiln.datasets.append(batch, DATASET)
        print(f"appended day {day + 1}: {result.rows} rows, {result.pending_rows} pending")
        if result.version is not None:
            describe(result.version, f"cut by the policy at {EVERY_ROWS} rows")
    if client.datasets.pending(DATASET).pending_rows:
        describe(client.datasets.commit(DATASET), "committed on request")

    quarantined = client.datasets.quarantine(DATASET, limit=1)
    print(f"quarantine of {DATASET}: {quarantined.total} rows waiting for review, e.g.")
    for row in quarantined[:1]:
        print(f"  row {row.row_number} of its append: {'; '.join(row.reasons)}")


if __name__ == "__main__":
    main()
