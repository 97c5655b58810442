"""The ceiling of the serving benchmark: a bare ASGI app under uvicorn that reads the request body and
answers a constant JSON document. No framework, no model: what one uvicorn worker does at most on
this machine, with the same server, event loop and HTTP parser Kiln runs on (uvloop, httptools).

    python -m uvicorn bench.serving_ceiling:app --host 127.0.0.1 --port N
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

BODY = b'{"predictions":[1],"probabilities":[[0.01,0.99]]}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] != "http":  # lifespan: nothing to start
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:  # the whole body is read, as a real endpoint would
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
