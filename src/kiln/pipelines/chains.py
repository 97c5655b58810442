"""A run's chains: steps handed to one step process together, and the links still to follow.

A chain is a step and the steps that can run right after it in the same process: each the only
step waiting for the one before, and waiting for nothing else. Its head is started as any step
(marked running, handed to the executor); the steps after it are linked here to their futures
until the run's loop learns the process went on to them (``follow``) or the chain ended before
them (``release``: they stay pending and start as usual once the step before has succeeded).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from kiln.pipelines.step_process import StepOutcome


@dataclass
class ChainLinks:
    downstream: dict[str, list[str]]
    upstream: dict[str, list[str]]
    # A step -> the step after it in the chain its process runs, and that step's future.
    links: dict[str, tuple[str, Future[StepOutcome]]] = field(default_factory=dict)

    def chain_from(self, head: str, may_follow: Callable[[str], bool]) -> list[str]:
        """``head`` and the steps after it that its process can run: each the only step waiting for
        the one before, waiting for nothing else, and ``may_follow`` (pending, not cached)."""
        chain = [head]
        while len(following := self.downstream[chain[-1]]) == 1:
            step = following[0]
            if self.upstream[step] != [chain[-1]] or not may_follow(step):
                break
            chain.append(step)
        return chain

    def link(self, chain: list[str], futures: list[Future[StepOutcome]]) -> None:
        """The steps after ``chain``'s head, each to its future (``futures`` in the chain's order)."""
        for index in range(1, len(chain)):
            self.links[chain[index - 1]] = (chain[index], futures[index])

    def follow(self, name: str) -> tuple[str, Future[StepOutcome]] | None:
        """The step after ``name`` in its chain and its future, unlinked; ``None`` if none."""
        return self.links.pop(name, None)

    def release(self, name: str, future: Future[StepOutcome]) -> None:
        """The chain ended before ``name``: it and the steps after it are unlinked, their futures
        cancelled (a step not started never will be; a process still running one was killed)."""
        future.cancel()
        while (link := self.links.pop(name, None)) is not None:
            name, future = link
            future.cancel()

    def after(self, name: str) -> list[Future[StepOutcome]]:
        """The futures of the steps still linked after ``name``."""
        futures = []
        while (link := self.links.get(name)) is not None:
            name = link[0]
            futures.append(link[1])
        return futures
