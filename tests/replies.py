"""Check real replies against the response model their route declares (`realname.contract`).

``watch_replies(client, app)`` adds a response hook to an httpx client: every 2xx JSON reply of a
declared route is validated (strict JSON mode, as schemathesis' ``response_schema_conformance``
will) against the route's ``response=`` model. A reply that drifts from its declaration fails the
test that made the request. ``checked`` counts the replies validated, per route path.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from pydantic import BaseModel, TypeAdapter
from sanic import Sanic

from realname.contract import declaration

checked: Counter[str] = Counter()
_adapters: dict[int, TypeAdapter[Any]] = {}


def _adapter(model: Any) -> TypeAdapter[Any]:
    key = id(model)
    if key not in _adapters:
        _adapters[key] = TypeAdapter(model)
    return _adapters[key]


def check_reply(app: Sanic, response: httpx.Response) -> bool:
    """Validate one reply against its route's declared response; True when it was checked."""
    if not 200 <= response.status_code < 300:
        return False
    if "application/json" not in response.headers.get("content-type", ""):
        return False
    request = response.request
    try:
        route, handler, _params = app.router.get(request.url.path, request.method, request.url.host)
    except Exception:  # noqa: BLE001 - not one of our routes (static files, /docs)
        return False
    decl = declaration(handler)
    if decl is None or decl.response is None or isinstance(decl.response, (str, dict)):
        return False
    model = decl.response
    if isinstance(model, type) and issubclass(model, BaseModel):
        model.model_validate_json(response.content, strict=True)
    else:
        _adapter(model).validate_json(response.content, strict=True)
    checked[route.path] += 1
    return True


def watch_replies(client: httpx.AsyncClient, app: Sanic) -> None:
    """Validate every reply `client` receives (see the module docstring)."""

    async def hook(response: httpx.Response) -> None:
        await response.aread()
        check_reply(app, response)

    client.event_hooks["response"] = [*client.event_hooks["response"], hook]
