"""Azure's error bodies: the one place an `ApiError` becomes the JSON Azure answers with.

Three families answer differently (the request path says which):
- v1 data plane (`/openai/v1/...`): `{"error": {"code", "message", "param", "type": "error"}}`,
  close to OpenAI's; `code` is the handler's code, else the family code of the status;
- dated data plane (`/openai/...?api-version=`): `{"error": {"code", "message", "target"}}`
  where `code` is one of the dated API's `ErrorCode` values;
- ARM control plane (`/subscriptions/...`): `{"error": {"code", "message", "target",
  "details", "additionalInfo"}}` with ARM's PascalCase codes.
Answers the API gateway gives before any service code runs (bad key, unknown deployment,
missing or unknown api-version) carry the gateway's codes in both data-plane families.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.errors import ApiError

DATED_CODES = frozenset({
    "conflict", "invalidPayload", "forbidden", "notFound", "unexpectedEntityState",
    "itemDoesAlreadyExist", "serviceUnavailable", "internalFailure", "quotaExceeded",
    "jsonlValidationFailed", "fileImportFailed", "tooManyRequests", "unauthorized",
    "contentFilter",
})
GATEWAY_CODES = frozenset({"401", "404", "BadRequest", "DeploymentNotFound"})
_DATA_BY_STATUS = {400: "invalidPayload", 401: "unauthorized", 403: "forbidden",
                   404: "notFound", 405: "invalidPayload", 409: "conflict",
                   429: "tooManyRequests", 500: "internalFailure", 502: "serviceUnavailable",
                   503: "serviceUnavailable", 504: "serviceUnavailable"}
_ARM_BY_STATUS = {400: "BadRequest", 401: "AuthenticationFailed", 403: "AuthorizationFailed",
                  404: "ResourceNotFound", 405: "MethodNotAllowed", 409: "Conflict",
                  429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway",
                  503: "ServiceUnavailable", 504: "GatewayTimeout"}

NO_DEPLOYMENT = ("The API deployment for this resource does not exist. If you created the "
                 "deployment within the last 5 minutes, please wait a moment and try again.")
BAD_KEY = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
           "provide a valid key for an active subscription and use a correct regional API "
           "endpoint for your resource.")


def family(path: str) -> str:
    """`arm`, `v1` or `dated`: which of Azure's API families serves `path`."""
    if path.startswith("/subscriptions/"):
        return "arm"
    return "v1" if path.startswith("/openai/v1/") or path == "/openai/v1" else "dated"


def body(path: str, error: ApiError) -> dict[str, Any]:
    """The JSON body Azure answers `error` with on `path`."""
    kind = family(path)
    if kind == "arm":
        arm: dict[str, Any] = {"code": error.code or _ARM_BY_STATUS.get(error.status, "BadRequest"),
                               "message": error.message}
        if error.param:
            arm["target"] = error.param
        return {"error": {**arm, "details": [], "additionalInfo": []}}
    fallback = _DATA_BY_STATUS.get(error.status, "internalFailure")
    if kind == "v1":
        return {"error": {"code": error.code or fallback, "message": error.message,
                          "param": error.param, "type": "error"}}
    code = error.code if error.code in DATED_CODES | GATEWAY_CODES else fallback
    dated: dict[str, Any] = {"code": code, "message": error.message}
    if error.param:
        dated["target"] = error.param
    return {"error": dated}


def deployment_not_found() -> ApiError:
    """What inference answers for a deployment that does not exist (or is not ready yet)."""
    return ApiError(404, NO_DEPLOYMENT, code="DeploymentNotFound")


def quota(message: str, param: str | None = None) -> ApiError:
    """A per-resource limit reached on the data plane."""
    return ApiError(400, message, param=param, code="quotaExceeded")


def entity_state(message: str, param: str | None = None) -> ApiError:
    """The object exists but is not in a state that allows the request."""
    return ApiError(400, message, param=param, code="unexpectedEntityState")
