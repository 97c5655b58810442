"""Alert test parts: a real HTTP receiver on loopback, metric windows at chosen times, and jobs run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kiln.core.db import Database
from kiln.core.ids import utcnow
from kiln.jobs.worker import Worker
from kiln.monitoring.alert_delivery import DELIVER
from kiln.monitoring.models import MetricWindow


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next of ``codes`` (then 200), keeping every request."""

    url: str = ""
    codes: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{len(self.requests)} requests within {timeout} s, expected {count}"
                self.changed.wait(remaining)
            return list(self.requests)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.changed:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                code = receiver.codes.pop(0) if receiver.codes else 200
                receiver.changed.notify_all()
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/kiln"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def add_windows(
    db: Database,
    project_id: str,
    deployment: str,
    metric: str,
    values: dict[datetime, float | None],
    *,
    seconds: int = 60,
    version: int | None = None,
    samples: int = 100,
) -> None:
    """Metric windows of the deployment as a whole (or of model ``version`` of it), as the tick
    would have computed them."""
    with db.unit_of_work() as session:
        session.add_all(
            MetricWindow(
                project_id=project_id,
                deployment=deployment,
                model_version_id=None if version is None else f"0190a000-0000-7000-8000-{version:012d}",
                model_version_number=version,
                window_seconds=seconds,
                start=start,
                end=start + timedelta(seconds=seconds),
                metric=metric,
                value=value,
                samples=samples,
                computed_at=utcnow(),
            )
            for start, value in values.items()
        )


def run_deliveries(db: Database, *, later: timedelta = timedelta(0)) -> int:
    """Run the delivery jobs due ``later`` from now (past a retry's backoff)."""
    return Worker(db, kinds=[DELIVER], clock=lambda: utcnow() + later).run_pending()
