"""``PageQuery``: a list route's ``?limit=&cursor=``, bounded, as ``PageParams``.

Kept apart from ``core/pagination.py`` so that services, which take ``PageParams``, import no FastAPI.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from kiln.core.pagination import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, PageParams


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page"),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor or None)


PageQuery = Annotated[PageParams, Depends(page_params)]
