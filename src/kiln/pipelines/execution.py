"""Executing one pipeline run: its steps in dependency order, independent ones at once.

Loaded from the run's rows (their durable states, ``step_records``), so a run whose worker died
resumes where it stopped: steps that succeeded are read back and not run again, steps that were
running run again. A step that fails is retried after its ``retry_delay`` (doubling each time)
while it has attempts left; when it fails for good no further step starts, those running finish,
every step not run is marked skipped and the run fails with the step's error and traceback, and
the pipeline's owners are told. A step marked ``cache`` reuses the output of an earlier successful
run of the same function on the same inputs in the project.

An attempt that outlives its timeout (the step's own, else ``KILN_PIPELINE_STEP_TIMEOUT``, counted
from when a process took it) is stopped and counts as failed: its own process is killed (the
worker's other step processes, and the steps running in them, carry on).

The loop costs O(1) per step, not a walk of the run: each step counts the upstream steps it still
waits for, and a step whose count reaches zero joins a heap of ready steps (in the spec's order).
Each pass records the steps that finished and marks the ones it starts in one transaction; when
nothing is left to start, the last outcomes are recorded in the transaction that ends the run. The
run in memory and what it writes beyond a pass's step states (loading and resuming it, an attempt's
outcome, a cached step, cancelling and ending the run) are ``run_records``, which ``Execution``
extends with this loop.

A chain (a step whose only downstream step waits for it alone, and so on) is handed to one process
at once on the local executor: the process runs its steps back to back, each reading the previous
one's output from the artifact store, and sends each outcome the moment it has it, without waiting
for the worker (``step_pool``). The loop follows: each pass marks running the chained steps the
process went on to and records every outcome that has come back, in its one transaction. A step
that fails ends its chain there (its retry starts a new chain from it); a step past its timeout
has its process killed, and the chain's steps after it run again as a new chain if the run goes on.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from kiln.core.ids import utcnow
from kiln.pipelines import step_records
from kiln.pipelines.chains import ChainLinks
from kiln.pipelines.executors import Executor, executor_for
from kiln.pipelines.run_records import RunRecords
from kiln.pipelines.schemas import StepState
from kiln.pipelines.spec import StepSpec
from kiln.pipelines.step_process import PREVIOUS_OUTPUT, StepOutcome, StepTask

# How often the loop looks at timeouts, retries and cancellation while steps run.
_TICK_SECONDS = 0.2
# While a chain goes on in its process, how long a pass lets more of its outcomes come back before
# recording them in its one transaction: fewer commits and wake-ups per step of a chain of short
# steps, each outcome recorded at most this much later.
_GATHER_SECONDS = 0.005


@dataclass
class Execution(RunRecords):
    """The run's loop: its steps handed to an executor as they become ready, until none is left."""

    running: dict[Future[StepOutcome], tuple[str, float]] = field(default_factory=dict)
    chains: ChainLinks = field(init=False)
    # Chained steps the process went on to, to mark running in the next pass: (name, cache key).
    continued: list[tuple[str, str]] = field(default_factory=list)
    chains_stopped: bool = False
    # Futures of chained steps this pass found their process had gone on to.
    went_on: list[Future[StepOutcome]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.chains = ChainLinks(self.downstream, self.upstream)

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        executor = executor_for(
            self.runtime.settings, max(1, min(self.runtime.settings.processes, len(self.order)))
        )
        finished: list[step_records.Finished] = []
        try:
            while True:
                if self.context.cancel_requested:
                    step_records.record_and_start(self.db, self.run_id, finished, [], self._take_continued())
                    finished = []
                    self._stop()
                if not self.running and not self.continued and (self.failure is not None or not self.ready):
                    break  # nothing can start: the last outcomes are recorded as the run ends
                self._record_and_start(executor, finished)
                finished = []
                if self.failure is not None and not self.chains_stopped:
                    # No new step starts: chains end after the step each runs now.
                    self.chains_stopped = True
                    executor.stop_chains(set(self.running))
                if not self.running:
                    waiting = [
                        at for name, at in self.retry_at.items() if self.state[name] is StepState.pending
                    ]
                    if not waiting or self.failure is not None:
                        break
                    self.context.stop.wait(max(0.0, min(waiting) - time.monotonic()))
                    continue
                done, _ = wait(list(self.running), timeout=_TICK_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    finished.extend(self._settle(future))
                finished.extend(self._gather_chain_outcomes())
                finished.extend(self._check_timeouts(executor))
        finally:
            executor.close(kill=self.context.cancel_requested)
        return self._conclude(finished)

    def _settle(self, future: Future[StepOutcome]) -> Iterator[step_records.Finished]:
        """The finished step's outcome, and those of the chained steps after it that have finished
        too (a chain's outcomes that came back together are recorded in one pass)."""
        following: Future[StepOutcome] | None = future
        while following is not None and following.done():
            name, _started = self.running.pop(following)
            outcome = _outcome(following)
            following = self._continue_chain(name, outcome)
            yield self._finished(name, outcome)

    def _gather_chain_outcomes(self) -> list[step_records.Finished]:
        """When chains went on in their processes, the outcomes that come back within
        ``_GATHER_SECONDS`` too, so this pass records them in its one transaction."""
        went_on, self.went_on = self.went_on, []
        if not went_on or self.failure is not None:
            return []
        self.context.stop.wait(_GATHER_SECONDS)
        finished: list[step_records.Finished] = []
        for future in went_on:
            if future in self.running and future.done():
                finished.extend(self._settle(future))
        self.went_on = []
        return finished

    def _continue_chain(self, name: str, outcome: StepOutcome) -> Future[StepOutcome] | None:
        """The future of the step after ``name`` in its chain when the process went on to it (that
        step is now running); otherwise the rest of the chain is let go (its steps stay pending and
        start as usual once their upstream step has succeeded)."""
        link = self.chains.follow(name)
        if link is None:
            return None
        following, future = link
        if (
            outcome.ok
            and outcome.output is not None
            and not future.cancelled()
            and (future.running() or future.done())
        ):
            self.outputs[name] = outcome.output  # the task below reads it for its cache key
            self.state[following] = StepState.running
            self.attempts[following] += 1
            self.running[future] = (following, time.monotonic())
            task = self._task(self.steps[following])
            self.continued.append((following, _cache_key(self.steps[following], task)))
            self.went_on.append(future)
            return future
        self.chains.release(following, future)
        return None

    def _take_continued(self) -> list[tuple[str, str]]:
        continued, self.continued = self.continued, []
        return continued

    def _may_follow(self, name: str) -> bool:
        """Whether ``name`` may run right after its upstream step in that step's process: pending,
        and not cached (a cached step's key needs its inputs' checksums first)."""
        return self.state[name] is StepState.pending and not self.steps[name].cache

    def _submit(self, executor: Executor, names: list[str], tasks: dict[str, StepTask]) -> None:
        now = time.monotonic()
        if not executor.chains:
            for name, future in zip(names, executor.submit_many([tasks[n] for n in names]), strict=True):
                self.running[future] = (name, now)
            return
        for name in names:
            chain = self.chains.chain_from(name, self._may_follow)
            chain_tasks = [tasks[name]] + [self._task(self.steps[step], previous=True) for step in chain[1:]]
            futures = executor.submit_chain(chain_tasks)
            self.running[futures[0]] = (name, now)
            self.chains.link(chain, futures)

    def _take_ready(self, room: int) -> list[str]:
        """Up to ``room`` ready steps, in the spec's order; those waiting out a retry delay stay."""
        now, seen = time.monotonic(), set()
        taken: list[tuple[int, str]] = []
        later: list[tuple[int, str]] = []
        while self.ready and len(taken) < room:
            entry = heapq.heappop(self.ready)
            name = entry[1]
            if self.state[name] is not StepState.pending or name in seen:
                continue
            seen.add(name)
            (later if now < self.retry_at.get(name, 0.0) else taken).append(entry)
        for entry in later:
            heapq.heappush(self.ready, entry)
        return [name for _, name in taken]

    def _record_and_start(self, executor: Executor, finished: list[step_records.Finished]) -> None:
        """Record ``finished`` and start what is ready, in one transaction per pass; a step reused
        from the cache lets its downstream start in the next pass."""
        while True:
            room = executor.capacity - len(self.running)
            names = [] if self.failure is not None else self._take_ready(room)
            continued = self._take_continued()
            if not names and not finished and not continued:
                return
            tasks = {name: self._task(self.steps[name]) for name in names}
            keys = {name: _cache_key(self.steps[name], task) for name, task in tasks.items()}
            taken = step_records.record_and_start(
                self.db, self.run_id, finished, [(name, keys[name]) for name in names], continued
            )
            finished = []
            reused, to_run = False, []
            for name in taken:
                self.state[name] = StepState.running
                self.attempts[name] += 1
                if self.steps[name].cache and self._reuse_cached(name, keys[name]):
                    reused = True
                    continue
                to_run.append(name)
            if to_run:
                self._submit(executor, to_run, tasks)
            if not reused:
                return

    def _task(self, step: StepSpec, *, previous: bool = False) -> StepTask:
        """What a process needs to run ``step``; ``previous``: its upstream step's output is not
        known yet (a chained step takes the one before it in its process, ``PREVIOUS_OUTPUT``)."""
        arguments: dict[str, dict[str, Any]] = {}
        for argument, source in step.inputs.items():
            if source.source == "step":
                arguments[argument] = (
                    PREVIOUS_OUTPUT if previous else {"artifact": self.outputs[str(source.step)]}
                )
            elif source.source == "param":
                arguments[argument] = {"value": self.parameters.get(str(source.param))}
            else:
                arguments[argument] = {"value": source.value}
        attempt = self.attempts[step.name] + 1
        return StepTask(
            run_id=self.run_id,
            step=step.name,
            function=step.function,
            arguments=arguments,
            store_root=self.runtime.store.root_url,
            store_options=dict(self.runtime.store.options),
            allowed_modules=tuple(self.runtime.settings.modules),
            output_key=f"pipelines/runs/{self.run_id}/{step.name}/attempt-{attempt}",
        )

    def _timeout(self, name: str) -> float:
        return self.steps[name].timeout or self.runtime.settings.step_timeout

    def _check_timeouts(self, executor: Executor) -> list[step_records.Finished]:
        now = time.monotonic()
        late: list[tuple[Future[StepOutcome], str, float]] = []
        for future, (name, started) in list(self.running.items()):
            if future.done():
                continue  # its outcome came back (during a pass's gathering): recorded next pass
            if not future.running():
                self.running[future] = (name, now)  # still queued behind other runs' steps
            elif now - started > self._timeout(name):
                late.append((future, name, started))
        if not late:
            return []
        stopping = {future for future, _, _ in late}
        for _, name, _ in late:  # its chained steps too: its process may have gone on to the next
            stopping.update(self.chains.after(name))
        executor.stop(stopping)
        finished = []
        for future, name, started in late:
            del self.running[future]
            seconds = self._timeout(name)
            outcome = step_records.failed_outcome(
                f"TimeoutError: step {name} ran longer than its timeout of {seconds:g} s",
                started_at=utcnow() - timedelta(seconds=now - started),
                wall_seconds=now - started,
            )
            self._continue_chain(name, outcome)  # a failure: the rest of its chain is let go
            finished.append(self._finished(name, outcome))
        return finished


def _outcome(future: Future[StepOutcome]) -> StepOutcome:
    try:
        return future.result()
    except BaseException as exc:  # the step's process died (BrokenProcessPool) or could not start
        return step_records.failed_outcome(
            f"{type(exc).__name__}: the step's process ended without an outcome ({exc})"
        )


def _cache_key(step: StepSpec, task: StepTask) -> str:
    inputs = {
        name: source["artifact"]["sha256"] if "artifact" in source else source.get("value")
        for name, source in task.arguments.items()
    }
    canonical = json.dumps({"function": step.function, "inputs": inputs}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
