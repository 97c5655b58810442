"""One page of a list: the items, plus the cursor to the next page and (where counted) the total.

Every list call of the SDK returns a ``ResultPage`` (the server's ``Page``) and has an ``iter`` that
follows the cursor; ``fetch_page`` and ``iterate`` are the two helpers each resource uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel

from kiln.client.transport import Transport
from kiln.core.schemas import Page

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


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


def fetch_page(
    transport: Transport, path: str, model: type[M], params: dict[str, Any] | None = None
) -> ResultPage[M]:
    """GET one page of ``path`` (a ``Page`` of ``model`` on the wire)."""
    page = Page[model].model_validate(transport.request("GET", path, params=params))  # type: ignore[valid-type]
    return ResultPage(page.items, next_cursor=page.next_cursor, total=page.total)


def iterate(fetch: Callable[[str | None], ResultPage[T]]) -> Iterator[T]:
    """Every item, page after page: ``fetch(cursor)`` gets one page (``None``: the first)."""
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page
        if not page.next_cursor:
            return
        cursor = page.next_cursor
