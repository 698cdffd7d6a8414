"""The Azure OpenAI dialect of the emulator: its routes (data plane and ARM), who may call
them, which `api-version` each family takes, its error bodies and its response headers.

Auth: the data plane takes the API key in `api-key` (both families), as a bearer token on v1
(what the plain `OpenAI` client sends), or an Entra ID bearer token (the resource's access
token); ARM takes only the access token as a bearer token.
"""

from __future__ import annotations

import hmac
import uuid

from werkzeug.wrappers import Request, Response

from reconciler.emulator import arm, azure_errors, azure_routes
from reconciler.emulator.azure_settings import AzureSettings
from reconciler.emulator.context import json_response
from reconciler.emulator.errors import ApiError

V1_VERSIONS = ("v1", "preview")
DATED_VERSIONS = ("2024-02-01", "2024-06-01", "2024-10-21", "2024-05-01-preview",
                  "2024-08-01-preview", "2024-10-01-preview", "2025-01-01-preview",
                  "2025-02-01-preview", "2025-03-01-preview", "2025-04-01-preview")
ARM_VERSIONS = ("2023-05-01", "2024-10-01", "2025-06-01", "2025-09-01", "2024-04-01-preview",
                "2024-06-01-preview", "2025-04-01-preview", "2025-07-01-preview",
                "2025-10-01-preview")
NO_KEY = ("Access denied due to missing subscription key. Make sure to include subscription "
          "key when making requests to an API.")


class AzureDialect:
    """Azure's paths, auth, versions, error shapes and headers over the shared handlers."""

    base_path = ""  # the endpoint is the server root: /openai/... and /subscriptions/...
    rules = azure_routes.RULES + arm.RULES

    def __init__(self, settings: AzureSettings, api_key: str) -> None:
        self._key = api_key.encode()
        self._token = settings.access_token.encode()

    def admit(self, request: Request) -> None:
        """Refuse a request with the wrong credentials or api-version, as Azure does."""
        kind = azure_errors.family(request.path)
        if kind == "arm":
            self._admit_arm(request)
        else:
            self._admit_data(request, kind)

    def _admit_arm(self, request: Request) -> None:
        token = _bearer(request)
        if token is None:
            raise ApiError(401, "Authentication failed. The 'Authorization' header is missing.",
                           code="AuthenticationFailed")
        if not hmac.compare_digest(token.encode(), self._token):
            raise ApiError(401, "The access token is invalid.",
                           code="InvalidAuthenticationToken")
        version = request.args.get("api-version")
        if version is None:
            raise ApiError(400, "The api-version query parameter (?api-version=) is required "
                           "for all requests.", code="MissingApiVersionParameter")
        if version not in ARM_VERSIONS:
            raise ApiError(400, f"The api-version '{version}' is invalid. The supported "
                           f"versions are '{','.join(ARM_VERSIONS)}'.",
                           code="InvalidApiVersionParameter")

    def _admit_data(self, request: Request, kind: str) -> None:
        key = request.headers.get("api-key")
        bearer = _bearer(request)
        if key is None and bearer is None:
            raise ApiError(401, NO_KEY, code="401")
        allowed = [self._token] + ([self._key] if kind == "v1" else [])
        good = (key is not None and hmac.compare_digest(key.encode(), self._key)) or (
            bearer is not None and any(hmac.compare_digest(bearer.encode(), secret)
                                       for secret in allowed))
        if not good:
            raise ApiError(401, azure_errors.BAD_KEY, code="401")
        version = request.args.get("api-version")
        if kind == "dated" and version is None:
            raise ApiError(404, "Resource not found", code="404")
        known = V1_VERSIONS if kind == "v1" else DATED_VERSIONS
        if version is not None and version not in known:
            raise ApiError(400, "API version not supported", param="api-version",
                           code="BadRequest")

    def error(self, request: Request, error: ApiError) -> Response:
        return json_response(azure_errors.body(request.path, error), error.status,
                             error.headers)

    def stamp(self, request: Request, response: Response) -> None:
        ident = str(uuid.uuid4())
        if azure_errors.family(request.path) == "arm":
            response.headers["x-ms-request-id"] = ident
            response.headers["x-ms-correlation-request-id"] = ident
        else:
            response.headers["apim-request-id"] = ident
            response.headers["x-request-id"] = ident


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
