"""The headline lines of the serving benchmark: Kiln against its best peer and the ceiling, and the
issue's targets, each printed with ``target met`` / ``TARGET MISSED``.

The best peer is chosen per figure (the fastest of MLflow, BentoML and both MLServer settings at that
figure), so Kiln is held to the strongest competitor each time. Ratios above 1 mean Kiln is ahead.
"""

from __future__ import annotations

from bench.report import Report
from bench.serving_measure import Measured

# Targets from the issue (15, serving).
TARGET_VS_PEER = 1.3  # one-row throughput at 16 connections, Kiln / best peer
TARGET_VS_CEILING_PCT = 55.0  # the same, as a share of the bare uvicorn app's
TARGET_P99_C1_MS = 2.0  # p99 latency at one connection
TARGET_BATCH_VS_PEER = 1.0  # 1,000-row batches: at least as fast as the best peer (rows/s)
TARGET_HEALTHY_S = 3.0
TARGET_IDLE_MB = 250.0


def _met(ok: bool) -> str:
    return "target met" if ok else "TARGET MISSED"


def _best(peers: list[Measured], pick: str) -> Measured:
    rate = {"single": lambda m: m.single.per_second, "batch": lambda m: m.batch_rows_per_s}[pick]
    return max(peers, key=rate)


def against_peers(
    report: Report, kiln: Measured, peers: list[Measured], ceiling: Measured | None, *, prefix: str
) -> int:
    """The throughput and latency targets for one Kiln endpoint; how many were met."""
    met = 0
    best = _best(peers, "single")
    ratio = kiln.single.per_second / best.single.per_second
    ok = ratio >= TARGET_VS_PEER
    met += ok
    report.ratio(
        f"ratio.{prefix}.single_c16_vs_best_peer",
        ratio,
        f"best peer {best.target.label} {best.single.per_second:.0f} req/s; "
        f"target >= {TARGET_VS_PEER} x: {_met(ok)}",
    )
    for peer in peers:
        report.ratio(
            f"ratio.{prefix}.single_c16_vs_{peer.target.name}",
            kiln.single.per_second / peer.single.per_second,
            f"{peer.target.label} {peer.single.per_second:.0f} req/s",
        )
    if ceiling is not None:
        pct = 100 * kiln.single.per_second / ceiling.single.per_second
        ok = pct >= TARGET_VS_CEILING_PCT
        met += ok
        report.ratio(
            f"ratio.{prefix}.single_c16_vs_ceiling_pct",
            pct,
            f"ceiling {ceiling.single.per_second:.0f} req/s; "
            f"target >= {TARGET_VS_CEILING_PCT:.0f} %: {_met(ok)}",
            unit="%",
        )
    ok = kiln.c1.p99_ms < TARGET_P99_C1_MS
    met += ok
    report.ratio(
        f"ratio.{prefix}.single_c1_p99_ms",
        kiln.c1.p99_ms,
        f"p50 {kiln.c1.p50_ms:.2f} ms; target < {TARGET_P99_C1_MS} ms: {_met(ok)}",
        unit="ms",
    )
    # Not a target: the server's CPU per one-row request, which a busy machine stretches much less
    # than it stretches throughput (other processes' load takes wall time, not this tree's CPU).
    frugal = min(peers, key=lambda m: m.single.server_cpu_ms)
    report.ratio(
        f"ratio.{prefix}.single_c16_server_cpu_vs_best_peer",
        frugal.single.server_cpu_ms / kiln.single.server_cpu_ms,
        f"{frugal.target.label} {frugal.single.server_cpu_ms:.2f} ms/req ÷ Kiln "
        f"{kiln.single.server_cpu_ms:.2f} ms/req; above 1: Kiln uses less",
    )
    best = _best(peers, "batch")
    ratio = kiln.batch_rows_per_s / best.batch_rows_per_s
    ok = ratio >= TARGET_BATCH_VS_PEER
    met += ok
    report.ratio(
        f"ratio.{prefix}.batch1000_vs_best_peer",
        ratio,
        f"best peer {best.target.label} {best.batch_rows_per_s:.0f} rows/s; "
        f"target >= {TARGET_BATCH_VS_PEER} x: {_met(ok)}",
    )
    return met


def server_targets(report: Report, kiln: Measured) -> int:
    met = 0
    healthy = kiln.target.healthy_s
    if healthy is not None:
        ok = healthy < TARGET_HEALTHY_S
        met += ok
        report.ratio(
            "ratio.kiln.healthy_after_start_s",
            healthy,
            f"to the deployment ready; target < {TARGET_HEALTHY_S:.0f} s: {_met(ok)}",
            unit="s",
        )
    if kiln.idle_rss_mb is not None:
        ok = kiln.idle_rss_mb < TARGET_IDLE_MB
        met += ok
        report.ratio(
            "ratio.kiln.idle_rss_mb",
            kiln.idle_rss_mb,
            f"after warm-up; target < {TARGET_IDLE_MB:.0f} MB: {_met(ok)}",
            unit="MB",
        )
    return met


def verdict(
    report: Report,
    kiln: Measured,
    peers: list[Measured],
    ceiling: Measured | None,
    oip: Measured | None,
) -> None:
    if not peers:
        report.note("no peer was measured: no ratios")
        return
    met = against_peers(report, kiln, peers, ceiling, prefix="kiln") + server_targets(report, kiln)
    total = 6 - (ceiling is None)
    report.ratio("targets.kiln_predict_met", met, f"of {total} targets", unit="met")
    if oip is not None:
        met = against_peers(report, oip, peers, ceiling, prefix="kiln_oip")
        report.ratio(
            "targets.kiln_oip_met", met, f"of {4 - (ceiling is None)} throughput/latency targets", unit="met"
        )
