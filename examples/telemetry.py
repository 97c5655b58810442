"""Kiln demo data: seeded, realistic network telemetry with a congestion label, its schema and rules.

Each row is one reading of one link (24 links over 6 sites) within a window of days: the hour of day
drives the load, the load drives utilization, queueing latency, jitter and packet loss, and a noisy
rule over those (plus peak hours) decides ``congestion`` (0/1), so a classifier can learn it.

``bad_fraction`` turns that share of rows into the mistakes real feeds make, in five equal parts:
a missing measurement, a latency timeout recorded as 65535 ms, an unknown site, a duplicate of an
earlier reading, a negative jitter; ``injected_rows`` says which rows are which.
``drift`` (0 to 1) shifts the measurements: latency up by up to 60%, throughput down by up to 30%
(a degraded upstream), while the congestion rule still follows the underlying load.

    python examples/telemetry.py --rows 1000 --seed 7 --bad-fraction 0.05 > batch.csv
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from kiln.data.rules_spec import DatasetRules, ExpressionRule, NotNullRule
from kiln.data.spec import ColumnSpec, ColumnType, DatasetSchema

SITES = ("ams", "fra", "lon", "mad", "mil", "par")
LINKS_PER_SITE = 4
START = datetime(2026, 1, 5, tzinfo=UTC)
MEASURES = ("throughput_mbps", "latency_ms", "jitter_ms", "packet_loss_pct", "utilization_pct")
BAD_KINDS = ("missing_measure", "latency_timeout", "unknown_site", "duplicate", "negative_jitter")
_SITE_LATENCY_MS = {"ams": 8.0, "fra": 11.0, "lon": 6.0, "mad": 24.0, "mil": 17.0, "par": 9.0}
_CAPACITY_MBPS = (1_000.0, 2_500.0, 10_000.0)
_NETWORK_SEED = 20260105
_FAULTS_STREAM = 7


def telemetry_schema() -> DatasetSchema:
    """The declared schema; measurements may be missing in storage, the rules require them."""
    number = ColumnType.number
    return DatasetSchema(
        columns=[
            ColumnSpec(name="ts", type=ColumnType.datetime, nullable=False, description="reading time, UTC"),
            ColumnSpec(name="site", type=ColumnType.category, nullable=False, categories=list(SITES)),
            ColumnSpec(name="link_id", type=ColumnType.string, nullable=False),
            ColumnSpec(name="hour", type=ColumnType.integer, nullable=False, minimum=0, maximum=23),
            ColumnSpec(name="throughput_mbps", type=number, minimum=0, maximum=100_000),
            ColumnSpec(name="latency_ms", type=number, minimum=0, maximum=10_000),
            ColumnSpec(name="jitter_ms", type=number),
            ColumnSpec(name="packet_loss_pct", type=number, minimum=0, maximum=100),
            ColumnSpec(name="utilization_pct", type=number, minimum=0, maximum=100),
            ColumnSpec(name="congestion", type=ColumnType.integer, nullable=False, minimum=0, maximum=1),
        ],
        key=["link_id", "ts"],
    )


def telemetry_rules() -> DatasetRules:
    """What training needs beyond the schema: every measurement present and plausible."""
    return DatasetRules(
        rules=[
            NotNullRule(name="measures_present", columns=list(MEASURES)),
            ExpressionRule(name="no_negative_jitter", expression="jitter_ms >= 0"),
            # A busy link moving no traffic is a stuck counter, not a reading.
            ExpressionRule(
                name="busy_link_has_traffic", expression="utilization_pct < 5 or throughput_mbps > 0"
            ),
        ]
    )


def generate_telemetry(
    rows: int,
    *,
    seed: int = 0,
    bad_fraction: float = 0.0,
    drift: float = 0.0,
    start: datetime = START,
    days: float = 7.0,
) -> pd.DataFrame:
    """``rows`` readings, reproducible from ``seed``, in the schema's column order, slot by slot."""
    rng = np.random.default_rng(seed)
    links = [(site, f"{site}-{number:02d}") for site in SITES for number in range(1, LINKS_PER_SITE + 1)]
    link = np.arange(rows) % len(links)
    # Readings of a link fall in disjoint time slots, so (link_id, ts) is unique in clean data.
    slots = -(-rows // len(links))
    interval = days * 86_400 / max(slots, 1)
    # Whole seconds inside the slot, never reaching the next slot's first second.
    slot_start = np.floor((np.arange(rows) // len(links)) * interval)
    seconds = slot_start + np.floor(rng.random(rows) * max(np.floor(interval) - 1, 1))
    hour = (pd.Timestamp(start) + pd.to_timedelta(seconds, unit="s")).hour.to_numpy()
    site = np.array([links[index][0] for index in link])

    # The network is the same whatever the seed (a fresh seed is new readings, not new links).
    network = np.random.default_rng(_NETWORK_SEED)
    capacity = np.array(_CAPACITY_MBPS)[network.integers(0, len(_CAPACITY_MBPS), len(links))][link]
    link_load = network.lognormal(0.0, 0.15, len(links))[link]
    daily = 0.55 + 0.3 * np.cos(2 * np.pi * (hour - 19) / 24)
    load = np.clip(daily * link_load + rng.normal(0, 0.1, rows), 0.02, 0.995)
    queueing = 3.0 * load / (1.0 - load + 0.03)
    base = np.array([_SITE_LATENCY_MS[name] for name in site])
    latency = base + queueing + rng.gamma(2.0, 1.5, rows)
    jitter = 0.1 * queueing + rng.gamma(1.5, 0.8, rows)
    loss = np.clip(0.02 + np.maximum(load - 0.85, 0) * 25 * rng.lognormal(0, 0.5, rows), 0, 100)
    throughput = capacity * load * (1 - loss / 100) * rng.normal(1.0, 0.03, rows)

    peak = ((hour >= 17) & (hour <= 22)).astype(float)
    score = 9 * (load - 0.75) + 0.06 * queueing + 0.8 * loss + 0.6 * peak + rng.logistic(0, 0.6, rows)
    congestion = (score > 0).astype("int64")

    latency = latency * (1 + 0.6 * drift)
    throughput = throughput * (1 - 0.3 * drift)
    columns: dict[str, np.ndarray] = {
        "ts": seconds,
        "site": site.astype(object),
        "link_id": np.array([links[index][1] for index in link], dtype=object),
        "hour": hour.astype("int64"),
        "throughput_mbps": throughput.round(1),
        "latency_ms": latency.round(2),
        "jitter_ms": jitter.round(2),
        "packet_loss_pct": loss.round(3),
        "utilization_pct": (load * 100).round(1),
        "congestion": congestion,
    }
    _spoil(columns, injected_rows(rows, seed=seed, bad_fraction=bad_fraction))
    frame = pd.DataFrame(columns)
    frame["ts"] = pd.Timestamp(start) + pd.to_timedelta(frame["ts"], unit="s")
    return frame.astype({"site": "str", "link_id": "str"})


def injected_rows(rows: int, *, seed: int = 0, bad_fraction: float = 0.0) -> dict[str, list[int]]:
    """The rows ``generate_telemetry`` spoils with these arguments, per kind (``BAD_KINDS``); never
    row 0, which a duplicate may copy. A random stream of their own: the clean readings stay the same."""
    rng = np.random.default_rng([seed, _FAULTS_STREAM])
    count = round(rows * bad_fraction)
    chosen = (
        np.sort(rng.choice(np.arange(1, rows), size=count, replace=False)) if count else np.array([], int)
    )
    kinds = np.resize(np.array(BAD_KINDS), count)
    return {kind: chosen[kinds == kind].tolist() for kind in BAD_KINDS}


def _spoil(columns: dict[str, np.ndarray], injected: dict[str, list[int]]) -> None:
    for index, row in enumerate(injected["missing_measure"]):
        columns[MEASURES[index % len(MEASURES)]][row] = np.nan
    columns["latency_ms"][injected["latency_timeout"]] = 65_535.0
    columns["site"][injected["unknown_site"]] = "xx"
    columns["jitter_ms"][injected["negative_jitter"]] *= -1
    columns["jitter_ms"][injected["negative_jitter"]] -= 0.5
    # A duplicate repeats the nearest clean reading before it (a feed resending a row).
    bad = {row for rows in injected.values() for row in rows}
    sources = []
    for row in injected["duplicate"]:
        source = row - 1
        while source in bad:
            source -= 1
        sources.append(source)
    for values in columns.values():
        values[injected["duplicate"]] = values[sources]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bad-fraction", type=float, default=0.0)
    parser.add_argument("--drift", type=float, default=0.0)
    options = parser.parse_args()
    frame = generate_telemetry(
        options.rows, seed=options.seed, bad_fraction=options.bad_fraction, drift=options.drift
    )
    frame.to_csv(sys.stdout, index=False)


if __name__ == "__main__":
    main()
