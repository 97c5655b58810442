"""Data ingestion: how fast rows become a readable dataset version, and what checking them costs.

Three parts, in one run (``bash bench/run.sh data``):

1. **Quality checks, in process.** 100k rows of the demo's telemetry (``examples/telemetry.py``,
   1 % bad rows), read from CSV as the server reads an upload, judged by Kiln (``split_rows`` and
   ``check_quality``: conversion, pandera's checks, duplicate keys, row rules, every reason worded,
   the quality report) and by pandera alone with the same checks (``bench/data_checks.py``): seconds
   per 100k rows each, and the ratio (Kiln's overhead on top of the library).
2. **One big upload.** A 1,000,000-row CSV file (and the same rows as Parquet) posted to a fresh
   ``kiln server``: rows/s from the start of the request to the version being readable (its record
   answered and its row count checked), and the server's peak memory while it worked (its process
   tree's RSS, sampled every 20 ms).
3. **Appends.** 1,000-row batches through ``POST /api/v1/datasets/{name}/records`` by 8 parallel
   appenders into a dataset whose ingestion policy commits on request, then one commit: rows/s from
   the first append to the version being readable, and the exact row count (anything but every row
   sent fails the run).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import data_checks
from bench.kiln_login import Identity
from bench.report import Report
from bench.servers import Server, kiln_server
from kiln.data.frame_files import read_upload

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import telemetry  # the demo's generator, a script beside the package

DATASET = "telemetry"


class Peak:
    """The largest RSS of a server's process tree while the block runs."""

    def __init__(self, server: Server, every: float = 0.02) -> None:
        self.server, self.every, self.bytes = server, every, 0
        self._stop = threading.Event()

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.bytes = max(self.bytes, self.server.rss_bytes())
            self._stop.wait(self.every)

    @contextmanager
    def watching(self) -> Iterator[Peak]:
        thread = threading.Thread(target=self._watch, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def quality_checks(report: Report, rows: int, repeats: int) -> None:
    frame = telemetry.generate_telemetry(rows, seed=1, bad_fraction=0.01)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "batch.csv"
        frame.to_csv(path, index=False)
        raw = read_upload(path, "batch.csv")
    schema, rules = telemetry.telemetry_schema(), telemetry.telemetry_rules()
    checker = data_checks.pandera_schema(schema, rules)
    pandera_s, cases = data_checks.best_seconds(lambda: data_checks.pandera_alone(raw, checker), repeats)
    kiln_s, quarantined = data_checks.best_seconds(
        lambda: data_checks.kiln_judging(raw, schema, rules), repeats
    )
    if not quarantined or not cases:
        raise SystemExit("BENCHMARK FAILED: the bad rows were not found")
    per = 100_000 / rows
    report.figure("checks.kiln_s_per_100k_rows", kiln_s * per, "s")
    report.figure("checks.pandera_s_per_100k_rows", pandera_s * per, "s")
    report.figure("checks.kiln_quarantined_rows", quarantined, "rows")
    report.ratio("ratio.checks.kiln_vs_pandera", kiln_s / pandera_s, "Kiln's time over pandera's alone")


def _client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600)


def _create(client: httpx.Client, name: str, **extra: Any) -> None:
    body = {
        "name": name,
        "schema": telemetry.telemetry_schema().model_dump(mode="json"),
        "rules": telemetry.telemetry_rules().model_dump(mode="json"),
        **extra,
    }
    response = client.post("/api/v1/datasets", json=body)
    if response.status_code != 201:
        raise SystemExit(f"BENCHMARK FAILED: creating {name}: {response.text[:300]}")


def _readable_rows(client: httpx.Client, name: str) -> int:
    response = client.get(f"/api/v1/datasets/{name}/versions/latest")
    if response.status_code != 200:
        raise SystemExit(f"BENCHMARK FAILED: reading {name}@latest: {response.text[:300]}")
    return int(response.json()["rows"])


