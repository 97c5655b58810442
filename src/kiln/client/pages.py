"""One page of search results: a list of the items, plus the cursor to the next page and the total."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


class ResultPage(list[T]):
    """Iterating (or indexing) gives this page's items; ``next_cursor`` fetches the following page.

    Use ``Client.iter_runs`` / ``Client.iter_experiments`` to walk every page.
    """

    def __init__(
        self, items: Iterable[T], *, next_cursor: str | None = None, total: int | None = None
    ) -> None:
        super().__init__(items)
        self.next_cursor = next_cursor
        self.total = total

    @property
    def items(self) -> list[T]:
        return list(self)

    def __repr__(self) -> str:
        return f"ResultPage({len(self)} items, total={self.total}, next_cursor={self.next_cursor!r})"
