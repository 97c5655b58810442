"""The load generator of the serving benchmark: ``wrk``, one thread, a fixed body posted from Lua.

Every run is bounded twice: by wrk's ``-d`` and by a request cap in the Lua script (each wrk thread
stops itself once it has read that many responses), and the process itself by a timeout. wrk's own
summary comes back through the script's ``done`` as one JSON line: requests, duration, latency
percentiles and error counts. Any error (a non-2xx answer, a timeout, a broken connection) fails
the measurement: a throughput of refusals is no throughput.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.servers import Server
from bench.workload import BenchFailure

MARK = "WRK_RESULT "

LUA = """\
local file = assert(io.open({body_path}, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
{headers}
local cap = {cap}
local count = 0

function response(status, headers, body)
  count = count + 1
  if count >= cap then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{mark}{{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"mean_us":%f,"max_us":%d,'
    .. '"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
"""


@dataclass(frozen=True)
class Load:
    """One wrk run's outcome, with the server tree's CPU time over it."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    server_cpu_s: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def server_cpu_ms(self) -> float:
        return self.server_cpu_s / self.requests * 1000 if self.requests else float("nan")


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise BenchFailure("wrk is not installed: run through bench/run.sh (apt-get install -y wrk)")
    return found


def lua_script(folder: Path, name: str, body: bytes, headers: dict[str, str], cap: int) -> Path:
    body_path = folder / f"{name}.body"
    body_path.write_bytes(body)
    lines = {"Content-Type": "application/json", **headers}
    header_lua = "\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in lines.items())
    script = folder / f"{name}.lua"
    script.write_text(LUA.format(body_path=_lua(str(body_path)), headers=header_lua, cap=cap, mark=MARK))
    return script


def _lua(text: str) -> str:
    """A Lua string literal (JSON's escapes are valid Lua escapes for this ASCII text)."""
    return json.dumps(text)


def run_wrk(
    server: Server,
    url: str,
    script: Path,
    *,
    connections: int,
    seconds: float,
    timeout_s: float = 10.0,
    warm_up: bool = False,
) -> Load:
    """``seconds`` of load; a warm-up (``warm_up``) may end before any answer came back (slow batches)."""
    command = [
        wrk_binary(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        "-s",
        str(script),
        url,
    ]
    cpu_before = server.cpu_seconds()
    try:
        finished = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + timeout_s + 30, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchFailure(f"wrk against {url} did not finish in time") from exc
    cpu = server.cpu_seconds() - cpu_before
    lines = [line for line in finished.stdout.splitlines() if line.startswith(MARK)]
    if finished.returncode != 0 or not lines:
        raise BenchFailure(
            f"wrk failed ({finished.returncode}): {finished.stderr[-500:] or finished.stdout[-500:]}"
        )
    result = json.loads(lines[-1][len(MARK) :])
    errors = {k: result[k] for k in ("status", "connect", "read", "write", "timeout") if result[k]}
    if errors or (result["requests"] == 0 and not warm_up):
        raise BenchFailure(
            f"{server.name}: {result['requests']} requests with errors {errors} at {url}:\n"
            f"{server.log_tail(8)}"
        )
    return Load(
        requests=int(result["requests"]),
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        mean_ms=result["mean_us"] / 1000,
        server_cpu_s=cpu,
    )