def big_upload(report: Report, server: Server, key: str, rows: int) -> None:
    frame = telemetry.generate_telemetry(rows, seed=3)
    files = {"csv": frame.to_csv(index=False).encode()}
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    files["parquet"] = buffer.getvalue()
    with _client(server.url, key) as client:
        for kind, content in files.items():
            name = f"{DATASET}_{kind}"
            _create(client, name)
            peak = Peak(server)
            with peak.watching():
                started = time.perf_counter()
                response = client.post(
                    f"/api/v1/datasets/{name}/versions", files={"file": (f"big.{kind}", content)}
                )
                if response.status_code != 201:
                    raise SystemExit(f"BENCHMARK FAILED: upload: {response.text[:300]}")
                stored = _readable_rows(client, name)
                seconds = time.perf_counter() - started
            if stored != rows:
                raise SystemExit(f"BENCHMARK FAILED: {rows} rows uploaded, {stored} in the version")
            report.figure(f"upload.{kind}.file_mb", len(content) / 2**20, "MB")
            report.figure(f"upload.{kind}.rows_per_s", rows / seconds, "rows/s")
            report.figure(f"upload.{kind}.seconds", seconds, "s")
            report.figure(f"upload.{kind}.peak_server_rss_mb", peak.bytes / 2**20, "MB")


def appends(report: Report, server: Server, key: str, batches: int, appenders: int) -> None:
    frame = telemetry.generate_telemetry(batches * 1_000, seed=5)
    frame["ts"] = frame["ts"].astype(str)
    records = frame.to_dict("records")
    chunks = [records[i : i + 1_000] for i in range(0, len(records), 1_000)]
    name = f"{DATASET}_appended"
    with _client(server.url, key) as client:
        _create(client, name, ingestion={})  # neither every_rows nor every_minutes: on request

    def send(chunk: list[dict[str, Any]]) -> None:
        with _client(server.url, key) as one:
            response = one.post(f"/api/v1/datasets/{name}/records", json={"records": chunk})
            if response.status_code not in (200, 201, 202):
                raise SystemExit(f"BENCHMARK FAILED: append: {response.text[:300]}")

    peak = Peak(server)
    with peak.watching(), _client(server.url, key) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(appenders) as pool:
            list(pool.map(send, chunks))
        appended = time.perf_counter() - started
        committed = client.post(f"/api/v1/datasets/{name}/versions/commit")
        if committed.status_code not in (200, 201):
            raise SystemExit(f"BENCHMARK FAILED: commit: {committed.text[:300]}")
        stored = _readable_rows(client, name)
        seconds = time.perf_counter() - started
    if stored != len(records):
        raise SystemExit(f"BENCHMARK FAILED: {len(records)} rows appended, {stored} in the version")
    report.figure("append.batches", len(chunks), "batches of 1000 rows")
    report.figure("append.appenders", appenders, "clients")
    report.figure("append.accepted_rows_per_s", len(records) / appended, "rows/s")
    report.figure("append.durable_rows_per_s", len(records) / seconds, "rows/s")
    report.figure("append.peak_server_rss_mb", peak.bytes / 2**20, "MB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--upload-rows", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=200, help="1,000-row appends")
    parser.add_argument("--appenders", type=int, default=8)
    parser.add_argument("--skip-appends", action="store_true")
    args = parser.parse_args()

    report = Report("data")
    quality_checks(report, args.check_rows, args.repeats)
    with (
        tempfile.TemporaryDirectory(prefix="kiln-bench-data-") as home,
        kiln_server(Path(home)) as (server, healthy_s),
    ):
        report.figure("server.healthy_after_start_s", healthy_s, "s")
        key = Identity(server.url, setup_token=server.setup_token()).api_key()
        big_upload(report, server, key, args.upload_rows)
        if not args.skip_appends:
            appends(report, server, key, args.batches, args.appenders)
    print(f"# results: {report.finish()}", file=sys.stderr)


if __name__ == "__main__":
    main()
