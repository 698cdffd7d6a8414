"""Requests as Azure's gateway hands them on: the same request with another JSON body or with
query parameters removed, so the shared OpenAI handlers can serve an Azure request unchanged.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request


def with_json(request: Request, body: dict[str, Any]) -> Request:
    """`request` carrying `body` as its JSON body."""
    raw = json.dumps(body).encode()
    environ = {**request.environ, "wsgi.input": io.BytesIO(raw),
               "CONTENT_LENGTH": str(len(raw)), "CONTENT_TYPE": "application/json"}
    return type(request)(environ)


def without_args(request: Request, drop: Iterable[str] = (), *,
                 prefix: str | None = None) -> Request:
    """`request` without the query parameters named in `drop` or starting with `prefix`."""
    names = set(drop)
    kept = [(key, value) for key, value in request.args.items(multi=True)
            if key not in names and not (prefix and key.startswith(prefix))]
    environ = {**request.environ, "QUERY_STRING": urlencode(kept)}
    return type(request)(environ)
